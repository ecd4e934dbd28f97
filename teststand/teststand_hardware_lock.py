"""TestStand code module: the hardware locks a test socket holds while its steps use a shared
instrument (a DMM, a switch matrix, a handler that two sockets or two stations share).

Call ``create_hardware_lock_sessions`` from the socket's Setup step and
``destroy_hardware_lock_sessions`` from its Cleanup step, both with the SequenceContext.

- Setup finds the pin map's locks (``HardwareLockService`` instruments), waits for each, first
  come first served, and holds it (INITIALIZE_SESSION_THEN_DETACH: still held when the step
  returns), then registers each lock session with its hold's id in an annotation, so that this
  socket's measurement steps join this hold and no other. It waits for a lock only while it holds
  no reservation: the socket holding the lock must be able to reserve it to release it. If
  anything fails, it releases what it took: a failed Setup holds nothing.
- Cleanup reserves the registered lock sessions, takes this socket's (the holder annotation),
  unregisters them and releases each hold (ATTACH_TO_SESSION_THEN_CLOSE): the next socket waiting
  gets the lock. A hold that had already ended (its lease ran out) is reported: the steps after
  that ran without the lock.

The file name is unique on purpose: TestStand resolves Python modules by file name.
"""

from __future__ import annotations

import grpc
from ni.measurementlink.sessionmanagement.v1.client import (
    PinMapContext,
    SessionInformation,
    SessionInitializationBehavior,
    SessionManagementClient,
)

from lock_client import (
    HARDWARE_LOCK_INSTRUMENT_TYPE,
    HOLD_ID_ANNOTATION,
    HardwareLockClient,
    HoldEndedError,
)
from session_core.client_errors import ResourceRefusedError
from teststand.errors import (
    RESERVATION_TIMEOUT_SECONDS,
    HoldsEndedError,
    SessionCleanupError,
    SessionsAlreadyRegisteredError,
)
from teststand.sequence_context import SequenceContext, read_pin_map_id, read_socket_index

LOCK_WAIT_SECONDS = 600.0
"""How long Setup waits for a lock that another socket or station holds."""
HOLDER_ANNOTATION = "hardware-lock/holder"
"""The annotation naming the socket whose hold a registered lock session is."""


def create_hardware_lock_sessions(sequence_context: SequenceContext) -> list[str]:
    """Setup: wait for and hold every lock of the pin map, then register the holds for this
    socket's steps; return the holds' session ids.
    """
    pin_map_context = PinMapContext(pin_map_id=read_pin_map_id(sequence_context), sites=None)
    holder = f"socket {read_socket_index(sequence_context)}"
    with SessionManagementClient() as session_management:
        # 1. Which locks: reserved only to read their names, and released before waiting.
        with session_management.reserve_sessions(
            pin_map_context,
            instrument_type_id=HARDWARE_LOCK_INSTRUMENT_TYPE,
            timeout=RESERVATION_TIMEOUT_SECONDS,
        ) as reservation:
            lock_names = sorted(info.resource_name for info in reservation.session_info)
        # 2. Wait for each lock, in one order for every socket (two locks never deadlock).
        hold_ids: dict[str, str] = {}
        try:
            for lock_name in lock_names:
                with HardwareLockClient(
                    lock_name,
                    initialization_behavior=SessionInitializationBehavior.INITIALIZE_SESSION_THEN_DETACH,
                    holder=holder,
                    wait=LOCK_WAIT_SECONDS,
                ) as hold:
                    hold_ids[lock_name] = hold.session_id
            # 3. Register each hold for this socket's steps: they attach with its id.
            with session_management.reserve_sessions(
                pin_map_context,
                instrument_type_id=HARDWARE_LOCK_INSTRUMENT_TYPE,
                timeout=RESERVATION_TIMEOUT_SECONDS,
            ) as reservation:
                sessions = list(reservation.session_info)
                registered = [info.session_name for info in sessions if info.session_exists]
                if registered:
                    raise SessionsAlreadyRegisteredError("hardware lock", registered)
                session_management.register_sessions(
                    [
                        info._replace(
                            annotations={
                                **(info.annotations or {}),
                                HOLD_ID_ANNOTATION: hold_ids[info.resource_name],
                                HOLDER_ANNOTATION: holder,
                            }
                        )
                        for info in sessions
                    ]
                )
        except BaseException:
            release_holds(hold_ids)
            raise
    return list(hold_ids.values())


def destroy_hardware_lock_sessions(sequence_context: SequenceContext) -> list[str]:
    """Cleanup: unregister this socket's lock sessions and release their holds; return the
    released holds' session ids.
    """
    holder = f"socket {read_socket_index(sequence_context)}"
    with (
        SessionManagementClient() as session_management,
        session_management.reserve_all_registered_sessions(
            instrument_type_id=HARDWARE_LOCK_INSTRUMENT_TYPE, timeout=RESERVATION_TIMEOUT_SECONDS
        ) as reservation,
    ):
        ours = [
            info
            for info in reservation.session_info
            if (info.annotations or {}).get(HOLDER_ANNOTATION) == holder
        ]
        if not ours:
            return []
        session_management.unregister_sessions(ours)
        hold_ids = {info.resource_name: _hold_id(info) for info in ours}
        ended, failed = release_holds(hold_ids)
        if failed:
            session_management.register_sessions(
                [info for info in ours if info.resource_name in failed]
            )
            raise SessionCleanupError("hardware lock", list(failed.items()))
        if ended:
            raise HoldsEndedError(list(ended.items()))
    return list(hold_ids.values())


def release_holds(
    hold_ids: dict[str, str],
) -> tuple[dict[str, HoldEndedError], dict[str, Exception]]:
    """Release each hold (lock name → hold id); return those that had ended and those that
    failed otherwise. A hold that is not open (NOT_FOUND: released already) counts as released.
    """
    ended: dict[str, HoldEndedError] = {}
    failed: dict[str, Exception] = {}
    for lock_name, hold_id in hold_ids.items():
        try:
            with HardwareLockClient(
                lock_name,
                initialization_behavior=SessionInitializationBehavior.ATTACH_TO_SESSION_THEN_CLOSE,
                hold_id=hold_id,
            ):
                pass
        except HoldEndedError as error:
            ended[lock_name] = error
        except ResourceRefusedError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:
                failed[lock_name] = error
        except Exception as error:
            failed[lock_name] = error
    return ended, failed


def _hold_id(info: SessionInformation) -> str:
    return (info.annotations or {}).get(HOLD_ID_ANNOTATION, "")
