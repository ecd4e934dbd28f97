"""Queries on a parsed pin map: pins, relays, and instrument resource access (sessions).

:func:`query_resource_access` is the one place where a pin map turns into sessions; the Pin Map
servicer returns it as QueryResourceAccessInformation and Session Management reserves what it
returns. Rules (NI platform spec, section 3.4):

- One resource per DCPower *channel-group name* pin-map wide (same-named groups of different
  instruments merge); its resource name lists every connected channel of the group,
  ``"DCPower1/0, DCPower1/2"``, ordered by instrument then channel number.
- One resource per instrument for DMM, FGen, DAQmx tasks, relay driver modules and custom
  instruments (resource name = instrument name). Scope and Digital Pattern instruments with the
  same ``group`` attribute share a resource whose name joins the instrument names with ","
  (a single-instrument group is just the instrument name).
- Channels: ``"<instrument>/<n>"`` for DCPower, ``"site<n>/<pin>"`` for Digital Pattern (the
  bare pin for system pins), the control line for relays, the bare channel otherwise.
- channel_list joins a resource's distinct channels with ", " in selection order: requested
  sites ascending, then pins in resolved request order, then system pins (site -1).
  channel_mappings has one item per (pin, site) connection in the same order.
- Resources are returned in pin-map order of their first instrument.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from local_ni_platform.pinmap.errors import UnknownPinOrRelayError, UnknownSiteError
from local_ni_platform.pinmap.model import (
    NI_DCPOWER,
    NI_DIGITAL_PATTERN,
    NI_SCOPE,
    SYSTEM_SITE,
    Connection,
    Group,
    Instrument,
    Pin,
    PinMap,
    Relay,
)

_GROUPED_BY_ATTRIBUTE = frozenset({NI_SCOPE, NI_DIGITAL_PATTERN})


@dataclass(frozen=True)
class ChannelMapping:
    """One pin or relay on one site, mapped to a channel of a resource."""

    pin_or_relay_name: str
    site: int
    channel: str
    multiplexer_resource_name: str = ""
    multiplexer_route: str = ""
    multiplexer_type_id: str = ""


@dataclass(frozen=True)
class ResourceAccess:
    """What is needed to open and use one instrument session."""

    resource_name: str
    channel_list: str
    instrument_type_id: str
    channel_mappings: tuple[ChannelMapping, ...]


@dataclass(frozen=True)
class MultiplexerAccess:
    """A multiplexer referenced by the selected connections."""

    resource_name: str
    multiplexer_type_id: str


@dataclass(frozen=True)
class ResourceAccessResult:
    """Answer of :func:`query_resource_access`."""

    resources: tuple[ResourceAccess, ...]
    multiplexers: tuple[MultiplexerAccess, ...]
    group_mappings: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class PinQueryResult:
    """Answer of :func:`query_pins`."""

    pins: tuple[Pin, ...]
    pin_groups: tuple[Group, ...]


@dataclass
class _Resource:
    """A resource being assembled while connections are selected."""

    rank: tuple[int, int]
    resource_name: str
    instrument_type_id: str
    channels: dict[str, None] = field(default_factory=dict)
    mappings: list[ChannelMapping] = field(default_factory=list)


def query_pins(pin_map: PinMap, instrument_type_id: str = "") -> PinQueryResult:
    """Pins (DUT and system) and pin groups, optionally only those wired to a type of instrument.

    With a type, a pin qualifies if any of its connections uses that type, and a group if all of
    its resolved pins qualify.
    """
    if not instrument_type_id:
        return PinQueryResult(pins=pin_map.pins, pin_groups=pin_map.pin_groups)
    wired = {
        connection.pin_or_relay_name
        for connection in pin_map.connections
        if _instrument(pin_map, connection).instrument_type_id == instrument_type_id
    }
    return PinQueryResult(
        pins=tuple(pin for pin in pin_map.pins if pin.name in wired),
        pin_groups=tuple(
            group for group in pin_map.pin_groups if all(pin in wired for pin in group.resolved)
        ),
    )


def query_relays(pin_map: PinMap) -> tuple[tuple[Relay, ...], tuple[Group, ...]]:
    """Relays (site and system) and relay groups."""
    return pin_map.relays, pin_map.relay_groups


def resolve_sites(pin_map: PinMap, sites: Iterable[int]) -> tuple[int, ...]:
    """Requested sites ascending without duplicates; no sites means every site of the pin map.

    Raises:
        UnknownSiteError: a site is not defined in the pin map.
    """
    requested = sorted(set(sites))
    if not requested:
        return pin_map.sites
    unknown = [site for site in requested if site not in pin_map.sites]
    if unknown:
        defined = ", ".join(str(site) for site in pin_map.sites) or "none"
        # NI's message first, word for word (NI's own tests compare it), then which sites exist.
        raise UnknownSiteError(
            f'Pin map does not contain site numbers: "{", ".join(str(site) for site in unknown)}". '
            f"Sites defined in the pin map: {defined}."
        )
    return tuple(requested)


def resolve_pins_and_relays(
    pin_map: PinMap, names: Sequence[str]
) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """Expand groups: the resolved pin/relay names and the mapping of each group to its members.

    No names means every pin and relay; the mapping then covers every group, so a client can
    still look connections up by group name.

    Raises:
        UnknownPinOrRelayError: a name is empty or not a pin, relay or group of the pin map.
    """
    groups = pin_map.groups_by_name
    if not names:
        return pin_map.pin_and_relay_names, {name: group.resolved for name, group in groups.items()}
    members = set(pin_map.pin_and_relay_names)
    resolved: dict[str, None] = {}
    mappings: dict[str, tuple[str, ...]] = {}
    for name in names:
        if not name:
            raise UnknownPinOrRelayError("An empty string was given as a pin or relay name.")
        group = groups.get(name)
        if group is not None:
            mappings[name] = group.resolved
            resolved.update(dict.fromkeys(group.resolved))
        elif name in members:
            resolved[name] = None
        else:
            raise UnknownPinOrRelayError(
                f"'{name}' is not a pin, pin group, relay or relay group of the pin map."
            )
    return tuple(resolved), mappings


def query_resource_access(
    pin_map: PinMap,
    *,
    sites: Iterable[int] = (),
    pin_or_relay_names: Sequence[str] = (),
    instrument_type_id: str = "",
) -> ResourceAccessResult:
    """The resources (sessions) serving the requested pins/relays on the requested sites.

    Empty ``sites``, ``pin_or_relay_names`` or ``instrument_type_id`` mean all. System pins and
    relays are always included for the requested names.

    Raises:
        UnknownSiteError: a site is not defined in the pin map.
        UnknownPinOrRelayError: a name is empty or unknown.
    """
    selected_sites = resolve_sites(pin_map, sites)
    names, group_mappings = resolve_pins_and_relays(pin_map, pin_or_relay_names)
    resources: dict[tuple[str, str, str], _Resource] = {}
    multiplexers: dict[str, None] = {}
    for site in (*selected_sites, SYSTEM_SITE):
        for name in names:
            for connection in pin_map.connections_by_pin_and_site.get((name, site), ()):
                instrument = _instrument(pin_map, connection)
                if instrument_type_id and instrument.instrument_type_id != instrument_type_id:
                    continue
                key = _resource_key(instrument, connection.channel)
                resource = resources.get(key)
                if resource is None:
                    resource = resources[key] = _new_resource(pin_map, key)
                channel = _channel_text(instrument, connection)
                resource.channels[channel] = None
                resource.mappings.append(_mapping(pin_map, connection, channel))
                if connection.multiplexer:
                    multiplexers[connection.multiplexer] = None
    ordered = sorted(resources.values(), key=lambda resource: resource.rank)
    return ResourceAccessResult(
        resources=tuple(
            ResourceAccess(
                resource_name=resource.resource_name,
                channel_list=", ".join(resource.channels),
                instrument_type_id=resource.instrument_type_id,
                channel_mappings=tuple(resource.mappings),
            )
            for resource in ordered
        ),
        multiplexers=tuple(
            MultiplexerAccess(
                resource_name=multiplexer.name,
                multiplexer_type_id=multiplexer.multiplexer_type_id,
            )
            for multiplexer in pin_map.multiplexers
            if multiplexer.name in multiplexers
        ),
        group_mappings=group_mappings,
    )


def _instrument(pin_map: PinMap, connection: Connection) -> Instrument:
    return pin_map.instruments_by_name[connection.instrument]


def _resource_key(instrument: Instrument, channel: str) -> tuple[str, str, str]:
    """(instrument type, "group" or "instrument", name): what one session covers."""
    if instrument.instrument_type_id == NI_DCPOWER:
        group = instrument.channel_group_of(channel)
        if group is not None:
            return (NI_DCPOWER, "group", group.name)
    elif instrument.instrument_type_id in _GROUPED_BY_ATTRIBUTE and instrument.group:
        return (instrument.instrument_type_id, "group", instrument.group)
    return (instrument.instrument_type_id, "instrument", instrument.name)


def _members(pin_map: PinMap, key: tuple[str, str, str]) -> list[Instrument]:
    """The instruments a resource key covers, in pin-map order."""
    type_id, scope, name = key
    if scope == "instrument":
        return [pin_map.instruments_by_name[name]]
    if type_id == NI_DCPOWER:
        return [
            instrument
            for instrument in pin_map.instruments
            if any(group.name == name for group in instrument.channel_groups)
        ]
    return [
        instrument
        for instrument in pin_map.instruments
        if instrument.instrument_type_id == type_id and instrument.group == name
    ]


def _new_resource(pin_map: PinMap, key: tuple[str, str, str]) -> _Resource:
    """Name and rank a resource from the whole pin map (not only the selected connections)."""
    type_id, _, name = key
    members = _members(pin_map, key)
    first = members[0]
    group_index = next(
        (index for index, group in enumerate(first.channel_groups) if group.name == name), 0
    )
    if type_id == NI_DCPOWER:
        resource_name = ", ".join(_connected_dcpower_channels(pin_map, key, members))
    else:
        resource_name = ",".join(instrument.name for instrument in members)
    return _Resource(
        rank=(pin_map.instrument_index[first.name], group_index),
        resource_name=resource_name,
        instrument_type_id=type_id,
    )


def _connected_dcpower_channels(
    pin_map: PinMap, key: tuple[str, str, str], members: list[Instrument]
) -> list[str]:
    """``instrument/channel`` of every channel of the group used by any connection."""
    names = {instrument.name for instrument in members}
    used = {
        (pin_map.instrument_index[connection.instrument], int(connection.channel))
        for connection in pin_map.connections
        if connection.instrument in names
        and _resource_key(_instrument(pin_map, connection), connection.channel) == key
    }
    return [f"{pin_map.instruments[index].name}/{channel}" for index, channel in sorted(used)]


def _channel_text(instrument: Instrument, connection: Connection) -> str:
    if instrument.instrument_type_id == NI_DCPOWER:
        return f"{instrument.name}/{connection.channel}"
    if instrument.instrument_type_id == NI_DIGITAL_PATTERN:
        if connection.site == SYSTEM_SITE:
            return connection.pin_or_relay_name
        return f"site{connection.site}/{connection.pin_or_relay_name}"
    return connection.channel


def _mapping(pin_map: PinMap, connection: Connection, channel: str) -> ChannelMapping:
    multiplexer = pin_map.multiplexers_by_name.get(connection.multiplexer)
    return ChannelMapping(
        pin_or_relay_name=connection.pin_or_relay_name,
        site=connection.site,
        channel=channel,
        multiplexer_resource_name=connection.multiplexer,
        multiplexer_route=connection.route,
        multiplexer_type_id=multiplexer.multiplexer_type_id if multiplexer else "",
    )
