"""A plug-in as scripts, tests and the demo start it: its names and module, and its ready line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple


class PluginInfo(NamedTuple):
    """A plug-in as scripts and tests start it: names from its ``.serviceconfig`` and its module."""

    display_name: str
    service_class: str
    module: str
    """Run as ``python -m <module>``."""

    @classmethod
    def load(cls, service_config_path: Path, module: str) -> PluginInfo:
        """Read the first service of a ``.serviceconfig`` (as NI's ``MeasurementService`` does)."""
        config = json.loads(service_config_path.read_text(encoding="utf-8-sig"))
        service = config["services"][0]
        return cls(service["displayName"], service["serviceClass"], module)

    @property
    def ready_prefix(self) -> str:
        """Start of the ready line; the rest is the plug-in's ``host:port``."""
        return ready_prefix(self.display_name, self.service_class)


def ready_prefix(display_name: str, service_class: str) -> str:
    """The ready line of a plug-in, up to its address."""
    return f"{display_name} ready: {service_class} at "
