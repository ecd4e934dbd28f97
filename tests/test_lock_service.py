"""The Hardware Lock Service over a real process: holds and waiting in turn, attaching by id,
leases, releasing, every documented status code, callers that go away, killed clients, mutual
exclusion between processes, and the PostgreSQL backend shared by two services.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.sessionmanagement.v1.client import (
    SessionInformation,
    SessionInitializationBehavior,
)

from hardware_lock import hardware_lock_pb2 as pb
from hardware_lock.hardware_lock_pb2_grpc import HardwareLockStub
from lock_client import (
    HOLD_ID_ANNOTATION,
    HardwareLockClient,
    HardwareLockSessionConstructor,
    HoldEndedError,
    LockHeldError,
)
from lock_service.backends import TOKENS_TABLE
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.programs import start_lock_service
from tests.grpc_helpers import rpc_error
from tests.lock_marks import read_marks
from tests.postgres_server import PostgresServer, PostgresUnavailableError, find_bin_dir

TIMEOUT = 10.0
NEW = pb.SESSION_INITIALIZATION_BEHAVIOR_INITIALIZE_NEW
ATTACH = pb.SESSION_INITIALIZATION_BEHAVIOR_ATTACH_TO_EXISTING
UNSPECIFIED = pb.SESSION_INITIALIZATION_BEHAVIOR_UNSPECIFIED
MARKS_SCRIPT = Path(__file__).with_name("lock_marks.py")
StatusCode = grpc.StatusCode


@pytest.fixture(scope="module")
def lock_process() -> Iterator[ServiceProcess]:
    """One Hardware Lock Service process for the module, without discovery."""
    process = start_lock_service(discovery=False, arguments=["--max-lease", "120"])
    yield process
    assert process.stop() == 0, process.stderr_tail


@pytest.fixture(scope="module")
def address(lock_process: ServiceProcess) -> str:
    return lock_process.address


@pytest.fixture
def stub(address: str) -> Iterator[HardwareLockStub]:
    """A raw stub; afterwards the test's holds are released and nobody waits."""
    with grpc.insecure_channel(address) as channel:
        lock_stub = HardwareLockStub(channel)
        yield lock_stub
        for session in lock_stub.ListSessions(pb.ListSessionsRequest(), timeout=TIMEOUT).sessions:
            assert session.waiters == 0, f"{session.resource_name}: callers still wait"
            with contextlib.suppress(grpc.RpcError):
                lock_stub.ReleaseLock(pb.ReleaseLockRequest(session_id=session.session_id))


@pytest.fixture
def lock() -> str:
    """A lock name of this test's own."""
    return f"Switch matrix {uuid.uuid4().hex[:8]}"


def acquire(
    stub: HardwareLockStub,
    lock: str,
    *,
    behavior: int = NEW,
    session_id: str = "",
    wait_ms: int = 0,
    lease_ms: int = 0,
    holder: str = "",
    timeout: float = TIMEOUT,
) -> pb.AcquireLockResponse:
    response: pb.AcquireLockResponse = stub.AcquireLock(
        pb.AcquireLockRequest(
            resource_name=lock,
            session_initialization_behavior=behavior,  # type: ignore[arg-type]
            session_id=session_id,
            timeout_in_milliseconds=wait_ms,
            lease_in_milliseconds=lease_ms,
            holder=holder,
        ),
        timeout=timeout,
    )
    return response


def release(stub: HardwareLockStub, session_id: str) -> pb.ReleaseLockResponse:
    response: pb.ReleaseLockResponse = stub.ReleaseLock(
        pb.ReleaseLockRequest(session_id=session_id), timeout=TIMEOUT
    )
    return response


def hold_of(stub: HardwareLockStub, session_id: str) -> pb.SessionDescription:
    sessions = stub.ListSessions(pb.ListSessionsRequest(), timeout=TIMEOUT).sessions
    (found,) = [s for s in sessions if s.session_id == session_id]
    return found


def wait_until(condition: object, *, timeout: float = TIMEOUT) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def waiters(stub: HardwareLockStub, session_id: str) -> int:
    return hold_of(stub, session_id).waiters


# -- holds -----------------------------------------------------------------------------------


def test_a_new_hold_returns_its_id_token_and_lease(stub: HardwareLockStub, lock: str) -> None:
    response = acquire(stub, lock, lease_ms=5000, holder="socket 0")

    assert response.new_session_initialized
    assert response.session_id
    assert response.fencing_token > 0
    assert response.lease_in_milliseconds == 5000
    assert response.resource_name == lock
    left = response.lease_expires_at.ToDatetime().timestamp() - time.time()
    assert 3.0 < left <= 5.5
    described = hold_of(stub, response.session_id)
    assert (described.holder, described.fencing_token) == ("socket 0", response.fencing_token)


def test_a_held_lock_with_no_wait_is_refused_at_once_naming_the_holder(
    stub: HardwareLockStub, lock: str
) -> None:
    held = acquire(stub, lock, holder="socket 0")

    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as excinfo:
        acquire(stub, f"  {lock.upper()} ", wait_ms=0)  # the same lock, spelled otherwise

    code, details = rpc_error(excinfo)
    assert code is StatusCode.ALREADY_EXISTS
    assert "socket 0" in details and held.session_id in details
    assert time.monotonic() - started < 1.0


def test_a_wait_that_ends_first_is_already_exists_and_leaves_the_queue(
    stub: HardwareLockStub, lock: str
) -> None:
    held = acquire(stub, lock)

    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as excinfo:
        acquire(stub, lock, wait_ms=300)

    assert rpc_error(excinfo)[0] is StatusCode.ALREADY_EXISTS
    assert 0.25 < time.monotonic() - started < 2.0
    assert waiters(stub, held.session_id) == 0


def test_the_caller_deadline_ends_a_wait_with_deadline_exceeded(
    stub: HardwareLockStub, lock: str
) -> None:
    held = acquire(stub, lock)

    with pytest.raises(grpc.RpcError) as excinfo:
        acquire(stub, lock, wait_ms=-1, timeout=0.5)

    assert rpc_error(excinfo)[0] is StatusCode.DEADLINE_EXCEEDED
    assert waiters(stub, held.session_id) == 0


def test_waiters_get_the_lock_first_come_first_served(stub: HardwareLockStub, lock: str) -> None:
    first = acquire(stub, lock)
    order: list[int] = []

    def wait_in_turn(index: int) -> None:
        hold = acquire(stub, lock, wait_ms=TIMEOUT_MS)
        order.append(index)
        release(stub, hold.session_id)

    threads = []
    for index in range(6):
        thread = threading.Thread(target=wait_in_turn, args=(index,))
        thread.start()
        threads.append(thread)
        wait_until(lambda count=index + 1: waiters(stub, first.session_id) == count)
    release(stub, first.session_id)
    for thread in threads:
        thread.join(TIMEOUT)

    assert order == list(range(6))


TIMEOUT_MS = int(TIMEOUT * 1000)


def test_every_new_hold_has_a_greater_fencing_token(stub: HardwareLockStub, lock: str) -> None:
    tokens = []
    for _ in range(5):
        hold = acquire(stub, lock)
        tokens.append(hold.fencing_token)
        release(stub, hold.session_id)

    assert tokens == sorted(tokens) and len(set(tokens)) == 5


def test_tokens_keep_growing_after_the_service_restarts(lock: str) -> None:
    def one_token() -> int:
        with start_lock_service(discovery=False) as service:
            with HardwareLockClient(lock, address=service.address) as hold:
                return hold.fencing_token

    assert one_token() < one_token()


def test_a_release_hands_the_lock_on_and_a_second_release_is_not_found(
    stub: HardwareLockStub, lock: str
) -> None:
    held = acquire(stub, lock)
    time.sleep(0.05)

    assert release(stub, held.session_id).held_for_milliseconds >= 50
    acquire(stub, lock, wait_ms=0)  # free at once
    with pytest.raises(grpc.RpcError) as excinfo:
        release(stub, held.session_id)
    code, details = rpc_error(excinfo)
    assert code is StatusCode.NOT_FOUND and held.session_id in details


def test_anyone_who_knows_the_id_releases_a_stuck_hold(address: str, lock: str) -> None:
    stuck = HardwareLockClient(lock, address=address, holder="crashed sequence")
    stuck.__enter__()
    with grpc.insecure_channel(address) as channel:
        operator = HardwareLockStub(channel)
        (found,) = [
            s
            for s in operator.ListSessions(pb.ListSessionsRequest(), timeout=TIMEOUT).sessions
            if s.resource_name == lock
        ]
        assert found.holder == "crashed sequence"
        release(operator, found.session_id)

    with HardwareLockClient(lock, address=address, wait=0) as hold:
        assert hold.fencing_token > stuck.fencing_token


# -- attaching -------------------------------------------------------------------------------


def test_an_attach_with_the_id_joins_that_hold(stub: HardwareLockStub, lock: str) -> None:
    held = acquire(stub, lock)

    for behavior in (ATTACH, UNSPECIFIED):
        joined = acquire(stub, lock.lower(), behavior=behavior, session_id=held.session_id)
        assert (joined.session_id, joined.new_session_initialized) == (held.session_id, False)
        assert joined.fencing_token == held.fencing_token

    assert hold_of(stub, held.session_id).attaches == 2


def test_an_attach_naming_a_hold_of_another_lock_is_refused(
    stub: HardwareLockStub, lock: str
) -> None:
    other = acquire(stub, f"{lock} other")
    acquire(stub, lock)

    with pytest.raises(grpc.RpcError) as excinfo:
        acquire(stub, lock, behavior=ATTACH, session_id=other.session_id)

    code, details = rpc_error(excinfo)
    assert code is StatusCode.FAILED_PRECONDITION
    assert f"{lock} other" in details


def test_an_attach_by_name_alone_joins_the_current_hold(stub: HardwareLockStub, lock: str) -> None:
    with pytest.raises(grpc.RpcError) as excinfo:
        acquire(stub, lock, behavior=ATTACH)
    assert rpc_error(excinfo)[0] is StatusCode.NOT_FOUND

    held = acquire(stub, lock)
    joined = acquire(stub, lock, behavior=ATTACH)

    assert (joined.session_id, joined.new_session_initialized) == (held.session_id, False)


def test_unspecified_without_an_id_waits_rather_than_joining(
    stub: HardwareLockStub, lock: str
) -> None:
    acquire(stub, lock)

    with pytest.raises(grpc.RpcError) as excinfo:
        acquire(stub, lock, behavior=UNSPECIFIED, wait_ms=0)

    assert rpc_error(excinfo)[0] is StatusCode.ALREADY_EXISTS


def test_an_attach_to_a_released_hold_is_not_found(stub: HardwareLockStub, lock: str) -> None:
    held = acquire(stub, lock)
    release(stub, held.session_id)
    acquire(stub, lock)  # someone else's now

    with pytest.raises(grpc.RpcError) as excinfo:
        acquire(stub, lock, behavior=ATTACH, session_id=held.session_id)

    assert rpc_error(excinfo)[0] is StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("request_fields", "named"),
    [
        ({"resource_name": ""}, "empty"),
        ({"resource_name": "x" * 257}, "256"),
        ({"resource_name": "bad\x07name"}, "control"),
        ({"resource_name": "bad\nname"}, "U+000A"),  # not tidied into a space
        ({"resource_name": "bad\tname"}, "U+0009"),
        ({"resource_name": "bad\x85name"}, "U+0085"),
        ({"session_initialization_behavior": 7}, "behavio"),
        ({"timeout_in_milliseconds": -2}, "timeout_in_milliseconds"),
        ({"lease_in_milliseconds": -1}, "lease_in_milliseconds"),
        ({"session_id": "0f6c6f2e-1f0a-4a57-9d1e-0c3c3c3c3c3c"}, "INITIALIZE_NEW"),
    ],
)
def test_bad_requests_are_invalid_argument_naming_the_rule(
    stub: HardwareLockStub, lock: str, request_fields: dict[str, object], named: str
) -> None:
    fields: dict[str, object] = {"resource_name": lock, "session_initialization_behavior": NEW}
    fields.update(request_fields)

    with pytest.raises(grpc.RpcError) as excinfo:
        stub.AcquireLock(pb.AcquireLockRequest(**fields), timeout=TIMEOUT)  # type: ignore[arg-type]

    code, details = rpc_error(excinfo)
    assert code is StatusCode.INVALID_ARGUMENT
    assert named.lower() in details.lower()
    assert len(details) < 400


@pytest.mark.parametrize("call", ["RenewLock", "ReleaseLock"])
def test_an_empty_session_id_is_invalid_argument(stub: HardwareLockStub, call: str) -> None:
    request = pb.RenewLockRequest() if call == "RenewLock" else pb.ReleaseLockRequest()

    with pytest.raises(grpc.RpcError) as excinfo:
        getattr(stub, call)(request, timeout=TIMEOUT)

    assert rpc_error(excinfo)[0] is StatusCode.INVALID_ARGUMENT


# -- leases ----------------------------------------------------------------------------------


def test_an_expired_lease_hands_the_lock_to_the_next_waiter(
    stub: HardwareLockStub, lock: str
) -> None:
    crashed = acquire(stub, lock, lease_ms=400)

    started = time.monotonic()
    successor = acquire(stub, lock, wait_ms=TIMEOUT_MS)

    assert 0.3 < time.monotonic() - started < 2.0
    assert successor.fencing_token > crashed.fencing_token
    for call in (
        lambda: stub.RenewLock(pb.RenewLockRequest(session_id=crashed.session_id)),
        lambda: release(stub, crashed.session_id),
        lambda: acquire(stub, lock, behavior=ATTACH, session_id=crashed.session_id),
    ):
        with pytest.raises(grpc.RpcError) as excinfo:
            call()
        code, details = rpc_error(excinfo)
        assert code is StatusCode.ABORTED
        assert "lease" in details and "ran out" in details


def test_renewing_and_attaching_keep_a_hold_past_its_lease(
    stub: HardwareLockStub, lock: str
) -> None:
    held = acquire(stub, lock, lease_ms=400)

    for step in range(6):  # 1.2 s in all, three leases
        time.sleep(0.2)
        if step % 2:
            stub.RenewLock(pb.RenewLockRequest(session_id=held.session_id), timeout=TIMEOUT)
        else:
            acquire(stub, lock, behavior=ATTACH, session_id=held.session_id)

    assert hold_of(stub, held.session_id).session_id == held.session_id


def test_a_lease_is_capped_at_the_service_maximum(stub: HardwareLockStub, lock: str) -> None:
    held = acquire(stub, lock, lease_ms=10_000_000)

    assert held.lease_in_milliseconds == 120_000  # --max-lease 120


# -- callers that go away --------------------------------------------------------------------


def test_sixty_four_waiters_cancelled_at_random_leave_the_queue_empty(
    stub: HardwareLockStub, address: str, lock: str
) -> None:
    held = acquire(stub, lock)
    chooser = random.Random(21)
    calls = [
        stub.AcquireLock.future(
            pb.AcquireLockRequest(
                resource_name=lock,
                session_initialization_behavior=NEW,
                timeout_in_milliseconds=-1,
            ),
            timeout=chooser.uniform(0.3, 2.0) if index % 2 else 60,
        )
        for index in range(64)
    ]
    wait_until(lambda: waiters(stub, held.session_id) == 64)

    with grpc.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for call in chooser.sample(calls, len(calls)):
            call.cancel()  # the deadlines of half of them may come first
            status = health.Check(health_pb2.HealthCheckRequest(), timeout=2).status
            assert status == health_pb2.HealthCheckResponse.SERVING

    wait_until(lambda: waiters(stub, held.session_id) == 0, timeout=5)
    assert {call.code() for call in calls} <= {StatusCode.CANCELLED, StatusCode.DEADLINE_EXCEEDED}
    release(stub, held.session_id)
    acquire(stub, lock, wait_ms=0)  # nobody took it meanwhile


def test_waiters_past_the_stream_limit_are_refused_at_once_and_the_service_keeps_serving(
    lock: str,
) -> None:
    service = start_lock_service(discovery=False, arguments=["--max-streams", "2"])
    try:
        with grpc.insecure_channel(service.address) as channel:
            lock_stub = HardwareLockStub(channel)
            held = acquire(lock_stub, lock)
            waiting = []
            for queued in (1, 2):  # one after the other: the first in line is waiting[0]
                waiting.append(
                    lock_stub.AcquireLock.future(
                        pb.AcquireLockRequest(
                            resource_name=lock,
                            session_initialization_behavior=NEW,
                            timeout_in_milliseconds=-1,
                        ),
                        timeout=60,
                    )
                )
                wait_until(lambda n=queued: waiters(lock_stub, held.session_id) == n)

            started = time.monotonic()
            with pytest.raises(grpc.RpcError) as refused:
                acquire(lock_stub, lock, wait_ms=-1)
            assert time.monotonic() - started < 1.0
            code, details = rpc_error(refused)
            assert code is StatusCode.RESOURCE_EXHAUSTED
            assert "2 callers already wait" in details and "--max-streams" in details
            other = acquire(lock_stub, f"{lock} other")  # a free lock is still granted
            health = health_pb2_grpc.HealthStub(channel)
            status = health.Check(health_pb2.HealthCheckRequest(), timeout=2).status
            assert status == health_pb2.HealthCheckResponse.SERVING

            release(lock_stub, held.session_id)  # the first waiter gets it, the second still waits
            first = waiting[0].result(timeout=TIMEOUT)
            again = lock_stub.AcquireLock.future(  # room for one more waiter
                pb.AcquireLockRequest(
                    resource_name=lock,
                    session_initialization_behavior=NEW,
                    timeout_in_milliseconds=-1,
                ),
                timeout=60,
            )
            wait_until(lambda: waiters(lock_stub, first.session_id) == 2)
            for call in (waiting[1], again):
                call.cancel()
            wait_until(lambda: waiters(lock_stub, first.session_id) == 0)
            release(lock_stub, first.session_id)
            release(lock_stub, other.session_id)
    finally:
        assert service.stop() == 0, service.stderr_tail


def _holding_client(address: str, lock: str, lease: float) -> subprocess.Popen[str]:
    code = (
        "import sys, time\n"
        "from lock_client import HardwareLockClient\n"
        f"hold = HardwareLockClient({lock!r}, address={address!r}, lease={lease})\n"
        "hold.__enter__()\n"
        "print(hold.fencing_token, flush=True)\n"
        "time.sleep(600)\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )


def test_a_killed_holder_gives_the_lock_to_the_next_waiter_within_its_lease(
    address: str, lock: str
) -> None:
    client = _holding_client(address, lock, lease=1.0)
    assert client.stdout is not None
    token = int(client.stdout.readline())
    killed_at = time.monotonic()
    os.kill(client.pid, signal.SIGKILL)
    client.wait(TIMEOUT)

    with HardwareLockClient(lock, address=address, wait=TIMEOUT) as successor:
        waited = time.monotonic() - killed_at

    assert successor.fencing_token > token
    assert waited < 1.0 + 0.5


def test_a_client_without_a_wait_limit_waits_until_the_release(
    stub: HardwareLockStub, address: str, lock: str
) -> None:
    held = acquire(stub, lock)
    got: list[int] = []

    def wait_for_it() -> None:
        with HardwareLockClient(lock, address=address, wait=None) as hold:  # no gRPC deadline
            got.append(hold.fencing_token)

    waiting = threading.Thread(target=wait_for_it)
    waiting.start()
    wait_until(lambda: waiters(stub, held.session_id) == 1)
    release(stub, held.session_id)
    waiting.join(TIMEOUT)

    assert got and got[0] > held.fencing_token


def test_a_killed_waiting_client_leaves_the_queue_at_once(
    stub: HardwareLockStub, address: str, lock: str
) -> None:
    held = acquire(stub, lock)
    code = (
        "from lock_client import HardwareLockClient\n"
        f"with HardwareLockClient({lock!r}, address={address!r}, wait=None):\n"
        "    print('got it', flush=True)\n"
    )
    waiter = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        wait_until(lambda: waiters(stub, held.session_id) == 1)
        killed_at = time.monotonic()
        os.kill(waiter.pid, signal.SIGKILL)
        waiter.wait(TIMEOUT)
        wait_until(lambda: waiters(stub, held.session_id) == 0)
        left_after = time.monotonic() - killed_at
    finally:
        if waiter.poll() is None:
            waiter.kill()

    assert left_after < 1.0
    release(stub, held.session_id)
    acquire(stub, lock, wait_ms=0)  # not promised to the dead waiter


# -- the client and the session constructor ----------------------------------------------


def test_the_client_refuses_with_a_typed_error_when_the_lock_stays_held(
    address: str, lock: str
) -> None:
    with HardwareLockClient(lock, address=address, holder="socket 0"):
        with pytest.raises(LockHeldError, match="socket 0"):
            with HardwareLockClient(lock, address=address, wait=0.2):
                pass


def test_the_client_behaviours_release_exactly_when_nis_rules_say(
    stub: HardwareLockStub, address: str, lock: str
) -> None:
    behaviors = SessionInitializationBehavior
    with HardwareLockClient(
        lock, address=address, initialization_behavior=behaviors.INITIALIZE_SESSION_THEN_DETACH
    ) as setup:
        hold_id = setup.session_id
    assert hold_of(stub, hold_id)  # detached: still held

    for behavior in (behaviors.AUTO, behaviors.ATTACH_TO_SERVER_SESSION):
        with HardwareLockClient(
            lock, address=address, initialization_behavior=behavior, hold_id=hold_id
        ) as step:
            assert step.session_id == hold_id
        assert hold_of(stub, hold_id)  # a step attached: the hold stays

    with HardwareLockClient(
        lock,
        address=address,
        initialization_behavior=behaviors.ATTACH_TO_SESSION_THEN_CLOSE,
        hold_id=hold_id,
    ):
        pass
    acquire(stub, lock, wait_ms=0)  # cleanup released it


def test_a_step_run_alone_takes_and_releases_the_lock(address: str, lock: str) -> None:
    with HardwareLockClient(lock, address=address) as alone:  # AUTO, no hold id
        first = alone.fencing_token
    with HardwareLockClient(lock, address=address, wait=0) as next_one:
        assert next_one.fencing_token > first


def test_the_client_reports_an_ended_hold_as_hold_ended(address: str, lock: str) -> None:
    hold = HardwareLockClient(lock, address=address, lease=0.3)
    hold.__enter__()
    time.sleep(0.6)

    with pytest.raises(HoldEndedError, match="ran out"):
        hold.renew()
    with pytest.raises(HoldEndedError):
        hold.__exit__(None, None, None)


def test_the_session_constructor_attaches_to_the_hold_its_session_names(
    address: str, lock: str
) -> None:
    with HardwareLockClient(lock, address=address) as setup:
        session = SessionInformation(
            session_name="lock",
            resource_name=lock,
            channel_list="",
            instrument_type_id="HardwareLockService",
            session_exists=True,
            channel_mappings=[],
            annotations={HOLD_ID_ANNOTATION: setup.session_id},
        )
        with HardwareLockSessionConstructor(address=address, wait=0)(session) as step:
            assert (step.session_id, step.fencing_token) == (setup.session_id, setup.fencing_token)


# -- mutual exclusion between processes ------------------------------------------------------


def run_marking_clients(addresses: list[str], lock: str, marks: Path, count: int) -> None:
    workers = [
        subprocess.Popen(
            [sys.executable, str(MARKS_SCRIPT), address, lock, str(marks), str(count), f"p{n}"]
        )
        for n, address in enumerate(addresses)
    ]
    for worker in workers:
        assert worker.wait(120) == 0


@pytest.mark.slow
def test_two_processes_never_hold_the_lock_at_once(address: str, lock: str, tmp_path: Path) -> None:
    marks = tmp_path / "marks.txt"

    run_marking_clients([address, address], lock, marks, 500)

    found = read_marks(marks)
    assert (found.sections, found.overlaps) == (1000, 0)
    assert len(found.handovers_ns) > 100  # they took turns, not one after the other


def test_the_marks_check_sees_an_overlap(tmp_path: Path) -> None:
    marks = tmp_path / "marks.txt"
    marks.write_text("start a 0 1\nstart b 0 2\nend a 0 3\nend b 0 4\n")

    assert read_marks(marks).overlaps == 2


# -- shutdown --------------------------------------------------------------------------------


def test_stopping_the_service_ends_waits_at_once_and_every_hold(lock: str) -> None:
    service = start_lock_service(discovery=False)
    with grpc.insecure_channel(service.address) as channel:
        lock_stub = HardwareLockStub(channel)
        acquire(lock_stub, lock)
        waiting = lock_stub.AcquireLock.future(
            pb.AcquireLockRequest(
                resource_name=lock, session_initialization_behavior=NEW, timeout_in_milliseconds=-1
            ),
            timeout=60,
        )
        time.sleep(0.2)
        started = time.monotonic()
        assert service.stop() == 0, service.stderr_tail

        assert waiting.code() is StatusCode.UNAVAILABLE
        assert time.monotonic() - started < 3.0


# -- PostgreSQL: many services, one set of locks ---------------------------------------------


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the module's PostgreSQL tests."""
    try:
        bin_dir = find_bin_dir()
    except PostgresUnavailableError as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required on CI: {error}")
        pytest.skip(str(error))
    with PostgresServer(bin_dir) as server:
        yield server


@pytest.fixture
def pg_services(postgres: PostgresServer) -> Iterator[list[ServiceProcess]]:
    """Two Hardware Lock Services on one PostgreSQL server (as two stations' would be)."""
    env = {**os.environ, "HARDWARE_LOCK_POSTGRESQL": postgres.url}
    services = [start_lock_service(discovery=False, env=env) for _ in range(2)]
    yield services
    for service in services:
        assert service.stop() in (0, -signal.SIGKILL), service.stderr_tail


@pytest.mark.slow
def test_two_services_on_postgresql_exclude_each_other(
    pg_services: list[ServiceProcess], lock: str, postgres: PostgresServer
) -> None:
    first, second = (service.address for service in pg_services)
    with HardwareLockClient(lock, address=first, holder="station A") as station_a:
        with pytest.raises(LockHeldError, match="another Hardware Lock Service"):
            with HardwareLockClient(lock.upper(), address=second, wait=0.3):
                pass
    with HardwareLockClient(lock, address=second, wait=0) as station_b:
        assert station_b.fencing_token > station_a.fencing_token
    with psycopg.connect(postgres.url) as connection:
        row = connection.execute(
            f"SELECT token FROM {TOKENS_TABLE} WHERE lock_key = %s", (lock.lower(),)
        ).fetchone()
    assert row == (station_b.fencing_token,)


@pytest.mark.slow
def test_two_services_on_postgresql_never_hold_the_lock_at_once(
    pg_services: list[ServiceProcess], lock: str, tmp_path: Path
) -> None:
    marks = tmp_path / "marks.txt"

    run_marking_clients([service.address for service in pg_services], lock, marks, 500)

    found = read_marks(marks)
    assert (found.sections, found.overlaps) == (1000, 0)


@pytest.mark.slow
def test_a_killed_service_releases_its_holds_on_postgresql_at_once(
    pg_services: list[ServiceProcess], lock: str
) -> None:
    doomed, survivor = pg_services
    with grpc.insecure_channel(doomed.address) as channel:
        held = acquire(HardwareLockStub(channel), lock)  # a long lease: only the kill ends it

    result: dict[str, float] = {}

    def wait_on_the_other_station() -> None:
        with HardwareLockClient(lock, address=survivor.address, wait=TIMEOUT) as hold:
            result["at"] = time.monotonic()
            result["token"] = hold.fencing_token

    thread = threading.Thread(target=wait_on_the_other_station)
    thread.start()
    time.sleep(0.5)
    assert "at" not in result  # still held by the other service
    killed_at = time.monotonic()
    doomed.send_signal(signal.SIGKILL)
    thread.join(TIMEOUT)

    assert result["at"] - killed_at < 1.0
    assert result["token"] > held.fencing_token


# -- discovery -------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_hold_whose_database_connection_died_ends_and_the_lock_is_free_again(
    pg_services: list[ServiceProcess], lock: str, postgres: PostgresServer
) -> None:
    with grpc.insecure_channel(pg_services[0].address) as channel:
        station_a = HardwareLockStub(channel)
        held = acquire(station_a, lock, lease_ms=120_000)  # only the lost connection ends it
        postgres.restart()  # the server drops the hold's connection, and with it the lock
        restarted_at = time.monotonic()

        successor = acquire(station_a, lock, wait_ms=5_000)
        took = time.monotonic() - restarted_at
        with pytest.raises(grpc.RpcError) as ended:
            station_a.RenewLock(pb.RenewLockRequest(session_id=held.session_id), timeout=TIMEOUT)
        release(station_a, successor.session_id)

    assert successor.fencing_token > held.fencing_token
    assert took < 3.0  # the service notices within a second, not when the 120 s lease ends
    code, details = rpc_error(ended)
    assert code is StatusCode.ABORTED and "lost its connection" in details


@pytest.mark.slow
def test_a_lock_moved_from_memory_to_postgresql_keeps_its_tokens_growing(
    address: str, pg_services: list[ServiceProcess], lock: str
) -> None:
    with HardwareLockClient(lock, address=address, wait=0) as in_memory:
        pass
    with HardwareLockClient(lock, address=pg_services[0].address, wait=0) as on_postgresql:
        pass

    assert on_postgresql.fencing_token > in_memory.fencing_token


@pytest.mark.slow
def test_a_wait_on_postgresql_that_loses_the_server_is_unavailable(
    pg_services: list[ServiceProcess], lock: str, postgres: PostgresServer
) -> None:
    station_a, station_b = (service.address for service in pg_services)
    with HardwareLockClient(lock, address=station_b, holder="station B"):
        with grpc.insecure_channel(station_a) as channel:
            waiting = HardwareLockStub(channel).AcquireLock.future(
                pb.AcquireLockRequest(
                    resource_name=lock,
                    session_initialization_behavior=NEW,
                    timeout_in_milliseconds=-1,
                ),
                timeout=60,
            )
            time.sleep(0.5)  # station A waits on the server's advisory lock
            postgres.restart()
            with pytest.raises(grpc.RpcError) as lost:
                waiting.result(timeout=TIMEOUT)

    code, details = rpc_error(lost)
    assert code is StatusCode.UNAVAILABLE, details
    assert "lost the lock's PostgreSQL server" in details


def test_the_client_finds_the_service_through_nis_discovery(ni_platform: object, lock: str) -> None:
    with start_lock_service() as service:
        location = DiscoveryClient().resolve_service(
            provided_interface="ni.hardwarelock.v1.lock",
            service_class="ni.hardwarelock.HardwareLockService",
        )
        assert location.insecure_address == service.address
        with HardwareLockClient(lock) as hold:  # no address: resolved through discovery
            assert hold.fencing_token > 0
