"""Waiting calls never starve the local platform's other stand-ins (real loopback gRPC, no mocks).

Every stand-in shares one gRPC server. These tests park many waiting calls on it (NI-DCPower event
waits and reservations with timeout -1) — some callers keep waiting, some set a short deadline,
some cancel — and check from the server's side that:

- Discovery, health checks and unreserve still answer at once;
- an unreserve wakes the reservation waiters itself (the periodic re-check is set far beyond the
  bounds below, so only the unreserve or the RPC's own end can wake a waiter);
- a wait ends when its caller cancels or its deadline passes (the waiter count returns to 0);
- a wait beyond a part's budget is refused at once with RESOURCE_EXHAUSTED, and nothing else is;
- a huge channel range is refused at once with NI-DCPower's unknown-channel error, and a slow
  init never holds the device server's session repository.

Time bounds are generous (BOUND) to stay reliable on a busy CI machine; the figures themselves
are measured by ``benchmarks/platform_stress.py``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import nidcpower
import pytest
import session_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ni.measurementlink.discovery.v1 import discovery_service_pb2 as discovery_pb2
from ni.measurementlink.discovery.v1 import discovery_service_pb2_grpc as discovery_pb2_grpc
from ni.measurementlink.pinmap.v1.client import PinMapClient
from ni.measurementlink.sessionmanagement.v1 import session_management_service_pb2 as sm_pb2
from ni.measurementlink.sessionmanagement.v1 import (
    session_management_service_pb2_grpc as sm_pb2_grpc,
)
from ni.measurementlink.sessionmanagement.v1.client import PinMapContext, SessionManagementClient
from nidcpower import nidcpower_pb2 as dcpower_pb2
from nidcpower import nidcpower_pb2_grpc as dcpower_pb2_grpc

from local_ni_platform.activation import activate
from local_ni_platform.device_server import (
    DCPowerSession,
    DeviceServerPart,
    DriverError,
    SessionRepository,
)
from local_ni_platform.device_server import errors as ds_errors
from local_ni_platform.device_server.dcpower_channels import ChannelTable
from local_ni_platform.parts import PlatformPart
from local_ni_platform.platform import LocalPlatform, server_workers
from local_ni_platform.session_management import (
    SessionManagementPart,
    pin_map_and_session_management_parts,
)
from local_ni_platform.waits import GENERAL_WORKERS
from session_core.behaviors import InitializationBehavior

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="on Windows NI's real platform services are used"
)

PINMAPS = Path(__file__).parent / "pinmaps"
BOUND = 5.0
"""Upper bound, in seconds, for something that should happen almost at once."""
QUICK = 1.0
"""Upper bound, in seconds, for one call that must not queue behind the waiters."""
BACKSTOP = 60.0
"""The parts' periodic re-check of waiting callers in these tests (far above every bound)."""
WAITERS = 64
"""Waits parked per kind (NI-DCPower events, reservations): 128 in all, 4x the old pool."""
SOURCE_COMPLETE = 1030
UNKNOWN_CHANNEL_NAME = -1074135008
SESSION_MANAGEMENT = "ni.measurementlink.sessionmanagement.v1.SessionManagementService"
# One connection per channel, as separate client processes would have.
OWN_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Bounded wait for the server-side state under test."""
    deadline = time.monotonic() + BOUND
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out waiting until {what}.")
        time.sleep(0.005)


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


@pytest.fixture
def device_part() -> DeviceServerPart:
    return DeviceServerPart(cancel_check_interval=BACKSTOP)


@pytest.fixture
def sm_parts() -> list[PlatformPart]:
    return pin_map_and_session_management_parts(cancel_check_interval=BACKSTOP)


@pytest.fixture
def session_part(sm_parts: list[PlatformPart]) -> SessionManagementPart:
    (part,) = [part for part in sm_parts if isinstance(part, SessionManagementPart)]
    return part


@pytest.fixture
def platform(
    state_dir: Path, sm_parts: list[PlatformPart], device_part: DeviceServerPart
) -> Iterator[LocalPlatform]:
    with LocalPlatform(state_dir=state_dir, parts=[*sm_parts, device_part]) as running:
        assert activate() is True
        yield running


@pytest.fixture
def channel(platform: LocalPlatform) -> Iterator[grpc.Channel]:
    """The waiters' connection (every waiting call of these tests shares it)."""
    with grpc.insecure_channel(platform.discovery_address, options=OWN_CONNECTION) as opened:
        yield opened


@pytest.fixture
def probe(platform: LocalPlatform) -> Iterator[grpc.Channel]:
    """Another client's connection, for the calls that must not queue behind the waiters."""
    with grpc.insecure_channel(platform.discovery_address, options=OWN_CONNECTION) as opened:
        grpc.channel_ready_future(opened).result(timeout=BOUND)
        yield opened


@pytest.fixture
def context(platform: LocalPlatform) -> PinMapContext:
    with PinMapClient() as pin_maps:
        pin_map_id = pin_maps.update_pin_map(PINMAPS / "2Dmm2Pin1Site.pinmap")
    return PinMapContext(pin_map_id=pin_map_id, sites=[0])


def open_dcpower(channel: grpc.Channel, name: str = "smu", resource: str = "DCPower1/0") -> Any:
    """Initialize a DCPower session with NI's generated stub; return the stub."""
    stub = dcpower_pb2_grpc.NiDCPowerStub(channel)
    stub.InitializeWithIndependentChannels(
        dcpower_pb2.InitializeWithIndependentChannelsRequest(
            session_name=name, resource_name=resource
        ),
        timeout=BOUND,
    )
    return stub


def event_wait(stub: Any, name: str = "smu", *, timeout: float | None = None) -> grpc.Future:
    """WaitForEventWithChannels without a driver timeout: only the caller can end it."""
    request = dcpower_pb2.WaitForEventWithChannelsRequest(
        vi=session(name),
        channel_name="",
        event_id_raw=SOURCE_COMPLETE,
        timeout=-1.0,
    )
    future: grpc.Future = stub.WaitForEventWithChannels.future(request, timeout=timeout)
    return future


def reserve_request(context: PinMapContext, pin: str = "Pin1") -> sm_pb2.ReserveSessionsRequest:
    return sm_pb2.ReserveSessionsRequest(
        pin_map_context=context._to_grpc(), pin_or_relay_names=[pin], timeout_in_milliseconds=-1
    )


def resolve_and_check_health(probe: grpc.Channel) -> tuple[float, float]:
    """Seconds for a discovery resolve and for a health check, from another client."""
    discovery = discovery_pb2_grpc.DiscoveryServiceStub(probe)
    health = health_pb2_grpc.HealthStub(probe)
    resolve = discovery_pb2.ResolveServiceRequest(
        provided_interface=SESSION_MANAGEMENT, service_class=SESSION_MANAGEMENT
    )
    resolve_seconds = timed(lambda: discovery.ResolveService(resolve, timeout=BOUND))
    health_seconds = timed(
        lambda: health.Check(health_pb2.HealthCheckRequest(service=""), timeout=BOUND)
    )
    return resolve_seconds, health_seconds


def refused_code(future: grpc.Future) -> grpc.StatusCode:
    error = future.exception(timeout=BOUND)
    assert isinstance(error, grpc.RpcError), error
    code: grpc.StatusCode = error.code()
    return code


# --- Waits never starve the others --------------------------------------------------------------


def test_the_pool_keeps_general_workers_beyond_every_budget(
    platform: LocalPlatform, device_part: DeviceServerPart, session_part: SessionManagementPart
) -> None:
    assert server_workers(platform.parts) == (
        GENERAL_WORKERS + device_part.max_waiting_calls + session_part.max_waiting_calls
    )
    assert device_part.max_waiting_calls >= WAITERS
    assert session_part.max_waiting_calls >= WAITERS


def test_abandoned_waits_do_not_block_discovery_health_or_unreserve(
    channel: grpc.Channel,
    probe: grpc.Channel,
    context: PinMapContext,
    device_part: DeviceServerPart,
    session_part: SessionManagementPart,
) -> None:
    dcpower = open_dcpower(channel)
    sessions = sm_pb2_grpc.SessionManagementServiceStub(channel)
    holder = sessions.ReserveSessions(reserve_request(context), timeout=BOUND)

    # A third of each kind keeps waiting, a third sets a short deadline, a third cancels.
    kept = [event_wait(dcpower) for _ in range(WAITERS // 3)]
    kept += [sessions.ReserveSessions.future(reserve_request(context)) for _ in range(WAITERS // 3)]
    expiring = [event_wait(dcpower, timeout=0.3) for _ in range(WAITERS // 3)]
    expiring += [
        sessions.ReserveSessions.future(reserve_request(context), timeout=0.3)
        for _ in range(WAITERS // 3)
    ]
    cancelled = [event_wait(dcpower) for _ in range(WAITERS - 2 * (WAITERS // 3))]
    cancelled += [
        sessions.ReserveSessions.future(reserve_request(context))
        for _ in range(WAITERS - 2 * (WAITERS // 3))
    ]
    wait_until(
        lambda: (
            device_part.waits.active + session_part.reservations.waiting_count
            == len(kept) + len(expiring) + len(cancelled)
        ),
        "every waiter waits on the server",
    )
    for future in cancelled:
        future.cancel()

    resolve_seconds, health_seconds = resolve_and_check_health(probe)
    assert resolve_seconds < QUICK, f"discovery resolve took {resolve_seconds:.3f} s"
    assert health_seconds < QUICK, f"health check took {health_seconds:.3f} s"

    # Cancelled and expired waiters leave the server; the kept ones still wait.
    wait_until(
        lambda: (
            device_part.waits.active == WAITERS // 3
            and session_part.reservations.waiting_count == WAITERS // 3
        ),
        "the cancelled and expired waiters are gone",
    )
    assert all(refused_code(f) == grpc.StatusCode.DEADLINE_EXCEEDED for f in expiring)

    # The holder's unreserve is not queued behind the waiters.
    unreserve = sm_pb2.UnreserveSessionsRequest(sessions=holder.sessions)
    probe_sessions = sm_pb2_grpc.SessionManagementServiceStub(probe)
    assert timed(lambda: probe_sessions.UnreserveSessions(unreserve, timeout=BOUND)) < QUICK
    for future in kept:
        future.cancel()
    wait_until(
        lambda: device_part.waits.active == 0 and session_part.reservations.waiting_count == 0,
        "every waiter is gone",
    )
    resolve_seconds, health_seconds = resolve_and_check_health(probe)
    assert max(resolve_seconds, health_seconds) < QUICK


def test_an_unreserve_wakes_the_waiters_itself(
    channel: grpc.Channel,
    probe: grpc.Channel,
    context: PinMapContext,
    session_part: SessionManagementPart,
) -> None:
    sessions = sm_pb2_grpc.SessionManagementServiceStub(channel)
    probe_sessions = sm_pb2_grpc.SessionManagementServiceStub(probe)
    holder = sessions.ReserveSessions(reserve_request(context), timeout=BOUND)
    waiters = [sessions.ReserveSessions.future(reserve_request(context)) for _ in range(WAITERS)]
    wait_until(lambda: session_part.reservations.waiting_count == WAITERS, "all wait")

    # Each unreserve answers at once and hands the session to exactly one waiter at once (the
    # re-check interval is 60 s: nothing else could wake it).
    unreserve = sm_pb2.UnreserveSessionsRequest(sessions=holder.sessions)
    for remaining in range(WAITERS - 1, WAITERS - 9, -1):
        assert timed(lambda: probe_sessions.UnreserveSessions(unreserve, timeout=BOUND)) < QUICK
        wait_until(
            lambda remaining=remaining: session_part.reservations.waiting_count == remaining,
            f"one waiter got the session ({remaining} left)",
        )
    wait_until(lambda: sum(f.done() for f in waiters) == 8, "8 waiters have their answer")
    assert all(f.result().sessions == holder.sessions for f in waiters if f.done())

    for future in waiters:
        future.cancel()
    wait_until(lambda: session_part.reservations.waiting_count == 0, "the waiters are gone")
    probe_sessions.UnreserveSessions(unreserve, timeout=BOUND)
    with SessionManagementClient() as client, client.reserve_sessions(context, "Pin1", timeout=0):
        pass


def test_an_unreserve_skips_a_waiter_that_still_lacks_a_session(
    channel: grpc.Channel,
    probe: grpc.Channel,
    context: PinMapContext,
    session_part: SessionManagementPart,
) -> None:
    sessions = sm_pb2_grpc.SessionManagementServiceStub(channel)
    probe_sessions = sm_pb2_grpc.SessionManagementServiceStub(probe)
    pin1 = sessions.ReserveSessions(reserve_request(context, "Pin1"), timeout=BOUND)
    pin2 = sessions.ReserveSessions(reserve_request(context, "Pin2"), timeout=BOUND)
    both = reserve_request(context, "Pin1")
    both.pin_or_relay_names.append("Pin2")
    first = sessions.ReserveSessions.future(both)  # all or nothing: needs Pin2 as well
    wait_until(lambda: session_part.reservations.waiting_count == 1, "the first waiter waits")
    second = sessions.ReserveSessions.future(reserve_request(context, "Pin1"))
    wait_until(lambda: session_part.reservations.waiting_count == 2, "the second waiter waits")

    # Pin1 goes to the second waiter at once: the first could not use it.
    probe_sessions.UnreserveSessions(
        sm_pb2.UnreserveSessionsRequest(sessions=pin1.sessions), timeout=BOUND
    )
    assert second.result(timeout=BOUND).sessions == pin1.sessions
    assert not first.done()
    probe_sessions.UnreserveSessions(
        sm_pb2.UnreserveSessionsRequest(sessions=pin2.sessions), timeout=BOUND
    )
    probe_sessions.UnreserveSessions(
        sm_pb2.UnreserveSessionsRequest(sessions=pin1.sessions), timeout=BOUND
    )
    assert len(first.result(timeout=BOUND).sessions) == 2
    wait_until(lambda: session_part.reservations.waiting_count == 0, "nobody waits")


# --- A wait ends with its caller ----------------------------------------------------------------


def test_event_wait_ends_when_the_callers_deadline_passes(
    channel: grpc.Channel, device_part: DeviceServerPart
) -> None:
    dcpower = open_dcpower(channel)
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as excinfo:
        event_wait(dcpower, timeout=0.3).result()
    assert excinfo.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    wait_until(lambda: device_part.waits.active == 0, "the server-side wait ends")
    assert time.monotonic() - started < BOUND  # not at the re-check interval (60 s)


def test_event_wait_ends_when_the_caller_cancels(
    channel: grpc.Channel, device_part: DeviceServerPart
) -> None:
    dcpower = open_dcpower(channel)
    waiter = event_wait(dcpower)
    wait_until(lambda: device_part.waits.active == 1, "the wait starts")
    waiter.cancel()
    wait_until(lambda: device_part.waits.active == 0, "the server-side wait ends")
    # The session still works for the next caller.
    dcpower.InitiateWithChannels(
        dcpower_pb2.InitiateWithChannelsRequest(vi=session("smu"), channel_name=""),
        timeout=BOUND,
    )
    event_wait(dcpower, timeout=BOUND).result()


def test_reservation_wait_ends_when_the_caller_cancels(
    channel: grpc.Channel, context: PinMapContext, session_part: SessionManagementPart
) -> None:
    sessions = sm_pb2_grpc.SessionManagementServiceStub(channel)
    holder = sessions.ReserveSessions(reserve_request(context), timeout=BOUND)
    waiter = sessions.ReserveSessions.future(reserve_request(context))
    wait_until(lambda: session_part.reservations.waiting_count == 1, "the waiter waits")
    waiter.cancel()
    wait_until(lambda: session_part.reservations.waiting_count == 0, "the waiter gives up")
    sessions.UnreserveSessions(
        sm_pb2.UnreserveSessionsRequest(sessions=holder.sessions), timeout=BOUND
    )
    # The cancelled waiter took nothing.
    sessions.ReserveSessions(
        sm_pb2.ReserveSessionsRequest(
            pin_map_context=context._to_grpc(), pin_or_relay_names=["Pin1"]
        ),
        timeout=BOUND,
    )


# --- A full budget refuses further waits, and nothing else --------------------------------------


@pytest.fixture
def small_budgets(state_dir: Path) -> Iterator[tuple[LocalPlatform, DeviceServerPart]]:
    device = DeviceServerPart(max_waiting_calls=2, cancel_check_interval=BACKSTOP)
    parts = [*pin_map_and_session_management_parts(max_waiting_calls=2), device]
    with LocalPlatform(state_dir=state_dir, parts=parts) as running:
        assert activate() is True
        assert server_workers(parts) == GENERAL_WORKERS + 4
        yield running, device


def test_a_full_budget_refuses_waits_at_once_and_nothing_else(
    small_budgets: tuple[LocalPlatform, DeviceServerPart],
) -> None:
    platform, device = small_budgets
    (session_part,) = [p for p in platform.parts if isinstance(p, SessionManagementPart)]
    with PinMapClient() as pin_maps:
        pin_map_id = pin_maps.update_pin_map(PINMAPS / "2Dmm2Pin1Site.pinmap")
    context = PinMapContext(pin_map_id=pin_map_id, sites=[0])
    with grpc.insecure_channel(platform.discovery_address) as channel:
        dcpower = open_dcpower(channel)
        sessions = sm_pb2_grpc.SessionManagementServiceStub(channel)
        sessions.ReserveSessions(reserve_request(context), timeout=BOUND)
        waits = [event_wait(dcpower) for _ in range(2)]
        reservations = [sessions.ReserveSessions.future(reserve_request(context)) for _ in "ab"]
        wait_until(
            lambda: device.waits.active == 2 and session_part.reservations.waiting_count == 2,
            "both budgets are full",
        )

        started = time.monotonic()
        assert refused_code(event_wait(dcpower)) == grpc.StatusCode.RESOURCE_EXHAUSTED
        refused = sessions.ReserveSessions.future(reserve_request(context))
        assert refused_code(refused) == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "already waiting" in (refused.exception().details() or "")
        assert time.monotonic() - started < QUICK * 2

        # Calls that need not wait are served: a free session, an event that already occurred.
        free = sm_pb2.ReserveSessionsRequest(
            pin_map_context=context._to_grpc(), pin_or_relay_names=["Pin2"]
        )
        assert len(sessions.ReserveSessions(free, timeout=BOUND).sessions) == 1
        open_dcpower(channel, "other")
        dcpower.InitiateWithChannels(
            dcpower_pb2.InitiateWithChannelsRequest(vi=session("other"), channel_name=""),
            timeout=BOUND,
        )
        event_wait(dcpower, "other", timeout=BOUND).result()

        for future in [*waits, *reservations]:
            future.cancel()
        wait_until(
            lambda: device.waits.active == 0 and session_part.reservations.waiting_count == 0,
            "the budgets are free again",
        )


# --- Channel strings: linear, bounded by the instrument, outside the repository lock -------------


def test_a_huge_channel_range_is_refused_at_once_with_the_unknown_channel_error(
    channel: grpc.Channel, probe: grpc.Channel
) -> None:
    options = nidcpower.GrpcSessionOptions(channel, session_name="huge")
    started = time.monotonic()
    with pytest.raises(nidcpower.errors.DriverError) as excinfo:
        nidcpower.Session("DCPower1/0-1000000", reset=False, options={}, grpc_options=options)
    elapsed = time.monotonic() - started
    assert excinfo.value.code == UNKNOWN_CHANNEL_NAME
    assert "DCPower1/0-1000000" in excinfo.value.description
    assert elapsed < QUICK, f"refused after {elapsed:.3f} s"

    # Nothing was registered, and the same range in a call's channel string fails as fast.
    good = nidcpower.GrpcSessionOptions(probe, session_name="huge")
    with nidcpower.Session("DCPower1/0-3", reset=False, options={}, grpc_options=good) as smu:
        assert smu.channel_count == 4
        started = time.monotonic()
        with pytest.raises(nidcpower.errors.DriverError) as excinfo:
            smu.channels["DCPower1/0-1000000"].measure_multiple()
        assert excinfo.value.code == UNKNOWN_CHANNEL_NAME
        assert time.monotonic() - started < QUICK


@pytest.mark.parametrize(
    "resource",
    [
        "DCPower1/0-1000000",
        "DCPower1/1000000-0",
        "DCPower1/4",
        "DCPower1/0:4",
        "DCPower1/0-" + "9" * 5000,
        ",".join(f"DCPower{i}/0" for i in range(20_000)) + ",DCPower1/0-1000000",
    ],
)
def test_channel_parsing_checks_ranges_before_expanding_them(resource: str) -> None:
    started = time.perf_counter()
    with pytest.raises(DriverError) as excinfo:
        ChannelTable.independent_channels(resource, 4)
    assert excinfo.value.code == ds_errors.UNKNOWN_CHANNEL_NAME
    assert time.perf_counter() - started < QUICK


def test_channel_parsing_is_linear() -> None:
    """8,000 channels (the issue's case took 4.1 s): well under a second, and no repeats missed."""
    resource = ",".join(f"DCPower{i}/0-3" for i in range(2_000))
    started = time.perf_counter()
    assert len(ChannelTable.independent_channels(resource, 4).names) == 8_000
    assert time.perf_counter() - started < QUICK
    with pytest.raises(DriverError) as excinfo:
        ChannelTable.independent_channels(resource + ",dcpower1999/3", 4)
    assert excinfo.value.code == ds_errors.DUPLICATE_CHANNEL_STRING
    assert DCPowerSession("DCPower1").channel_names_at("3-0") == (
        "DCPower1/3,DCPower1/2,DCPower1/1,DCPower1/0"
    )
    with pytest.raises(DriverError) as excinfo:
        DCPowerSession("DCPower1").channel_names_at("0-1000000")
    assert excinfo.value.code == ds_errors.INVALID_VALUE


def test_a_slow_init_does_not_hold_the_repository() -> None:
    repository = SessionRepository()
    repository.open("fast", InitializationBehavior.UNSPECIFIED, DCPowerSession, make("DCPower2"))
    release = threading.Event()
    entered = threading.Event()

    def slow_init() -> DCPowerSession:
        entered.set()
        assert release.wait(BOUND)
        return DCPowerSession("DCPower1")

    with ThreadPoolExecutor(max_workers=2) as pool:
        slow = pool.submit(
            repository.open, "slow", InitializationBehavior.UNSPECIFIED, DCPowerSession, slow_init
        )
        assert entered.wait(BOUND)
        # While the init runs, other sessions are looked up, opened and closed.
        assert repository.get("fast", DCPowerSession).channel_names == tuple(
            f"DCPower2/{i}" for i in range(4)
        )
        repository.open("third", InitializationBehavior.UNSPECIFIED, DCPowerSession, make("X"))
        repository.remove("third", DCPowerSession).close()
        release.set()
        assert slow.result(timeout=BOUND).new_session_initialized


def test_racing_inits_outside_the_lock_still_make_one_session() -> None:
    repository = SessionRepository()
    barrier = threading.Barrier(2)
    made: list[DCPowerSession] = []

    def init() -> DCPowerSession:
        instrument = DCPowerSession("DCPower1/0")
        made.append(instrument)
        barrier.wait(BOUND)  # both inits run at once, neither has published yet
        return instrument

    def open_new() -> Any:
        return repository.open("same", InitializationBehavior.UNSPECIFIED, DCPowerSession, init)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = [f.result(timeout=BOUND) for f in [pool.submit(open_new) for _ in "ab"]]
    assert sorted(r.new_session_initialized for r in results) == [False, True]
    assert results[0].instrument is results[1].instrument
    assert repository.names() == ["same"]
    (loser,) = [m for m in made if m is not results[0].instrument]
    assert loser.closed


# --- Stopping -----------------------------------------------------------------------------------


def test_sigterm_stops_a_platform_with_waiters_at_once(state_dir: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "local_ni_platform", "--state-dir", str(state_dir)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        with ThreadPoolExecutor(max_workers=1) as reader:
            ready = reader.submit(process.stdout.readline).result(timeout=30)
        address = ready.split("discovery at ", 1)[1].split(" ", 1)[0]
        with grpc.insecure_channel(address) as channel:
            dcpower = open_dcpower(channel)
            waiters = [event_wait(dcpower) for _ in range(8)]
            time.sleep(0.2)
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
            stopped_after = time.monotonic() - started
            assert all(future.exception(timeout=BOUND) is not None for future in waiters)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert stopped_after < BOUND, f"stopped {stopped_after:.1f} s after SIGTERM"


def make(resource: str) -> Callable[[], DCPowerSession]:
    return lambda: DCPowerSession(resource)


def session(name: str) -> Any:
    return session_pb2.Session(name=name)
