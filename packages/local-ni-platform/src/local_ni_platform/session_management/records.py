"""What the service remembers about a session, and how sessions are named.

Session names use the form of InstrumentStudio 2025 Q3 and later,
``f"{instrument_type_id}-{resource_name}"`` (e.g. ``"niDMM-DMM1"``), everywhere: the type prefix
keeps, say, a DMM and a DCPower resource of the same name apart on the device server. Multiplexer
sessions are named by their resource name, unprefixed, as NI does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


def session_name(instrument_type_id: str, resource_name: str) -> str:
    """The session name of a pin-map resource: ``"<instrument type id>-<resource name>"``."""
    return f"{instrument_type_id}-{resource_name}"


@dataclass(frozen=True)
class SessionRecord:
    """An instrument session as reserved or registered (no channels: they vary per request)."""

    name: str
    resource_name: str = ""
    instrument_type_id: str = ""
    annotations: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A read-only copy keeps stored records immutable even if the caller's dict changes.
        object.__setattr__(self, "annotations", MappingProxyType(dict(self.annotations)))


@dataclass(frozen=True)
class MultiplexerRecord:
    """A registered multiplexer session."""

    name: str
    resource_name: str = ""
    multiplexer_type_id: str = ""
    annotations: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "annotations", MappingProxyType(dict(self.annotations)))
