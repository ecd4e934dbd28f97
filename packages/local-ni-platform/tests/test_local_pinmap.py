"""The local Pin Map Service, reached through NI's unchanged PinMapClient and generated stub.

The platform runs on loopback in this process; NI's clients find it through the local discovery.
RPCs that PinMapClient does not expose (Create, Get, Query*) use NI's generated stub.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.pinmap.v1 import pin_map_service_pb2 as pb2
from ni.measurementlink.pinmap.v1 import pin_map_service_pb2_grpc as pb2_grpc
from ni.measurementlink.pinmap.v1.client import PinMapClient
from rpc_errors import rpc_error

from local_ni_platform.activation import activate
from local_ni_platform.pinmap import (
    InvalidPinMapError,
    PinMapPart,
    parse_pin_map,
    query_resource_access,
)
from local_ni_platform.platform import LocalPlatform

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="on Windows NI's real Pin Map Service is used"
)

PINMAPS = Path(__file__).parent / "pinmaps"
PIN_MAP_INTERFACE = "ni.measurementlink.pinmap.v1.PinMapService"
NAMESPACE = "http://www.ni.com/TestStand/SemiconductorModule/PinMap.xsd"


def pin_map_xml(body: str, *, version: str = "1.6", namespace: str = NAMESPACE) -> str:
    """A pin map document with ``body`` inside the root element."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<PinMap schemaVersion="{version}" xmlns="{namespace}">{body}</PinMap>'
    )


SMALL_BODY = (
    '<Instruments><NIDmmInstrument name="DMM1" /></Instruments>'
    '<Pins><DUTPin name="Pin1" /></Pins><Sites><Site siteNumber="0" /></Sites>'
    '<Connections><Connection pin="Pin1" siteNumber="0" instrument="DMM1" channel="0" />'
    "</Connections>"
)


@pytest.fixture
def platform(state_dir: Path) -> Iterator[LocalPlatform]:
    with LocalPlatform(state_dir=state_dir, parts=[PinMapPart()]) as running:
        assert activate() is True
        yield running


@pytest.fixture
def client(platform: LocalPlatform) -> Iterator[PinMapClient]:
    """NI's own client, created without arguments, as NI's libraries do."""
    with PinMapClient() as pin_map_client:
        yield pin_map_client


@pytest.fixture
def stub(platform: LocalPlatform) -> Iterator[pb2_grpc.PinMapServiceStub]:
    """NI's generated stub at the address discovery resolves, for the RPCs the client lacks."""
    location = DiscoveryClient().resolve_service(PIN_MAP_INTERFACE, PIN_MAP_INTERFACE)
    with grpc.insecure_channel(location.insecure_address) as channel:
        yield pb2_grpc.PinMapServiceStub(channel)


# --- UpdatePinMapFromXml through NI's client ------------------------------------------------


@pytest.mark.parametrize("path", sorted(PINMAPS.glob("*.pinmap")), ids=lambda path: path.name)
def test_update_pin_map_echoes_the_id(
    client: PinMapClient, stub: pb2_grpc.PinMapServiceStub, path: Path
) -> None:
    assert client.update_pin_map(path) == str(path)
    assert client.update_pin_map(str(path)) == str(path)
    assert stub.GetPinMap(pb2.GetPinMapRequest(pin_map_id=str(path))).pin_map_id == str(path)


def test_relative_path_id_is_echoed_unchanged(
    client: PinMapClient, stub: pb2_grpc.PinMapServiceStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PINMAPS)
    assert client.update_pin_map("2Dmm2Pin1Site.pinmap") == "2Dmm2Pin1Site.pinmap"
    response = stub.GetPinMap(pb2.GetPinMapRequest(pin_map_id="2Dmm2Pin1Site.pinmap"))
    assert response.pin_map_id == "2Dmm2Pin1Site.pinmap"


def test_bom_prefixed_pin_map_is_accepted(
    client: PinMapClient, stub: pb2_grpc.PinMapServiceStub
) -> None:
    path = PINMAPS / "Bom1Smu1ChannelGroup1Pin1Site.pinmap"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert client.update_pin_map(path) == str(path)

    # A raw caller may send the BOM inside the string; it is tolerated as well.
    xml = path.read_bytes().decode("utf-8")
    assert xml.startswith("\ufeff")
    stub.CreatePinMapFromXml(pb2.CreatePinMapFromXmlRequest(pin_map_id="bom", pin_map_xml=xml))
    pins = stub.QueryPins(pb2.QueryPinsRequest(pin_map_id="bom")).pins
    assert [pin.display_name for pin in pins] == ["Pin1"]


def test_update_replaces_the_pin_map_and_a_failed_update_keeps_it(
    client: PinMapClient, stub: pb2_grpc.PinMapServiceStub, tmp_path: Path
) -> None:
    path = tmp_path / "changing.pinmap"
    path.write_text(pin_map_xml(SMALL_BODY), encoding="utf-8")
    client.update_pin_map(path)
    path.write_text(pin_map_xml(SMALL_BODY.replace("Pin1", "Renamed")), encoding="utf-8")
    client.update_pin_map(path)
    path.write_text("<PinMap", encoding="utf-8")
    with pytest.raises(grpc.RpcError):
        client.update_pin_map(path)

    pins = stub.QueryPins(pb2.QueryPinsRequest(pin_map_id=str(path))).pins
    assert [pin.display_name for pin in pins] == ["Renamed"]


INVALID_PIN_MAPS = [
    ("<PinMap", "not well-formed"),
    ("<NotAPinMap />", "<NotAPinMap>"),
    (pin_map_xml(SMALL_BODY, version="2.0"), "'2.0'"),
    (pin_map_xml(SMALL_BODY, namespace="urn:other"), "urn:other"),
    (
        '<!DOCTYPE PinMap [<!ENTITY x "y">]>' + pin_map_xml(SMALL_BODY),
        "DOCTYPE",
    ),
    (
        pin_map_xml('<Instruments><NIRFSAInstrument name="RFSA1" /></Instruments>'),
        "NIRFSAInstrument",
    ),
    (
        pin_map_xml(SMALL_BODY.replace('pin="Pin1" siteNumber', 'pin="Nope" siteNumber')),
        "'Nope'",
    ),
    (
        pin_map_xml(SMALL_BODY.replace('instrument="DMM1"', 'instrument="DMM9"')),
        "'DMM9'",
    ),
    (
        pin_map_xml(SMALL_BODY.replace('siteNumber="0" instrument', 'siteNumber="0,5" instrument')),
        "site 5",
    ),
    (
        pin_map_xml(SMALL_BODY.replace('<DUTPin name="Pin1" />', '<DUTPin name="DMM1" />')),
        "'DMM1' is defined twice",
    ),
    (
        pin_map_xml(
            '<Pins><DUTPin name="A" /></Pins><PinGroups>'
            '<PinGroup name="G1"><PinReference pin="G2" /></PinGroup>'
            '<PinGroup name="G2"><PinReference pin="G1" /></PinGroup></PinGroups>'
        ),
        "cycle",
    ),
    (
        pin_map_xml(
            '<Instruments><NIDCPowerInstrument name="SMU" numberOfChannels="4">'
            '<ChannelGroup name="G" channels="0,1" /></NIDCPowerInstrument></Instruments>'
            '<Pins><DUTPin name="P" /></Pins><Sites><Site siteNumber="0" /></Sites>'
            '<Connections><Connection pin="P" siteNumber="0" instrument="SMU" channel="3" />'
            "</Connections>"
        ),
        "channel 3 of 'SMU' is in no ChannelGroup",
    ),
    (
        pin_map_xml(
            '<Instruments><Instrument name="X" /></Instruments>',
        ),
        "instrumentTypeId",
    ),
]


@pytest.mark.parametrize(
    ("xml", "named_problem"),
    INVALID_PIN_MAPS,
    ids=[
        "not-xml",
        "wrong-root",
        "schema-2",
        "other-namespace",
        "doctype",
        "unsupported-instrument",
        "unknown-pin",
        "unknown-instrument",
        "unknown-site",
        "duplicate-name",
        "group-cycle",
        "dcpower-channel-outside-groups",
        "custom-without-type-id",
    ],
)
def test_invalid_pin_map_is_refused_with_invalid_argument_naming_the_problem(
    client: PinMapClient, tmp_path: Path, xml: str, named_problem: str
) -> None:
    path = tmp_path / "bad.pinmap"
    path.write_text(xml, encoding="utf-8")

    with pytest.raises(grpc.RpcError) as excinfo:
        client.update_pin_map(path)

    code, details = rpc_error(excinfo)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert named_problem in details


# --- The other RPCs through NI's generated stub -----------------------------------------------


def test_get_unknown_pin_map_is_not_found(stub: pb2_grpc.PinMapServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as excinfo:
        stub.GetPinMap(pb2.GetPinMapRequest(pin_map_id="C:\\no\\such.pinmap"))
    code, details = rpc_error(excinfo)
    assert code == grpc.StatusCode.NOT_FOUND
    assert "C:\\no\\such.pinmap" in details


def test_create_pin_map_rules(stub: pb2_grpc.PinMapServiceStub) -> None:
    xml = pin_map_xml(SMALL_BODY)
    created = stub.CreatePinMapFromXml(
        pb2.CreatePinMapFromXmlRequest(pin_map_id="created", pin_map_xml=xml)
    )
    assert created.pin_map_id == "created"

    with pytest.raises(grpc.RpcError) as excinfo:
        stub.CreatePinMapFromXml(
            pb2.CreatePinMapFromXmlRequest(pin_map_id="created", pin_map_xml=xml)
        )
    assert rpc_error(excinfo)[0] == grpc.StatusCode.ALREADY_EXISTS

    for bad_id in ("", "has space"):
        with pytest.raises(grpc.RpcError) as excinfo:
            stub.CreatePinMapFromXml(
                pb2.CreatePinMapFromXmlRequest(pin_map_id=bad_id, pin_map_xml=xml)
            )
        assert rpc_error(excinfo)[0] == grpc.StatusCode.INVALID_ARGUMENT

    # UpdatePinMapFromXml accepts spaces: ids are file paths by convention.
    updated = stub.UpdatePinMapFromXml(
        pb2.UpdatePinMapFromXmlRequest(pin_map_id="C:\\My Pin Maps\\a.pinmap", pin_map_xml=xml)
    )
    assert updated.pin_map_id == "C:\\My Pin Maps\\a.pinmap"


def test_query_pins_with_and_without_instrument_type(
    client: PinMapClient, stub: pb2_grpc.PinMapServiceStub
) -> None:
    pin_map_id = client.update_pin_map(PINMAPS / "SystemPinsAndGroups.pinmap")

    response = stub.QueryPins(pb2.QueryPinsRequest(pin_map_id=pin_map_id))
    assert [(pin.display_name, pin.is_system_pin) for pin in response.pins] == [
        ("A", False),
        ("B", False),
        ("C", False),
        ("S1", True),
        ("S2", True),
    ]
    assert [
        (group.display_name, list(group.pin_or_group_references), list(group.resolved_pins))
        for group in response.pin_groups
    ] == [
        ("PinGroup1", ["A", "S1"], ["A", "S1"]),
        ("PinGroup2", ["C", "PinGroup1", "A"], ["C", "A", "S1"]),
    ]

    scope = stub.QueryPins(
        pb2.QueryPinsRequest(pin_map_id=pin_map_id, instrument_type_id="niScope")
    )
    assert [pin.display_name for pin in scope.pins] == ["C", "S2"]
    assert list(scope.pin_groups) == []
    dcpower = stub.QueryPins(
        pb2.QueryPinsRequest(pin_map_id=pin_map_id, instrument_type_id="niDCPower")
    )
    assert [pin.display_name for pin in dcpower.pins] == ["A", "B", "S1"]
    assert [group.display_name for group in dcpower.pin_groups] == ["PinGroup1"]

    with pytest.raises(grpc.RpcError) as excinfo:
        stub.QueryPins(pb2.QueryPinsRequest(pin_map_id="unknown"))
    assert rpc_error(excinfo)[0] == grpc.StatusCode.NOT_FOUND


def test_query_relays(client: PinMapClient, stub: pb2_grpc.PinMapServiceStub) -> None:
    pin_map_id = client.update_pin_map(PINMAPS / "Relays.pinmap")

    response = stub.QueryRelays(pb2.QueryRelaysRequest(pin_map_id=pin_map_id))

    assert [(relay.display_name, relay.is_system_relay) for relay in response.relays] == [
        ("SiteRelay1", False),
        ("SystemRelay1", True),
    ]
    (group,) = response.relay_groups
    assert group.display_name == "RelayGroup1"
    assert list(group.resolved_relays) == ["SiteRelay1", "SystemRelay1"]


def test_query_resource_access_information(
    client: PinMapClient, stub: pb2_grpc.PinMapServiceStub
) -> None:
    pin_map_id = client.update_pin_map(PINMAPS / "SystemPinsAndGroups.pinmap")

    response = stub.QueryResourceAccessInformation(
        pb2.QueryResourceAccessInformationRequest(
            pin_map_id=pin_map_id, sites=[0], pin_or_relay_names=["PinGroup2"]
        )
    )

    assert [
        (info.resource_name, info.channel_list, info.instrument_type_id)
        for info in response.resource_access_information
    ] == [
        (
            "DCPower1/0, DCPower1/1, DCPower1/2, DCPower1/3, DCPower2/1",
            "DCPower1/0, DCPower1/3",
            "niDCPower",
        ),
        ("SCOPE1", "0", "niScope"),
    ]
    dcpower, scope = response.resource_access_information
    assert [(m.pin_or_relay_name, m.site, m.channel) for m in dcpower.channel_mappings] == [
        ("A", 0, "DCPower1/0"),
        ("S1", -1, "DCPower1/3"),
    ]
    assert [(m.pin_or_relay_name, m.site, m.channel) for m in scope.channel_mappings] == [
        ("C", 0, "0")
    ]
    assert {
        name: list(value.pin_or_relay_names) for name, value in response.group_mappings.items()
    } == {"PinGroup2": ["C", "A", "S1"]}


def test_query_resource_access_information_reports_multiplexers(
    client: PinMapClient, stub: pb2_grpc.PinMapServiceStub
) -> None:
    pin_map_id = client.update_pin_map(PINMAPS / "Multiplexed.pinmap")

    response = stub.QueryResourceAccessInformation(
        pb2.QueryResourceAccessInformationRequest(pin_map_id=pin_map_id, pin_or_relay_names=["A"])
    )

    (info,) = response.resource_access_information
    assert info.channel_list == "DCPower1/0, DCPower1/1"
    assert [
        (m.pin_or_relay_name, m.site, m.channel, m.multiplexer_resource_name, m.multiplexer_route)
        for m in info.channel_mappings
    ] == [
        ("A", 0, "DCPower1/0", "Multiplexer1", "C1->r0"),
        ("A", 1, "DCPower1/1", "Multiplexer1", "C3->r1"),
    ]
    assert {m.multiplexer_type_id for m in info.channel_mappings} == {"TestMultiplexerType"}


@pytest.mark.parametrize(
    ("request_fields", "expected_code", "named"),
    [
        ({"pin_map_id": "unknown"}, grpc.StatusCode.NOT_FOUND, "'unknown'"),
        ({"sites": [0, 7]}, grpc.StatusCode.NOT_FOUND, "7"),
        ({"pin_or_relay_names": ["A", "Nope"]}, grpc.StatusCode.INVALID_ARGUMENT, "'Nope'"),
        ({"pin_or_relay_names": [""]}, grpc.StatusCode.INVALID_ARGUMENT, "empty"),
    ],
    ids=["unknown-pin-map", "unknown-site", "unknown-pin", "empty-pin-name"],
)
def test_query_resource_access_information_errors(
    client: PinMapClient,
    stub: pb2_grpc.PinMapServiceStub,
    request_fields: dict[str, object],
    expected_code: grpc.StatusCode,
    named: str,
) -> None:
    pin_map_id = client.update_pin_map(PINMAPS / "SystemPinsAndGroups.pinmap")
    fields: dict[str, object] = {"pin_map_id": pin_map_id, **request_fields}

    with pytest.raises(grpc.RpcError) as excinfo:
        stub.QueryResourceAccessInformation(
            pb2.QueryResourceAccessInformationRequest(**fields)  # type: ignore[arg-type]
        )

    code, details = rpc_error(excinfo)
    assert code == expected_code
    assert named in details


# --- Parsing rules, directly --------------------------------------------------------------------


def test_nested_groups_flatten_depth_first_without_duplicates() -> None:
    pin_map = parse_pin_map(
        pin_map_xml(
            '<Pins><DUTPin name="A" /><DUTPin name="B" /><DUTPin name="C" />'
            '<SystemPin name="S" /></Pins><PinGroups>'
            '<PinGroup name="Outer"><PinReference pin="B" /><PinReference pin="Inner" />'
            '<PinReference pin="A" /><PinReference pin="S" /></PinGroup>'
            '<PinGroup name="Inner"><PinReference pin="C" /><PinReference pin="B" />'
            '<PinReference pin="A" /></PinGroup></PinGroups>'
        )
    )

    resolved = {group.name: group.resolved for group in pin_map.pin_groups}
    assert resolved == {"Outer": ("B", "C", "A", "S"), "Inner": ("C", "B", "A")}


def test_document_without_namespace_or_version_is_accepted() -> None:
    pin_map = parse_pin_map(f"<PinMap>{SMALL_BODY}</PinMap>")
    assert [pin.name for pin in pin_map.pins] == ["Pin1"]
    assert pin_map.schema_version == ""


def test_custom_instrument_channels_may_sit_in_channel_groups() -> None:
    pin_map = parse_pin_map(
        pin_map_xml(
            '<Instruments><Instrument name="dev1" instrumentTypeId="Custom">'
            '<ChannelGroup name="CG"><Channel id="0" /><Channel id="1" /></ChannelGroup>'
            "</Instrument></Instruments>"
            '<Pins><DUTPin name="P" /></Pins><Sites><Site siteNumber="0" /></Sites>'
            '<Connections><Connection pin="P" siteNumber="0" instrument="dev1" channel="1" />'
            "</Connections>"
        )
    )

    (instrument,) = pin_map.instruments
    assert instrument.channels == ("0", "1")
    (resource,) = query_resource_access(pin_map).resources
    assert (resource.resource_name, resource.channel_list) == ("dev1", "1")


def test_parser_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not well-formed"):
        parse_pin_map("<PinMap")
    assert issubclass(InvalidPinMapError, ValueError)
