"""The local Session Management Service, driven through NI's unchanged SessionManagementClient.

Pin maps come from ``tests/pinmaps`` and are registered with NI's PinMapClient; both clients find
the services through the local discovery, over real loopback gRPC. Requests NI's client cannot
send (a timeout below -1, a gRPC deadline) use NI's generated stub.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

import grpc
import pytest
from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.pinmap.v1.client import PinMapClient
from ni.measurementlink.sessionmanagement.v1 import session_management_service_pb2 as pb2
from ni.measurementlink.sessionmanagement.v1 import (
    session_management_service_pb2_grpc as pb2_grpc,
)
from ni.measurementlink.sessionmanagement.v1.client import (
    MultiplexerSessionInformation,
    MultiSessionReservation,
    PinMapContext,
    SessionInformation,
    SessionManagementClient,
)
from rpc_errors import rpc_error

from local_ni_platform.activation import activate
from local_ni_platform.parts import PlatformPart
from local_ni_platform.platform import LocalPlatform
from local_ni_platform.session_management import (
    SessionManagementPart,
    pin_map_and_session_management_parts,
)

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="on Windows NI's real Session Management Service is used"
)

PINMAPS = Path(__file__).parent / "pinmaps"
SESSION_MANAGEMENT_INTERFACE = "ni.measurementlink.sessionmanagement.v1.SessionManagementService"
LOG_PATH = "/tmp/local-ni-platform-tests/measurements.ndjson"
BOUND = 5.0
"""Upper bound, in seconds, for waiting on something that should happen almost at once."""
BACKSTOP = 60.0
"""The service's re-check interval for waiting reservations in these tests (far above BOUND)."""


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Bounded wait for the state under test (the server-side waiter count)."""
    deadline = time.monotonic() + BOUND
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out waiting until {what}.")
        time.sleep(0.005)


@pytest.fixture
def parts() -> list[PlatformPart]:
    # A long backstop interval: every prompt wake-up below must come from an unreserve, a stop
    # or the RPC's termination callback, never from periodic re-checking.
    return pin_map_and_session_management_parts(cancel_check_interval=BACKSTOP)


@pytest.fixture
def session_part(parts: list[PlatformPart]) -> SessionManagementPart:
    (part,) = [part for part in parts if isinstance(part, SessionManagementPart)]
    return part


@pytest.fixture
def platform(state_dir: Path, parts: list[PlatformPart]) -> Iterator[LocalPlatform]:
    with LocalPlatform(state_dir=state_dir, parts=parts) as running:
        assert activate() is True
        yield running


@pytest.fixture
def client(platform: LocalPlatform) -> Iterator[SessionManagementClient]:
    """NI's own client, created without arguments, as measurement services do."""
    with SessionManagementClient() as session_management_client:
        yield session_management_client


@pytest.fixture
def other_client(platform: LocalPlatform) -> Iterator[SessionManagementClient]:
    """A second, independent client (another measurement)."""
    with SessionManagementClient() as session_management_client:
        yield session_management_client


@pytest.fixture
def stub(platform: LocalPlatform) -> Iterator[pb2_grpc.SessionManagementServiceStub]:
    """NI's generated stub at the resolved address, for requests NI's client cannot make."""
    location = DiscoveryClient().resolve_service(
        SESSION_MANAGEMENT_INTERFACE, SESSION_MANAGEMENT_INTERFACE
    )
    with grpc.insecure_channel(location.insecure_address) as channel:
        yield pb2_grpc.SessionManagementServiceStub(channel)


@pytest.fixture
def register_pin_map(platform: LocalPlatform) -> Iterator[Callable[[str], str]]:
    """Register a pin map of ``tests/pinmaps`` with NI's PinMapClient; return its id."""
    with PinMapClient() as pin_map_client:
        yield lambda name: pin_map_client.update_pin_map(PINMAPS / name)


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        yield pool


# --- Sessions derived from the pin map (spec 3.5) ---------------------------------------------


class Case(NamedTuple):
    pin_map: str
    pins: list[str] | None
    sites: list[int] | None
    instrument_type_id: str | None
    sessions: list[tuple[str, str, str]]
    """(instrument type id, resource name, channel list) per session, in order."""


ALL_FOUR = "DCPower1/0, DCPower1/1, DCPower1/2, DCPower1/3"
CASES = {
    "1smu-1group-1pin-1site": Case(
        "1Smu1ChannelGroup1Pin1Site.pinmap",
        ["Pin1"],
        [0],
        "niDCPower",
        [("niDCPower", "DCPower1/0", "DCPower1/0")],
    ),
    "1smu-1group-pin1-site0": Case(
        "1Smu1ChannelGroup2Pin2Site.pinmap",
        ["Pin1"],
        [0],
        "niDCPower",
        [("niDCPower", ALL_FOUR, "DCPower1/0")],
    ),
    "1smu-1group-2pins-site0": Case(
        "1Smu1ChannelGroup2Pin2Site.pinmap",
        ["Pin1", "Pin2"],
        [0],
        "niDCPower",
        [("niDCPower", ALL_FOUR, "DCPower1/0, DCPower1/1")],
    ),
    "1smu-1group-pin1-2sites": Case(
        "1Smu1ChannelGroup2Pin2Site.pinmap",
        ["Pin1"],
        [0, 1],
        "niDCPower",
        [("niDCPower", ALL_FOUR, "DCPower1/0, DCPower1/2")],
    ),
    "1smu-1group-all-pins-all-sites": Case(
        "1Smu1ChannelGroup2Pin2Site.pinmap",
        None,
        None,
        None,
        [("niDCPower", ALL_FOUR, ALL_FOUR)],
    ),
    "1smu-1group-2pins-2sites": Case(
        "1Smu1ChannelGroup2Pin2Site.pinmap",
        ["Pin1", "Pin2"],
        [0, 1],
        "niDCPower",
        [("niDCPower", ALL_FOUR, ALL_FOUR)],
    ),
    "1smu-2groups-pin1-site0": Case(
        "1Smu2ChannelGroup2Pin2Site.pinmap",
        ["Pin1"],
        [0],
        "niDCPower",
        [("niDCPower", "DCPower1/0, DCPower1/1", "DCPower1/0")],
    ),
    "1smu-2groups-2pins-site1": Case(
        "1Smu2ChannelGroup2Pin2Site.pinmap",
        ["Pin1", "Pin2"],
        [1],
        "niDCPower",
        [("niDCPower", "DCPower1/2, DCPower1/3", "DCPower1/2, DCPower1/3")],
    ),
    "1smu-2groups-2pins-2sites": Case(
        "1Smu2ChannelGroup2Pin2Site.pinmap",
        ["Pin1", "Pin2"],
        [0, 1],
        "niDCPower",
        [
            ("niDCPower", "DCPower1/0, DCPower1/1", "DCPower1/0, DCPower1/1"),
            ("niDCPower", "DCPower1/2, DCPower1/3", "DCPower1/2, DCPower1/3"),
        ],
    ),
    "2smu-2groups-pin1-site0": Case(
        "2Smu2ChannelGroup2Pin2Site.pinmap",
        ["Pin1"],
        [0],
        "niDCPower",
        [("niDCPower", "DCPower1/0, DCPower1/1", "DCPower1/0")],
    ),
    "2smu-2groups-2pins-2sites": Case(
        "2Smu2ChannelGroup2Pin2Site.pinmap",
        ["Pin1", "Pin2"],
        [0, 1],
        "niDCPower",
        [
            ("niDCPower", "DCPower1/0, DCPower1/1", "DCPower1/0, DCPower1/1"),
            ("niDCPower", "DCPower2/0, DCPower2/1", "DCPower2/0, DCPower2/1"),
        ],
    ),
    "1smu-2groups-1site-pin1": Case(
        "1Smu2ChannelGroup2Pin1Site.pinmap",
        ["Pin1"],
        [0],
        None,
        [("niDCPower", "DCPower1/0", "DCPower1/0")],
    ),
    "1smu-2groups-1site-2pins": Case(
        "1Smu2ChannelGroup2Pin1Site.pinmap",
        ["Pin1", "Pin2"],
        [0],
        None,
        [("niDCPower", "DCPower1/0", "DCPower1/0"), ("niDCPower", "DCPower1/2", "DCPower1/2")],
    ),
    "2dmm-pin1": Case("2Dmm2Pin1Site.pinmap", ["Pin1"], [0], "niDMM", [("niDMM", "DMM1", "0")]),
    "2dmm-2pins": Case(
        "2Dmm2Pin1Site.pinmap",
        ["Pin1", "Pin2"],
        [0],
        "niDMM",
        [("niDMM", "DMM1", "0"), ("niDMM", "DMM2", "0")],
    ),
    "system-pins-all-types": Case(
        "SystemPinsAndGroups.pinmap",
        ["A", "B", "C", "S1", "S2"],
        [0, 1],
        "",
        [
            (
                "niDCPower",
                "DCPower1/0, DCPower1/1, DCPower1/2, DCPower1/3, DCPower2/1",
                "DCPower1/0, DCPower1/2, DCPower1/1, DCPower2/1, DCPower1/3",
            ),
            ("niScope", "SCOPE1", "0, 1, 3"),
        ],
    ),
    "shared-pins": Case(
        "SharedPins.pinmap",
        None,
        [0, 1],
        None,
        [
            (
                "niDCPower",
                "DCPower1/0, DCPower1/2, DCPower2/1",
                "DCPower1/0, DCPower2/1, DCPower1/2",
            ),
            ("niScope", "SCOPE1", "2, 1"),
        ],
    ),
    "multiplexed": Case(
        "Multiplexed.pinmap",
        ["A", "B", "C"],
        [0, 1],
        "niDCPower",
        [
            (
                "niDCPower",
                "DCPower1/0, DCPower1/1, DCPower1/3, DCPower2/2",
                "DCPower1/0, DCPower1/3, DCPower1/1, DCPower2/2",
            )
        ],
    ),
    "relays": Case(
        "Relays.pinmap",
        ["RelayGroup1"],
        [0],
        "niRelayDriver",
        [("niRelayDriver", "RelayDriver1", "K0, K60")],
    ),
    "custom-instrument": Case(
        "JsonLogger1Pin1Site.pinmap",
        ["LogPin"],
        [0],
        "JsonLoggerService",
        [("JsonLoggerService", LOG_PATH, "0")],
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_reserved_sessions_follow_the_pin_map(
    client: SessionManagementClient, register_pin_map: Callable[[str], str], case: Case
) -> None:
    context = PinMapContext(register_pin_map(case.pin_map), sites=case.sites)

    with client.reserve_sessions(context, case.pins, case.instrument_type_id) as reservation:
        infos = list(reservation.session_info)

    assert [
        (info.instrument_type_id, info.resource_name, info.channel_list) for info in infos
    ] == case.sessions
    for info in infos:
        assert info.session_name == f"{info.instrument_type_id}-{info.resource_name}"
        assert info.session_exists is False
        assert info.annotations is not None
        assert "ni/reserved.hostname" in info.annotations
        channels = [mapping.channel for mapping in info.channel_mappings]
        assert list(dict.fromkeys(channels)) == info.channel_list.split(", ")


def test_single_session_reservation_and_its_connection(
    client: SessionManagementClient, register_pin_map: Callable[[str], str]
) -> None:
    context = PinMapContext(register_pin_map("1Smu2ChannelGroup2Pin1Site.pinmap"), sites=[0])

    with client.reserve_session(context, "Pin1", "niDCPower") as reservation:
        info = reservation.session_info
        connection = reservation.get_connection(object, "Pin1", 0)

    assert (info.session_name, info.resource_name, info.channel_list) == (
        "niDCPower-DCPower1/0",
        "DCPower1/0",
        "DCPower1/0",
    )
    assert (connection.pin_or_relay_name, connection.site, connection.channel_name) == (
        "Pin1",
        0,
        "DCPower1/0",
    )
    assert connection.session_info.session_name == "niDCPower-DCPower1/0"


def test_connections_per_pin_and_site(
    client: SessionManagementClient, register_pin_map: Callable[[str], str]
) -> None:
    context = PinMapContext(register_pin_map("SystemPinsAndGroups.pinmap"), sites=[0, 1])

    with client.reserve_sessions(context, ["A", "B", "C", "S1", "S2"]) as reservation:
        connections = reservation.get_connections(object, sites=0)
        system = reservation.get_connections(object, ["S1", "S2"])
        site1_a = reservation.get_connection(object, "A", 1)

    assert [(c.pin_or_relay_name, c.site, c.channel_name) for c in connections] == [
        ("A", 0, "DCPower1/0"),
        ("B", 0, "DCPower1/2"),
        ("C", 0, "0"),
        ("S1", -1, "DCPower1/3"),
        ("S2", -1, "3"),
    ]
    assert [(c.pin_or_relay_name, c.site, c.channel_name) for c in system] == [
        ("S1", -1, "DCPower1/3"),
        ("S2", -1, "3"),
    ]
    assert site1_a.channel_name == "DCPower1/1"


def test_group_mappings_resolve_requested_groups(
    client: SessionManagementClient, register_pin_map: Callable[[str], str]
) -> None:
    context = PinMapContext(register_pin_map("SystemPinsAndGroups.pinmap"), sites=[0])

    with client.reserve_sessions(context, "PinGroup2") as reservation:
        connections = reservation.get_connections(object, "PinGroup2")

    assert [(c.pin_or_relay_name, c.site, c.channel_name) for c in connections] == [
        ("C", 0, "0"),
        ("A", 0, "DCPower1/0"),
        ("S1", -1, "DCPower1/3"),
    ]


def test_shared_pin_has_one_mapping_per_site_on_one_channel(
    client: SessionManagementClient, register_pin_map: Callable[[str], str]
) -> None:
    context = PinMapContext(register_pin_map("SharedPins.pinmap"), sites=[0, 1])

    with client.reserve_sessions(context, "A") as reservation:
        (info,) = reservation.session_info
        connections = reservation.get_connections(object, "A")

    assert info.channel_list == "DCPower1/0"
    assert [(c.site, c.channel_name) for c in connections] == [(0, "DCPower1/0"), (1, "DCPower1/0")]


def test_multiplexed_connections_carry_the_multiplexer(
    client: SessionManagementClient, register_pin_map: Callable[[str], str]
) -> None:
    context = PinMapContext(register_pin_map("Multiplexed.pinmap"), sites=[0])

    with client.reserve_sessions(context, ["A", "B"]) as reservation:
        (info,) = reservation.session_info
        multiplexers = list(reservation.multiplexer_session_info)
        connections = reservation.get_connections_with_multiplexer(object, object, ["A", "B"])

    assert info.channel_list == "DCPower1/0"
    assert [
        (c.pin_or_relay_name, c.channel_name, c.multiplexer_resource_name, c.multiplexer_route)
        for c in connections
    ] == [
        ("A", "DCPower1/0", "Multiplexer1", "C1->r0"),
        ("B", "DCPower1/0", "Multiplexer1", "C2->r0"),
    ]
    assert [(m.session_name, m.resource_name, m.multiplexer_type_id) for m in multiplexers] == [
        ("Multiplexer1", "Multiplexer1", "TestMultiplexerType")
    ]
    assert connections[0].multiplexer_session_info is not None


def test_too_many_sessions_for_a_single_reservation_releases_them(
    client: SessionManagementClient, register_pin_map: Callable[[str], str]
) -> None:
    context = PinMapContext(register_pin_map("1Smu2ChannelGroup2Pin2Site.pinmap"), sites=[0, 1])

    with pytest.raises(ValueError, match=r"Too many sessions reserved\."):
        client.reserve_session(context, ["Pin1", "Pin2"], "niDCPower")

    # The client unreserved both; they are free again at once.
    with client.reserve_sessions(context, ["Pin1", "Pin2"], timeout=0) as reservation:
        assert len(reservation.session_info) == 2


def test_no_pin_map_reserves_nothing_as_nis_service_does(client: SessionManagementClient) -> None:
    with client.reserve_sessions(PinMapContext("", sites=[0]), ["Pin1"], timeout=0) as reservation:
        assert list(reservation.session_info) == []

    with pytest.raises(ValueError, match=r"No sessions reserved\."):
        client.reserve_session(PinMapContext("", sites=[0]), ["Pin1"])


@pytest.mark.parametrize(
    ("pin_map_id", "pins", "sites", "expected_code", "named"),
    [
        ("unknown.pinmap", ["Pin1"], [0], grpc.StatusCode.NOT_FOUND, "unknown.pinmap"),
        (None, ["Nope"], [0], grpc.StatusCode.INVALID_ARGUMENT, "'Nope'"),
        (
            None,
            ["Pin1"],
            [0, 7],
            grpc.StatusCode.INVALID_ARGUMENT,
            'Pin map does not contain site numbers: "7"',  # NI's message, as NI's tests check it
        ),
    ],
    ids=["unknown-pin-map", "unknown-pin", "unknown-site"],
)
def test_reserve_errors(
    client: SessionManagementClient,
    register_pin_map: Callable[[str], str],
    pin_map_id: str | None,
    pins: list[str],
    sites: list[int],
    expected_code: grpc.StatusCode,
    named: str,
) -> None:
    registered = register_pin_map("2Dmm2Pin1Site.pinmap")
    context = PinMapContext(pin_map_id or registered, sites=sites)

    with pytest.raises(grpc.RpcError) as excinfo:
        client.reserve_sessions(context, pins)

    code, details = rpc_error(excinfo)
    assert code == expected_code
    assert named in details


# --- Custom instrument sessions ---------------------------------------------------------------


class FakeLoggerSession:
    """A trivial custom session: remembers what the SDK passed and whether it was closed."""

    def __init__(self, session_info: SessionInformation) -> None:
        self.session_info = session_info
        self.closed = False

    def __enter__(self) -> FakeLoggerSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.closed = True


def test_generic_custom_session_receives_the_log_path(
    client: SessionManagementClient, register_pin_map: Callable[[str], str]
) -> None:
    context = PinMapContext(register_pin_map("JsonLogger1Pin1Site.pinmap"), sites=[0])

    with (
        client.reserve_session(context, "LogPin") as reservation,
        reservation.initialize_session(FakeLoggerSession, "JsonLoggerService") as info,
    ):
        session = info.session
        connection = reservation.get_connection(FakeLoggerSession, "LogPin")
        assert connection.session is session
        assert not session.closed

    assert session.closed
    received = session.session_info
    assert received.resource_name == LOG_PATH
    assert received.channel_list == "0"
    assert received.session_name == f"JsonLoggerService-{LOG_PATH}"
    assert received.instrument_type_id == "JsonLoggerService"
    assert received.session_exists is False
    assert [(m.pin_or_relay_name, m.site, m.channel) for m in received.channel_mappings] == [
        ("LogPin", 0, "0")
    ]


# --- Registration -----------------------------------------------------------------------------


def test_registration_flips_session_exists_and_reserve_all_registered(
    client: SessionManagementClient, register_pin_map: Callable[[str], str]
) -> None:
    context = PinMapContext(register_pin_map("2Dmm2Pin1Site.pinmap"), sites=[0])

    # Setup (TestStand style): register while still reserved.
    with client.reserve_sessions(context, instrument_type_id="niDMM") as reservation:
        assert [info.session_exists for info in reservation.session_info] == [False, False]
        client.register_sessions(reservation.session_info)
        with pytest.raises(grpc.RpcError) as excinfo:
            client.register_sessions(reservation.session_info[:1])
        code, details = rpc_error(excinfo)
        assert code == grpc.StatusCode.ALREADY_EXISTS
        assert "niDMM-DMM1" in details

    with client.reserve_sessions(context, "Pin1") as reservation:
        (info,) = reservation.session_info
        assert info.session_exists is True
        assert info.annotations is not None
        assert "ni/registered.hostname" in info.annotations
        assert "ni/reserved.hostname" in info.annotations

    # Cleanup: reserve everything registered, unregister, release.
    with client.reserve_all_registered_sessions("niDCPower", timeout=0) as none:
        assert list(none.session_info) == []
    with client.reserve_all_registered_sessions("niDMM", timeout=0) as registered:
        infos = list(registered.session_info)
        assert [(i.session_name, i.resource_name, i.instrument_type_id) for i in infos] == [
            ("niDMM-DMM1", "DMM1", "niDMM"),
            ("niDMM-DMM2", "DMM2", "niDMM"),
        ]
        assert [(i.channel_list, list(i.channel_mappings)) for i in infos] == [("", []), ("", [])]
        assert all(i.session_exists for i in infos)
        client.unregister_sessions(infos)

    with client.reserve_sessions(context, ["Pin1", "Pin2"], timeout=0) as reservation:
        assert [info.session_exists for info in reservation.session_info] == [False, False]
    with client.reserve_all_registered_sessions(timeout=0) as nothing:
        assert list(nothing.session_info) == []


def test_register_with_empty_name_is_invalid(client: SessionManagementClient) -> None:
    info = SessionInformation(
        session_name="",
        resource_name="DMM1",
        channel_list="",
        instrument_type_id="niDMM",
        session_exists=False,
        channel_mappings=[],
    )
    with pytest.raises(grpc.RpcError) as excinfo:
        client.register_sessions([info])
    assert rpc_error(excinfo)[0] == grpc.StatusCode.INVALID_ARGUMENT


def test_unregister_and_unreserve_unknown_sessions_are_harmless(
    client: SessionManagementClient,
    register_pin_map: Callable[[str], str],
    stub: pb2_grpc.SessionManagementServiceStub,
) -> None:
    unknown = SessionInformation("nobody", "X", "", "niDMM", False, [])
    client.unregister_sessions([unknown])
    client.unregister_sessions([])
    stub.UnreserveSessions(pb2.UnreserveSessionsRequest())
    context = PinMapContext(register_pin_map("2Dmm2Pin1Site.pinmap"), sites=[0])

    # No matching sessions: the reservation holds none, and its exit unreserves an empty list.
    with client.reserve_sessions(context, instrument_type_id="niDCPower") as empty:
        assert list(empty.session_info) == []
    reservation = client.reserve_sessions(context, "Pin1")
    reservation.unreserve()
    reservation.unreserve()
    with client.reserve_sessions(context, "Pin1", timeout=0):
        pass


def test_get_sessions_lists_registered_and_reserved(
    client: SessionManagementClient,
    register_pin_map: Callable[[str], str],
    stub: pb2_grpc.SessionManagementServiceStub,
) -> None:
    context = PinMapContext(register_pin_map("2Dmm2Pin1Site.pinmap"), sites=[0])
    with client.reserve_session(context, "Pin1") as reservation:
        client.register_sessions([reservation.session_info])
    with client.reserve_session(context, "Pin2"):
        response = stub.GetSessions(pb2.GetSessionsRequest(instrument_type_id="niDMM"))

    assert [
        (info.session.name, info.session_exists, info.session_reserved)
        for info in response.sessions
    ] == [("niDMM-DMM1", True, False), ("niDMM-DMM2", False, True)]
    assert (
        list(stub.GetSessions(pb2.GetSessionsRequest(instrument_type_id="niScope")).sessions) == []
    )


def test_multiplexer_sessions_registration(
    client: SessionManagementClient, register_pin_map: Callable[[str], str]
) -> None:
    context = PinMapContext(register_pin_map("Multiplexed.pinmap"), sites=[0])

    (found,) = client.get_multiplexer_sessions(context).multiplexer_session_info
    assert (found.session_name, found.multiplexer_type_id, found.session_exists) == (
        "Multiplexer1",
        "TestMultiplexerType",
        False,
    )
    client.register_multiplexer_sessions([found])
    with pytest.raises(grpc.RpcError) as excinfo:
        client.register_multiplexer_sessions([found])
    assert rpc_error(excinfo)[0] == grpc.StatusCode.ALREADY_EXISTS

    registered = client.get_all_registered_multiplexer_sessions("TestMultiplexerType")
    assert [m.session_name for m in registered.multiplexer_session_info] == ["Multiplexer1"]
    assert client.get_all_registered_multiplexer_sessions("Other").multiplexer_session_info == []
    with client.reserve_sessions(context, "A") as reservation:
        assert [m.session_exists for m in reservation.multiplexer_session_info] == [True]

    client.unregister_multiplexer_sessions([found])
    assert client.get_all_registered_multiplexer_sessions().multiplexer_session_info == []
    with pytest.raises(grpc.RpcError) as excinfo:
        client.get_multiplexer_sessions(PinMapContext(context.pin_map_id, sites=[9]))
    assert rpc_error(excinfo)[0] == grpc.StatusCode.INVALID_ARGUMENT


# --- Contention and timeouts --------------------------------------------------------------------


def reserve_in_background(
    executor: ThreadPoolExecutor,
    client: SessionManagementClient,
    context: PinMapContext,
    pins: str | list[str],
    timeout: float,
) -> Future[MultiSessionReservation]:
    return executor.submit(client.reserve_sessions, context, pins, None, timeout)


def test_waiting_reservation_wakes_promptly_when_released(
    client: SessionManagementClient,
    other_client: SessionManagementClient,
    register_pin_map: Callable[[str], str],
    session_part: SessionManagementPart,
    executor: ThreadPoolExecutor,
) -> None:
    context = PinMapContext(register_pin_map("2Dmm2Pin1Site.pinmap"), sites=[0])
    holder = client.reserve_sessions(context, "Pin1")
    waiter = reserve_in_background(executor, other_client, context, "Pin1", timeout=30.0)
    wait_until(lambda: session_part.reservations.waiting_count == 1, "the second client waits")
    assert not waiter.done()

    released = time.monotonic()
    holder.unreserve()
    with waiter.result(timeout=BOUND) as reservation:
        woke_after = time.monotonic() - released
        assert [info.resource_name for info in reservation.session_info] == ["DMM1"]

    assert woke_after < 2.0, f"woke {woke_after:.2f} s after the release (timeout was 30 s)"


def test_infinite_timeout_waits_until_released(
    client: SessionManagementClient,
    other_client: SessionManagementClient,
    register_pin_map: Callable[[str], str],
    session_part: SessionManagementPart,
    executor: ThreadPoolExecutor,
) -> None:
    context = PinMapContext(register_pin_map("2Dmm2Pin1Site.pinmap"), sites=[0])
    with client.reserve_sessions(context, "Pin1"):
        waiter = reserve_in_background(executor, other_client, context, "Pin1", timeout=-1)
        wait_until(lambda: session_part.reservations.waiting_count == 1, "the waiter waits")
    with waiter.result(timeout=BOUND) as reservation:
        assert len(reservation.session_info) == 1


def test_zero_timeout_fails_at_once_naming_the_session(
    client: SessionManagementClient,
    other_client: SessionManagementClient,
    register_pin_map: Callable[[str], str],
) -> None:
    context = PinMapContext(register_pin_map("2Dmm2Pin1Site.pinmap"), sites=[0])
    with client.reserve_sessions(context, "Pin1"):
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as excinfo:
            other_client.reserve_sessions(context, "Pin1", timeout=0)
        elapsed = time.monotonic() - started

    code, details = rpc_error(excinfo)
    assert code == grpc.StatusCode.UNAVAILABLE
    assert "niDMM-DMM1" in details
    assert elapsed < 1.0


def test_reservation_is_not_reentrant(
    client: SessionManagementClient, register_pin_map: Callable[[str], str]
) -> None:
    context = PinMapContext(register_pin_map("2Dmm2Pin1Site.pinmap"), sites=[0])
    with client.reserve_sessions(context, "Pin1"), pytest.raises(grpc.RpcError) as excinfo:
        client.reserve_sessions(context, "Pin1", timeout=0)
    assert rpc_error(excinfo)[0] == grpc.StatusCode.UNAVAILABLE


def test_too_short_timeout_fails_unavailable_after_waiting(
    client: SessionManagementClient,
    other_client: SessionManagementClient,
    register_pin_map: Callable[[str], str],
) -> None:
    context = PinMapContext(register_pin_map("2Dmm2Pin1Site.pinmap"), sites=[0])
    with client.reserve_sessions(context, "Pin1"):
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as excinfo:
            other_client.reserve_sessions(context, "Pin1", timeout=0.2)
        elapsed = time.monotonic() - started

    code, details = rpc_error(excinfo)
    assert code == grpc.StatusCode.UNAVAILABLE
    assert "200 ms" in details
    assert 0.19 <= elapsed < BOUND


def test_reservation_is_all_or_nothing(
    client: SessionManagementClient,
    other_client: SessionManagementClient,
    register_pin_map: Callable[[str], str],
) -> None:
    context = PinMapContext(register_pin_map("2Dmm2Pin1Site.pinmap"), sites=[0])
    with client.reserve_sessions(context, "Pin1"):
        with pytest.raises(grpc.RpcError) as excinfo:
            other_client.reserve_sessions(context, ["Pin1", "Pin2"], timeout=0)
        assert rpc_error(excinfo)[0] == grpc.StatusCode.UNAVAILABLE
        # The failed request held nothing: DMM2 is free.
        with other_client.reserve_sessions(context, "Pin2", timeout=0) as reservation:
            assert [info.resource_name for info in reservation.session_info] == ["DMM2"]


def test_nothing_stays_reserved_after_an_error_in_the_with_block(
    client: SessionManagementClient,
    other_client: SessionManagementClient,
    register_pin_map: Callable[[str], str],
) -> None:
    context = PinMapContext(register_pin_map("2Dmm2Pin1Site.pinmap"), sites=[0])

    with pytest.raises(RuntimeError, match="measurement failed"), client.reserve_sessions(context):
        raise RuntimeError("measurement failed")

    with other_client.reserve_sessions(context, timeout=0) as reservation:
        assert len(reservation.session_info) == 2


def test_reserve_all_registered_waits_and_times_out(
    client: SessionManagementClient,
    other_client: SessionManagementClient,
    register_pin_map: Callable[[str], str],
) -> None:
    context = PinMapContext(register_pin_map("2Dmm2Pin1Site.pinmap"), sites=[0])
    with client.reserve_sessions(context) as reservation:
        client.register_sessions(reservation.session_info)
        with pytest.raises(grpc.RpcError) as excinfo:
            other_client.reserve_all_registered_sessions(timeout=0)
        assert rpc_error(excinfo)[0] == grpc.StatusCode.UNAVAILABLE
    with other_client.reserve_all_registered_sessions(timeout=0) as registered:
        other_client.unregister_sessions(registered.session_info)


@pytest.mark.parametrize("timeout", [-2, -1000])
def test_timeout_below_minus_one_is_invalid(
    stub: pb2_grpc.SessionManagementServiceStub,
    register_pin_map: Callable[[str], str],
    timeout: int,
) -> None:
    pin_map_id = register_pin_map("2Dmm2Pin1Site.pinmap")
    reserve = pb2.ReserveSessionsRequest(timeout_in_milliseconds=timeout)
    reserve.pin_map_context.pin_map_id = pin_map_id
    reserve.pin_map_context.sites.append(0)

    with pytest.raises(grpc.RpcError) as excinfo:
        stub.ReserveSessions(reserve)
    code, details = rpc_error(excinfo)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert str(timeout) in details

    with pytest.raises(grpc.RpcError) as excinfo:
        stub.ReserveAllRegisteredSessions(
            pb2.ReserveAllRegisteredSessionsRequest(timeout_in_milliseconds=timeout)
        )
    assert rpc_error(excinfo)[0] == grpc.StatusCode.INVALID_ARGUMENT


def test_waiter_whose_deadline_passes_stops_waiting_and_holds_nothing(
    client: SessionManagementClient,
    register_pin_map: Callable[[str], str],
    session_part: SessionManagementPart,
    stub: pb2_grpc.SessionManagementServiceStub,
) -> None:
    context = PinMapContext(register_pin_map("2Dmm2Pin1Site.pinmap"), sites=[0])
    holder = client.reserve_sessions(context, "Pin1")
    request = pb2.ReserveSessionsRequest(
        pin_map_context=context._to_grpc(), pin_or_relay_names=["Pin1"], timeout_in_milliseconds=-1
    )

    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as excinfo:
        stub.ReserveSessions(request, timeout=0.3)
    assert rpc_error(excinfo)[0] == grpc.StatusCode.DEADLINE_EXCEEDED
    # The server-side waiter ends with the RPC, not at its (infinite) timeout.
    wait_until(lambda: session_part.reservations.waiting_count == 0, "the waiter gives up")
    assert time.monotonic() - started < 2.0

    holder.unreserve()
    with client.reserve_sessions(context, "Pin1", timeout=0):
        pass


def test_stop_fails_waiters_with_unavailable(
    client: SessionManagementClient,
    other_client: SessionManagementClient,
    register_pin_map: Callable[[str], str],
    session_part: SessionManagementPart,
    executor: ThreadPoolExecutor,
) -> None:
    context = PinMapContext(register_pin_map("2Dmm2Pin1Site.pinmap"), sites=[0])
    holder = client.reserve_sessions(context, "Pin1")
    waiter = reserve_in_background(executor, other_client, context, "Pin1", timeout=-1)
    wait_until(lambda: session_part.reservations.waiting_count == 1, "the waiter waits")

    session_part.stop()

    with pytest.raises(grpc.RpcError) as excinfo:
        waiter.result(timeout=BOUND)
    code, details = rpc_error(excinfo)
    assert code == grpc.StatusCode.UNAVAILABLE
    assert "shutting down" in details
    with contextlib.suppress(grpc.RpcError):
        holder.unreserve()


def test_multiplexer_session_information_type_is_nis(
    client: SessionManagementClient, register_pin_map: Callable[[str], str]
) -> None:
    context = PinMapContext(register_pin_map("Multiplexed.pinmap"), sites=[1])
    container = client.get_multiplexer_sessions(context, "TestMultiplexerType")
    assert all(
        isinstance(m, MultiplexerSessionInformation) for m in container.multiplexer_session_info
    )
