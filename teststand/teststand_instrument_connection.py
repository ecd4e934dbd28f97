"""TestStand code module: the device connections the sequence's steps share (one connection
each, to a device that takes one client at a time).

Call ``create_instrument_connection_sessions`` from a Setup step (or ProcessSetup) with the
SequenceContext, and ``destroy_instrument_connection_sessions`` from a Cleanup step (or
ProcessCleanup).

- Setup reserves every device connection of the pin map, opens each on the Instrument Connection
  Service with INITIALIZE_SESSION_THEN_DETACH (left open when the step returns) and registers
  them, so the measurement steps use the one connection (a step's AUTO attaches). If anything
  fails (a device that cannot be reached), it closes and unregisters what it opened: a failed
  Setup leaves nothing open and nothing registered.
- Cleanup reserves the registered sessions, unregisters them, then attaches to each
  (ATTACH_TO_SESSION_THEN_CLOSE) and closes it. A session it cannot close is registered again, so
  "registered" always means "open" and the next Cleanup retries it; one that is not open counts
  as closed.

The file name is unique on purpose: TestStand resolves Python modules by file name.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from ni.measurementlink.sessionmanagement.v1.client import (
    PinMapContext,
    SessionInformation,
    SessionInitializationBehavior,
    SessionManagementClient,
)

from connection_client import (
    INSTRUMENT_CONNECTION_INSTRUMENT_TYPE,
    InstrumentConnectionClient,
    InstrumentConnectionSessionConstructor,
)
from session_core.client_errors import ResourceRefusedError
from teststand.errors import (
    RESERVATION_TIMEOUT_SECONDS,
    SessionCleanupError,
    SessionsAlreadyRegisteredError,
)
from teststand.sequence_context import SequenceContext, read_pin_map_id


def create_instrument_connection_sessions(sequence_context: SequenceContext) -> list[str]:
    """Setup: open and register the pin map's device connections; return their session ids."""
    pin_map_context = PinMapContext(pin_map_id=read_pin_map_id(sequence_context), sites=None)
    with (
        SessionManagementClient() as session_management,
        session_management.reserve_sessions(
            pin_map_context,
            instrument_type_id=INSTRUMENT_CONNECTION_INSTRUMENT_TYPE,
            timeout=RESERVATION_TIMEOUT_SECONDS,
        ) as reservation,
    ):
        sessions = list(reservation.session_info)
        registered = [info.session_name for info in sessions if info.session_exists]
        if registered:
            raise SessionsAlreadyRegisteredError("device connection", registered)
        try:
            behavior = SessionInitializationBehavior.INITIALIZE_SESSION_THEN_DETACH
            with reservation.initialize_sessions(
                InstrumentConnectionSessionConstructor(behavior),
                INSTRUMENT_CONNECTION_INSTRUMENT_TYPE,
            ) as opened:
                session_ids = [info.session.session_id for info in opened]
            session_management.register_sessions(sessions)
        except BaseException:
            close_instrument_connection_sessions(sessions)
            session_management.unregister_sessions(sessions)
            raise
    return session_ids


def destroy_instrument_connection_sessions() -> list[str]:
    """Cleanup: unregister and close every registered device connection; return their names."""
    with (
        SessionManagementClient() as session_management,
        session_management.reserve_all_registered_sessions(
            instrument_type_id=INSTRUMENT_CONNECTION_INSTRUMENT_TYPE,
            timeout=RESERVATION_TIMEOUT_SECONDS,
        ) as reservation,
    ):
        sessions = list(reservation.session_info)
        if not sessions:
            return []
        session_management.unregister_sessions(sessions)
        not_closed = close_instrument_connection_sessions(sessions)
        if not_closed:
            session_management.register_sessions([info for info, _ in not_closed])
            raise SessionCleanupError(
                "device connection", [(info.session_name, error) for info, error in not_closed]
            )
    return [info.session_name for info in sessions]


def close_instrument_connection_sessions(
    sessions: Sequence[SessionInformation],
) -> list[tuple[SessionInformation, Exception]]:
    """Attach to each device's session and close it; return those that failed.

    A session that is not open (the service answers NOT_FOUND) counts as closed.
    """
    failed: list[tuple[SessionInformation, Exception]] = []
    for info in sessions:
        try:
            with InstrumentConnectionClient(
                info.resource_name,
                initialization_behavior=SessionInitializationBehavior.ATTACH_TO_SESSION_THEN_CLOSE,
            ):
                pass
        except ResourceRefusedError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:
                failed.append((info, error))
        except Exception as error:
            failed.append((info, error))
    return failed
