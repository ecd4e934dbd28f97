"""TestStand code module: the JSON logger (log-file) sessions the sequence's steps share.

Call ``create_json_logger_sessions`` from a Setup step (or ProcessSetup) with the SequenceContext,
and ``destroy_json_logger_sessions`` from a Cleanup step (or ProcessCleanup).

- Setup reserves every log file of the pin map, opens each file's session on the JSON Logger
  Service with INITIALIZE_SESSION_THEN_DETACH (left open when the step returns) and registers
  them, so the measurement steps attach to them (AUTO). If anything fails, it closes and
  unregisters what it opened: a failed Setup leaves nothing open and nothing registered.
- Cleanup reserves the registered sessions, unregisters them, then attaches to each and closes it
  (ATTACH_TO_SESSION_THEN_CLOSE). A session it cannot close is registered again, so "registered"
  always means "open" and the next Cleanup retries it; one that is not open counts as closed.

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

from logger_client import (
    JSON_LOGGER_INSTRUMENT_TYPE,
    JsonLoggerClient,
    JsonLoggerSessionConstructor,
)
from session_core.client_errors import ResourceRefusedError
from teststand.errors import (
    RESERVATION_TIMEOUT_SECONDS,
    SessionCleanupError,
    SessionsAlreadyRegisteredError,
)
from teststand.sequence_context import SequenceContext, read_pin_map_id


def create_json_logger_sessions(sequence_context: SequenceContext) -> list[str]:
    """Setup: open and register the pin map's log-file sessions; return their session ids.

    The ids are the JSON Logger Service's: every record the measurement steps write through
    these sessions carries the same id.
    """
    pin_map_context = PinMapContext(pin_map_id=read_pin_map_id(sequence_context), sites=None)
    with (
        SessionManagementClient() as session_management,
        session_management.reserve_sessions(
            pin_map_context,
            instrument_type_id=JSON_LOGGER_INSTRUMENT_TYPE,
            timeout=RESERVATION_TIMEOUT_SECONDS,
        ) as reservation,
    ):
        sessions = list(reservation.session_info)
        registered = [info.session_name for info in sessions if info.session_exists]
        if registered:
            raise SessionsAlreadyRegisteredError("JSON logger", registered)
        try:
            behavior = SessionInitializationBehavior.INITIALIZE_SESSION_THEN_DETACH
            with reservation.initialize_sessions(
                JsonLoggerSessionConstructor(behavior), JSON_LOGGER_INSTRUMENT_TYPE
            ) as opened:
                session_ids = [info.session.session_id for info in opened]
            session_management.register_sessions(sessions)
        except BaseException:
            close_json_logger_sessions(sessions)
            session_management.unregister_sessions(sessions)
            raise
    return session_ids


def destroy_json_logger_sessions() -> list[str]:
    """Cleanup: unregister, attach to and close every registered log-file session; return their
    session names.
    """
    with (
        SessionManagementClient() as session_management,
        session_management.reserve_all_registered_sessions(
            instrument_type_id=JSON_LOGGER_INSTRUMENT_TYPE, timeout=RESERVATION_TIMEOUT_SECONDS
        ) as reservation,
    ):
        sessions = list(reservation.session_info)
        if not sessions:
            return []
        session_management.unregister_sessions(sessions)
        not_closed = close_json_logger_sessions(sessions)
        if not_closed:
            session_management.register_sessions([info for info, _ in not_closed])
            raise SessionCleanupError(
                "JSON logger", [(info.session_name, error) for info, error in not_closed]
            )
    return [info.session_name for info in sessions]


def close_json_logger_sessions(
    sessions: Sequence[SessionInformation],
) -> list[tuple[SessionInformation, Exception]]:
    """Attach to each log file's session and close it; return those that failed.

    A session that is not open (the service answers NOT_FOUND) counts as closed.
    """
    failed: list[tuple[SessionInformation, Exception]] = []
    for info in sessions:
        try:
            with JsonLoggerClient(
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
