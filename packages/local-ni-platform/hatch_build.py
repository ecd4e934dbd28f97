"""Hatch build hook: ship local_ni_platform's ``.pth`` activation file at the wheel's root.

Python runs ``import`` lines of ``.pth`` files at start-up; ours installs a tiny import hook that
points NI's discovery client at the local Discovery Service on non-Windows machines (see
``local_ni_platform/activation.py``). Editable installs need it too, hence both maps.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PTH_SOURCE = "src/local_ni_platform/local_ni_platform_activation.pth"
PTH_TARGET = "local_ni_platform_activation.pth"


class ActivationPthHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds the activation ``.pth`` file to regular and editable wheels."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Map the .pth file to the root of the wheel."""
        build_data["force_include"][PTH_SOURCE] = PTH_TARGET
        build_data.setdefault("force_include_editable", {})[PTH_SOURCE] = PTH_TARGET
