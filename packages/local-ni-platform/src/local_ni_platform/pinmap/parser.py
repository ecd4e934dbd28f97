"""Parse NI's pin-map XML (``.pinmap``, schema versions 1.x) into a :class:`PinMap`.

Checks what later queries rely on (every reference resolves, names are unique, DCPower channels
are numbers in a channel group) so a bad file fails at UpdatePinMapFromXml with a message naming
the element, instead of at reservation time.

Supported instrument elements: ``NIDCPowerInstrument`` (with ``ChannelGroup``), ``NIDmmInstrument``,
``NIScopeInstrument``, ``NIFGenInstrument``, ``NIDigitalPatternInstrument``, ``NIDAQmxTask``,
``NIRelayDriverModule``, ``Multiplexer`` and custom ``Instrument{name,instrumentTypeId}``. Any
other instrument or connection element is refused (InvalidPinMapError naming it) rather than
silently dropped. Unknown top-level sections are ignored with a warning.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable

from local_ni_platform.pinmap.errors import InvalidPinMapError
from local_ni_platform.pinmap.model import (
    NI_DAQMX,
    NI_DCPOWER,
    NI_DIGITAL_PATTERN,
    NI_DMM,
    NI_FGEN,
    NI_RELAY_DRIVER,
    NI_SCOPE,
    SYSTEM_SITE,
    ChannelGroup,
    Connection,
    Group,
    Instrument,
    Multiplexer,
    Pin,
    PinMap,
    Relay,
)

_logger = logging.getLogger(__name__)

NAMESPACE = "http://www.ni.com/TestStand/SemiconductorModule/PinMap.xsd"
"""XML namespace of NI pin maps (a document without a namespace is accepted too)."""

_SCHEMA_VERSION = re.compile(r"1\.\d+")
_BOM = "\ufeff"

_SIMPLE_INSTRUMENTS: dict[str, str] = {
    "NIDmmInstrument": NI_DMM,
    "NIScopeInstrument": NI_SCOPE,
    "NIFGenInstrument": NI_FGEN,
    "NIDigitalPatternInstrument": NI_DIGITAL_PATTERN,
    "NIDAQmxTask": NI_DAQMX,
    "NIRelayDriverModule": NI_RELAY_DRIVER,
}


def parse_pin_map(xml: str) -> PinMap:
    """Parse pin-map XML text (a leading BOM is tolerated).

    Raises:
        InvalidPinMapError: the text is not well-formed XML, not a pin map, or inconsistent.
    """
    text = xml[1:] if xml.startswith(_BOM) else xml
    if "<!DOCTYPE" in text:
        # Pin maps never declare a DTD; refusing one rules out entity-expansion tricks.
        raise InvalidPinMapError("Pin map XML must not contain a <!DOCTYPE> declaration.")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        raise InvalidPinMapError(f"Pin map XML is not well-formed: {error}.") from None
    return _Parser().parse(root)


def _local_name(element: ET.Element) -> str:
    """Element name without the NI namespace; other namespaces are refused."""
    tag = element.tag
    if not tag.startswith("{"):
        return tag
    namespace, _, name = tag[1:].partition("}")
    if namespace != NAMESPACE:
        raise InvalidPinMapError(
            f"Element <{name}> is in namespace '{namespace}'; pin maps use '{NAMESPACE}'."
        )
    return name


def _describe(element: ET.Element) -> str:
    """``<Name a="1" b="2">`` for messages."""
    attributes = "".join(f' {key}="{value}"' for key, value in element.attrib.items())
    return f"<{_local_name(element)}{attributes}>"


def _required(element: ET.Element, attribute: str) -> str:
    """A non-empty attribute value, or InvalidPinMapError naming the element."""
    value = element.get(attribute, "").strip()
    if not value:
        raise InvalidPinMapError(f"{_describe(element)} needs a non-empty '{attribute}' attribute.")
    return value


def _split_list(text: str) -> list[str]:
    """Items of a comma-separated attribute such as ``channels="0,1"``."""
    return [item.strip() for item in text.split(",") if item.strip()]


class _Parser:
    """One parse: collects definitions, then resolves references against them."""

    def __init__(self) -> None:
        self._instruments: list[Instrument] = []
        self._multiplexers: list[Multiplexer] = []
        self._pins: list[Pin] = []
        self._relays: list[Relay] = []
        self._pin_group_elements: list[ET.Element] = []
        self._relay_group_elements: list[ET.Element] = []
        self._sites: list[int] = []
        self._connection_elements: list[ET.Element] = []
        self._names: dict[str, str] = {}

    def parse(self, root: ET.Element) -> PinMap:
        if _local_name(root) != "PinMap":
            raise InvalidPinMapError(
                f"The root element is <{_local_name(root)}>; a pin map's root is <PinMap>."
            )
        version = root.get("schemaVersion", "").strip()
        if version and not _SCHEMA_VERSION.fullmatch(version):
            raise InvalidPinMapError(
                f"Unsupported pin map schemaVersion '{version}' (supported: 1.x, e.g. 1.1-1.6)."
            )
        for section in root:
            self._section(section)
        pins = {pin.name: pin for pin in self._pins}
        relays = {relay.name: relay for relay in self._relays}
        pin_groups = _flatten_groups(self._pin_group_elements, "PinReference", "pin", pins)
        relay_groups = _flatten_groups(
            self._relay_group_elements, "RelayReference", "relay", relays
        )
        for group in (*pin_groups, *relay_groups):
            self._claim_name(group.name, f"group '{group.name}'")
        connections = _Connections(
            instruments={item.name: item for item in self._instruments},
            multiplexers={item.name for item in self._multiplexers},
            pins=pins,
            relays=relays,
            sites=set(self._sites),
        )
        for element in self._connection_elements:
            connections.add(element)
        return PinMap(
            schema_version=version,
            instruments=tuple(self._instruments),
            multiplexers=tuple(self._multiplexers),
            pins=tuple(self._pins),
            relays=tuple(self._relays),
            pin_groups=pin_groups,
            relay_groups=relay_groups,
            sites=tuple(sorted(self._sites)),
            connections=tuple(connections.items),
        )

    def _section(self, section: ET.Element) -> None:
        name = _local_name(section)
        handlers: dict[str, Callable[[ET.Element], None]] = {
            "Instruments": self._instrument,
            "Pins": self._pin,
            "PinGroups": lambda child: self._group(child, "PinGroup", self._pin_group_elements),
            "Relays": self._relay,
            "RelayGroups": lambda child: self._group(
                child, "RelayGroup", self._relay_group_elements
            ),
            "Sites": self._site,
            "Connections": self._connection_elements.append,
        }
        handler = handlers.get(name)
        if handler is None:
            _logger.warning("Ignoring unsupported pin map section <%s>.", name)
            return
        for child in section:
            handler(child)

    def _claim_name(self, name: str, what: str) -> None:
        """Reject a second definition of a pin, relay, group or instrument name."""
        previous = self._names.get(name)
        if previous is not None:
            raise InvalidPinMapError(f"The name '{name}' is defined twice ({previous} and {what}).")
        self._names[name] = what

    def _instrument(self, element: ET.Element) -> None:
        kind = _local_name(element)
        name = _required(element, "name")
        if kind == "Multiplexer":
            self._claim_name(name, f"multiplexer '{name}'")
            self._multiplexers.append(
                Multiplexer(name=name, multiplexer_type_id=element.get("multiplexerTypeId", ""))
            )
            return
        if kind == "NIDCPowerInstrument":
            instrument = Instrument(
                name=name,
                instrument_type_id=NI_DCPOWER,
                element=kind,
                channel_groups=tuple(_channel_groups(element)),
            )
        elif kind in _SIMPLE_INSTRUMENTS:
            instrument = Instrument(
                name=name,
                instrument_type_id=_SIMPLE_INSTRUMENTS[kind],
                element=kind,
                group=element.get("group", "").strip(),
            )
        elif kind == "Instrument":
            instrument = Instrument(
                name=name,
                instrument_type_id=_required(element, "instrumentTypeId"),
                element=kind,
                channels=tuple(
                    _required(child, "id")
                    for child in element.iter()
                    if child is not element and _local_name(child) == "Channel"
                ),
            )
        else:
            supported = ", ".join(
                ["NIDCPowerInstrument", *_SIMPLE_INSTRUMENTS, "Multiplexer", "Instrument"]
            )
            raise InvalidPinMapError(
                f"Unsupported instrument element {_describe(element)}; the local Pin Map Service "
                f"supports {supported}."
            )
        self._claim_name(name, f"instrument '{name}'")
        self._instruments.append(instrument)

    def _pin(self, element: ET.Element) -> None:
        kind = _local_name(element)
        if kind not in ("DUTPin", "SystemPin"):
            raise InvalidPinMapError(f"Unsupported pin element {_describe(element)}.")
        name = _required(element, "name")
        self._claim_name(name, f"pin '{name}'")
        self._pins.append(Pin(name=name, is_system=kind == "SystemPin"))

    def _relay(self, element: ET.Element) -> None:
        kind = _local_name(element)
        if kind not in ("SiteRelay", "SystemRelay"):
            raise InvalidPinMapError(f"Unsupported relay element {_describe(element)}.")
        name = _required(element, "name")
        self._claim_name(name, f"relay '{name}'")
        self._relays.append(Relay(name=name, is_system=kind == "SystemRelay"))

    @staticmethod
    def _group(element: ET.Element, expected: str, into: list[ET.Element]) -> None:
        if _local_name(element) != expected:
            raise InvalidPinMapError(
                f"Unsupported element {_describe(element)} (expected <{expected}>)."
            )
        _required(element, "name")
        into.append(element)

    def _site(self, element: ET.Element) -> None:
        if _local_name(element) != "Site":
            raise InvalidPinMapError(f"Unsupported site element {_describe(element)}.")
        site = _site_number(element, _required(element, "siteNumber"))
        if site in self._sites:
            raise InvalidPinMapError(f"Site {site} is defined twice.")
        self._sites.append(site)


def _channel_groups(element: ET.Element) -> Iterable[ChannelGroup]:
    """The ``ChannelGroup`` children of a DCPower instrument."""
    for child in element:
        if _local_name(child) != "ChannelGroup":
            raise InvalidPinMapError(
                f"Unsupported element {_describe(child)} in {_describe(element)}."
            )
        channels = child.get("channels")
        yield ChannelGroup(
            name=_required(child, "name"),
            channels=None
            if channels is None
            else tuple(_channel_number(child, item) for item in _split_list(channels)),
        )


def _channel_number(element: ET.Element, text: str) -> str:
    """A DCPower channel number in canonical form ("01" -> "1"), so names compare equal."""
    if not text.isdigit():
        raise InvalidPinMapError(f"{_describe(element)}: '{text}' is not a DCPower channel number.")
    return str(int(text))


def _site_number(element: ET.Element, text: str) -> int:
    try:
        site = int(text)
    except ValueError:
        site = -1
    if site < 0:
        raise InvalidPinMapError(f"{_describe(element)}: '{text}' is not a site number.")
    return site


def _flatten_groups(
    elements: list[ET.Element],
    reference_tag: str,
    reference_attribute: str,
    members: dict[str, Pin] | dict[str, Relay],
) -> tuple[Group, ...]:
    """Resolve group references: depth-first in reference order, duplicates removed."""
    references: dict[str, tuple[str, ...]] = {}
    for element in elements:
        name = _required(element, "name")
        if name in references:
            raise InvalidPinMapError(f"The group '{name}' is defined twice.")
        items = []
        for child in element:
            if _local_name(child) != reference_tag:
                raise InvalidPinMapError(
                    f"Unsupported element {_describe(child)} in {_describe(element)}."
                )
            items.append(_required(child, reference_attribute))
        references[name] = tuple(items)

    resolved: dict[str, tuple[str, ...]] = {}

    def resolve(name: str, path: tuple[str, ...]) -> tuple[str, ...]:
        if name in resolved:
            return resolved[name]
        flat: dict[str, None] = {}
        for reference in references[name]:
            if reference in members:
                flat[reference] = None
            elif reference in references:
                if reference in path:
                    cycle = " -> ".join((*path, reference))
                    raise InvalidPinMapError(f"Groups reference each other in a cycle: {cycle}.")
                flat.update(dict.fromkeys(resolve(reference, (*path, reference))))
            else:
                raise InvalidPinMapError(
                    f"Group '{name}' references '{reference}', which is not defined."
                )
        resolved[name] = tuple(flat)
        return resolved[name]

    return tuple(
        Group(name=name, references=items, resolved=resolve(name, (name,)))
        for name, items in references.items()
    )


class _Connections:
    """Turns ``Connections`` children into :class:`Connection` items, checking references."""

    def __init__(
        self,
        *,
        instruments: dict[str, Instrument],
        multiplexers: set[str],
        pins: dict[str, Pin],
        relays: dict[str, Relay],
        sites: set[int],
    ) -> None:
        self._instruments = instruments
        self._multiplexers = multiplexers
        self._pins = pins
        self._relays = relays
        self._sites = sites
        self.items: list[Connection] = []

    def add(self, element: ET.Element) -> None:
        kind = _local_name(element)
        if kind == "Connection":
            pin = self._pin(element, "pin", system=False)
            instrument, channel = self._channel(element, "instrument", "channel")
            for site in self._site_list(element):
                self.items.append(Connection(pin, site, instrument, channel))
        elif kind == "SystemConnection":
            pin = self._pin(element, "pin", system=True)
            instrument, channel = self._channel(element, "instrument", "channel")
            self.items.append(Connection(pin, SYSTEM_SITE, instrument, channel))
        elif kind == "RelayConnection":
            relay = self._relay(element, system=False)
            module, line = self._channel(element, "relayDriverModule", "controlLine", relay=True)
            for site in self._site_list(element):
                self.items.append(Connection(relay, site, module, line))
        elif kind == "SystemRelayConnection":
            relay = self._relay(element, system=True)
            module, line = self._channel(element, "relayDriverModule", "controlLine", relay=True)
            self.items.append(Connection(relay, SYSTEM_SITE, module, line))
        elif kind == "MultiplexedConnection":
            self._multiplexed(element)
        else:
            raise InvalidPinMapError(f"Unsupported connection element {_describe(element)}.")

    def _multiplexed(self, element: ET.Element) -> None:
        instrument, channel = self._channel(element, "instrument", "channel")
        for route in element:
            if _local_name(route) != "MultiplexedDUTPinRoute":
                raise InvalidPinMapError(
                    f"Unsupported element {_describe(route)} in {_describe(element)}."
                )
            pin = self._pin(route, "pin", system=False)
            multiplexer = _required(route, "multiplexer")
            if multiplexer not in self._multiplexers:
                raise InvalidPinMapError(
                    f"{_describe(route)} names multiplexer '{multiplexer}', which is not defined."
                )
            route_name = route.get("routeName", "")
            for site in self._site_list(route):
                self.items.append(
                    Connection(pin, site, instrument, channel, multiplexer, route_name)
                )

    def _pin(self, element: ET.Element, attribute: str, *, system: bool) -> str:
        name = _required(element, attribute)
        pin = self._pins.get(name)
        if pin is None:
            raise InvalidPinMapError(
                f"{_describe(element)} names pin '{name}', which is not defined."
            )
        if pin.is_system != system:
            needed = "a system pin" if system else "a DUT pin"
            raise InvalidPinMapError(f"{_describe(element)} needs {needed}; '{name}' is not one.")
        return name

    def _relay(self, element: ET.Element, *, system: bool) -> str:
        name = _required(element, "relay")
        relay = self._relays.get(name)
        if relay is None:
            raise InvalidPinMapError(
                f"{_describe(element)} names relay '{name}', which is not defined."
            )
        if relay.is_system != system:
            needed = "a system relay" if system else "a site relay"
            raise InvalidPinMapError(f"{_describe(element)} needs {needed}; '{name}' is not one.")
        return name

    def _channel(
        self,
        element: ET.Element,
        instrument_attribute: str,
        channel_attribute: str,
        *,
        relay: bool = False,
    ) -> tuple[str, str]:
        """The (instrument, channel) an element connects to, checked against the instrument."""
        name = _required(element, instrument_attribute)
        channel = _required(element, channel_attribute)
        instrument = self._instruments.get(name)
        if instrument is None:
            raise InvalidPinMapError(
                f"{_describe(element)} names instrument '{name}', which is not defined."
            )
        if relay != (instrument.instrument_type_id == NI_RELAY_DRIVER):
            expected = "a relay driver module" if relay else "an instrument"
            raise InvalidPinMapError(f"{_describe(element)}: '{name}' is not {expected}.")
        if instrument.instrument_type_id == NI_DCPOWER:
            channel = _channel_number(element, channel)
            if instrument.channel_groups and instrument.channel_group_of(channel) is None:
                raise InvalidPinMapError(
                    f"{_describe(element)}: channel {channel} of '{name}' is in no ChannelGroup."
                )
        return name, channel

    def _site_list(self, element: ET.Element) -> list[int]:
        """The sites of ``siteNumber`` (a shared pin lists several, e.g. "0,1")."""
        sites = [
            _site_number(element, text) for text in _split_list(_required(element, "siteNumber"))
        ]
        for site in sites:
            if site not in self._sites:
                raise InvalidPinMapError(f"{_describe(element)}: site {site} is not defined.")
        return list(dict.fromkeys(sites))
