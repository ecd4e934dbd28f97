"""Typed, immutable model of a pin map, as parsed from NI's ``.pinmap`` XML.

Everything the services need is precomputed here (flattened groups, one :class:`Connection` per
pin/relay and site), so queries never look at XML and a parsed pin map can be shared between
threads without locking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

SYSTEM_SITE = -1
"""Site number of system pins and system relays (NI's ``SITE_SYSTEM_PINS``)."""

NI_DCPOWER = "niDCPower"
NI_DMM = "niDMM"
NI_SCOPE = "niScope"
NI_FGEN = "niFGen"
NI_DIGITAL_PATTERN = "niDigitalPattern"
NI_DAQMX = "niDAQmx"
NI_RELAY_DRIVER = "niRelayDriver"


@dataclass(frozen=True)
class ChannelGroup:
    """A DCPower ``ChannelGroup``; ``channels`` None means every channel of the instrument."""

    name: str
    channels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Instrument:
    """An instrument (or DAQmx task, or relay driver module) of the ``Instruments`` section."""

    name: str
    instrument_type_id: str
    element: str
    """XML element name, e.g. ``NIDCPowerInstrument`` (for messages)."""
    channel_groups: tuple[ChannelGroup, ...] = ()
    """DCPower only."""
    group: str = ""
    """The ``group`` attribute of Scope and Digital Pattern instruments ("" if absent)."""
    channels: tuple[str, ...] = ()
    """Declared channel ids of a custom ``Instrument`` (informational)."""

    def channel_group_of(self, channel: str) -> ChannelGroup | None:
        """The DCPower channel group holding ``channel`` (None if the instrument has no groups).

        A group with an explicit ``channels`` list wins over a group without one.
        """
        fallback = None
        for group in self.channel_groups:
            if group.channels is None:
                fallback = fallback or group
            elif channel in group.channels:
                return group
        return fallback


@dataclass(frozen=True)
class Multiplexer:
    """A ``Multiplexer`` instrument."""

    name: str
    multiplexer_type_id: str


@dataclass(frozen=True)
class Pin:
    """A ``DUTPin`` or ``SystemPin``."""

    name: str
    is_system: bool


@dataclass(frozen=True)
class Relay:
    """A ``SiteRelay`` or ``SystemRelay``."""

    name: str
    is_system: bool


@dataclass(frozen=True)
class Group:
    """A pin group or relay group.

    ``references`` are the direct members as written; ``resolved`` is the flattened member list
    (depth-first in reference order, duplicates removed).
    """

    name: str
    references: tuple[str, ...]
    resolved: tuple[str, ...]


@dataclass(frozen=True)
class Connection:
    """One pin or relay on one site (``SYSTEM_SITE`` for system ones) wired to a channel.

    A shared connection (``siteNumber="0,1"``) becomes one Connection per site; a multiplexed
    route fills ``multiplexer`` and ``route``. For relays, ``channel`` is the control line.
    """

    pin_or_relay_name: str
    site: int
    instrument: str
    channel: str
    multiplexer: str = ""
    route: str = ""


@dataclass(frozen=True)
class PinMap:
    """A parsed pin map; all sequences keep document order."""

    schema_version: str
    instruments: tuple[Instrument, ...]
    multiplexers: tuple[Multiplexer, ...]
    pins: tuple[Pin, ...]
    relays: tuple[Relay, ...]
    pin_groups: tuple[Group, ...]
    relay_groups: tuple[Group, ...]
    sites: tuple[int, ...]
    connections: tuple[Connection, ...]

    @cached_property
    def instruments_by_name(self) -> Mapping[str, Instrument]:
        """Instruments by name."""
        return {instrument.name: instrument for instrument in self.instruments}

    @cached_property
    def instrument_index(self) -> Mapping[str, int]:
        """Document position of each instrument, for pin-map ordering."""
        return {instrument.name: index for index, instrument in enumerate(self.instruments)}

    @cached_property
    def multiplexers_by_name(self) -> Mapping[str, Multiplexer]:
        """Multiplexers by name."""
        return {multiplexer.name: multiplexer for multiplexer in self.multiplexers}

    @cached_property
    def groups_by_name(self) -> Mapping[str, Group]:
        """Pin groups and relay groups by name (names are unique across both)."""
        return {group.name: group for group in (*self.pin_groups, *self.relay_groups)}

    @cached_property
    def pin_and_relay_names(self) -> tuple[str, ...]:
        """Every pin, then every relay, in document order."""
        return (*(pin.name for pin in self.pins), *(relay.name for relay in self.relays))

    @cached_property
    def connections_by_pin_and_site(self) -> Mapping[tuple[str, int], tuple[Connection, ...]]:
        """Connections of each (pin or relay, site), in document order."""
        index: dict[tuple[str, int], list[Connection]] = {}
        for connection in self.connections:
            key = (connection.pin_or_relay_name, connection.site)
            index.setdefault(key, []).append(connection)
        return {key: tuple(value) for key, value in index.items()}
