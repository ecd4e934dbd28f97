"""The TestStand code module of the hardware lock, over the local NI platform and a real Hardware
Lock Service found through discovery: Setup waits for the lock and registers this socket's hold,
Cleanup releases only this socket's, failures leave nothing held.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from ni.measurementlink.pinmap.v1.client import PinMapClient
from ni.measurementlink.sessionmanagement.v1.client import PinMapContext, SessionManagementClient

from hardware_lock import hardware_lock_pb2 as pb
from hardware_lock.hardware_lock_pb2_grpc import HardwareLockStub
from local_ni_platform.activation import activate
from local_ni_platform.platform import LocalPlatform
from local_ni_platform.session_management import pin_map_and_session_management_parts
from lock_client import HARDWARE_LOCK_INSTRUMENT_TYPE, HOLD_ID_ANNOTATION, HardwareLockClient
from pinmap import TWO_SOCKETS_PIN_MAP_PATH, render_pin_map
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.programs import start_lock_service
from teststand import teststand_hardware_lock as lock_module
from teststand.errors import HoldsEndedError, SessionsAlreadyRegisteredError
from teststand.sequence_context import StandInSequenceContext

TIMEOUT = 10.0
LOCK = "Shared DMM"


@pytest.fixture(scope="module")
def pin_map_id(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The local platform (pin map and session management) with the two-socket pin map."""
    with pytest.MonkeyPatch.context() as patch:
        state_dir = tmp_path_factory.mktemp("platform")
        patch.setenv("NI_LOCAL_PLATFORM_DIR", str(state_dir))
        activate()
        with LocalPlatform(state_dir=state_dir, parts=pin_map_and_session_management_parts()):
            folder = tmp_path_factory.mktemp("pin-map")
            pin_map = render_pin_map(
                folder / "log.ndjson", folder / "TwoSockets.pinmap", source=TWO_SOCKETS_PIN_MAP_PATH
            )
            yield PinMapClient().update_pin_map(pin_map)


def _lock_service(pin_map_id: str, *arguments: str) -> Iterator[ServiceProcess]:
    service = start_lock_service(arguments=arguments)  # registered: the module finds it
    try:
        yield service
    finally:
        assert service.stop() == 0, service.stderr_tail
        with SessionManagementClient().reserve_all_registered_sessions(timeout=0) as reservation:
            assert list(reservation.session_info) == [], "a test left sessions registered"


@pytest.fixture
def lock_service(pin_map_id: str) -> Iterator[ServiceProcess]:
    yield from _lock_service(pin_map_id)


def socket(pin_map_id: str, index: int) -> StandInSequenceContext:
    return StandInSequenceContext(pin_map_id, socket_index=index)


def holds(service: ServiceProcess) -> list[pb.SessionDescription]:
    with grpc.insecure_channel(service.address) as channel:
        return list(
            HardwareLockStub(channel)
            .ListSessions(pb.ListSessionsRequest(), timeout=TIMEOUT)
            .sessions
        )


def registered_annotations(pin_map_id: str) -> list[dict[str, str]]:
    with SessionManagementClient().reserve_sessions(
        PinMapContext(pin_map_id, sites=None),
        instrument_type_id=HARDWARE_LOCK_INSTRUMENT_TYPE,
        timeout=TIMEOUT,
    ) as reservation:
        return [dict(info.annotations or {}) for info in reservation.session_info]


def test_setup_holds_the_lock_for_its_socket_and_cleanup_releases_it(
    pin_map_id: str, lock_service: ServiceProcess
) -> None:
    (hold_id,) = lock_module.create_hardware_lock_sessions(socket(pin_map_id, 1))

    (hold,) = holds(lock_service)
    assert (hold.session_id, hold.resource_name, hold.holder) == (hold_id, LOCK, "socket 1")
    (annotations,) = registered_annotations(pin_map_id)
    assert annotations[HOLD_ID_ANNOTATION] == hold_id
    assert annotations[lock_module.HOLDER_ANNOTATION] == "socket 1"

    assert lock_module.destroy_hardware_lock_sessions(socket(pin_map_id, 1)) == [hold_id]
    assert holds(lock_service) == []


def test_a_second_socket_waits_in_setup_and_gets_the_lock_when_the_first_releases_it(
    pin_map_id: str, lock_service: ServiceProcess
) -> None:
    (first,) = lock_module.create_hardware_lock_sessions(socket(pin_map_id, 0))
    second: list[str] = []
    waiting = threading.Thread(
        target=lambda: second.extend(
            lock_module.create_hardware_lock_sessions(socket(pin_map_id, 1))
        )
    )
    waiting.start()
    deadline = time.monotonic() + TIMEOUT
    while holds(lock_service)[0].waiters != 1:
        assert time.monotonic() < deadline, "socket 1 is not waiting for the lock"
        time.sleep(0.02)

    # socket 1's Cleanup (its Setup aborted, say) leaves socket 0's hold alone
    assert lock_module.destroy_hardware_lock_sessions(socket(pin_map_id, 1)) == []
    assert [h.session_id for h in holds(lock_service)] == [first]
    time.sleep(0.2)
    assert second == []  # still waiting

    lock_module.destroy_hardware_lock_sessions(socket(pin_map_id, 0))
    waiting.join(TIMEOUT)

    (hold,) = holds(lock_service)
    assert (hold.session_id, hold.holder) == (second[0], "socket 1")
    lock_module.destroy_hardware_lock_sessions(socket(pin_map_id, 1))


def test_a_setup_that_cannot_register_releases_the_lock_it_took(
    pin_map_id: str, lock_service: ServiceProcess
) -> None:
    sessions = SessionManagementClient()
    with sessions.reserve_sessions(
        PinMapContext(pin_map_id, sites=None),
        instrument_type_id=HARDWARE_LOCK_INSTRUMENT_TYPE,
        timeout=TIMEOUT,
    ) as reservation:
        stale = list(reservation.session_info)
        sessions.register_sessions(stale)  # a crashed run's registration
    try:
        with pytest.raises(SessionsAlreadyRegisteredError, match="hardware lock"):
            lock_module.create_hardware_lock_sessions(socket(pin_map_id, 0))

        assert holds(lock_service) == []
        with HardwareLockClient(LOCK, address=lock_service.address, wait=0):
            pass  # free
    finally:
        sessions.unregister_sessions(stale)


def test_cleanup_reports_a_hold_whose_lease_ran_out(pin_map_id: str) -> None:
    for service in _lock_service(pin_map_id, "--default-lease", "0.3"):
        lock_module.create_hardware_lock_sessions(socket(pin_map_id, 0))
        time.sleep(0.6)  # a step that ran past the lease

        with pytest.raises(HoldsEndedError, match="ran out") as raised:
            lock_module.destroy_hardware_lock_sessions(socket(pin_map_id, 0))

        assert raised.value.session_names == [LOCK]
        assert holds(service) == []


def test_the_module_reads_the_socket_of_a_context_without_sockets_as_zero(
    pin_map_id: str, lock_service: ServiceProcess
) -> None:
    lock_module.create_hardware_lock_sessions(StandInSequenceContext(pin_map_id))

    assert holds(lock_service)[0].holder == "socket 0"
    lock_module.destroy_hardware_lock_sessions(StandInSequenceContext(pin_map_id))


def test_release_holds_counts_an_already_released_hold_as_released(
    lock_service: ServiceProcess,
) -> None:
    with HardwareLockClient(LOCK, address=lock_service.address) as hold:
        hold_id = hold.session_id

    assert lock_module.release_holds({LOCK: hold_id}) == ({}, {})
