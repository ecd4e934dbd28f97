"""TestStand code module: the results database sessions the sequence's steps share (one
connection and one transaction each).

Call ``create_results_database_sessions`` from a Setup step (or ProcessSetup) and
``destroy_results_database_sessions`` from a Cleanup step (or ProcessCleanup), both with the
SequenceContext.

- Setup reserves every results database of the pin map, opens each one's session on the Results
  Database Service with INITIALIZE_SESSION_THEN_DETACH (left open when the step returns) and
  registers them, so the measurement steps record their rows in the run's one transaction. If
  anything fails, it closes (rolls back) and unregisters what it opened: a failed Setup leaves
  nothing open and nothing registered.
- Cleanup reserves the registered sessions, unregisters them, then attaches to each
  (ATTACH_TO_SESSION_THEN_CLOSE), commits when the sequence passed or rolls back when a step
  failed or raised an error, and closes it: a run's rows become visible all together or not at
  all. A session it cannot close is registered again, so "registered"
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

from results_client import (
    RESULTS_DATABASE_INSTRUMENT_TYPE,
    ResultsDatabaseClient,
    ResultsDatabaseSessionConstructor,
)
from session_core.client_errors import ResourceRefusedError
from teststand.errors import (
    RESERVATION_TIMEOUT_SECONDS,
    SessionCleanupError,
    SessionsAlreadyRegisteredError,
)
from teststand.sequence_context import SequenceContext, read_pin_map_id, sequence_passed


def create_results_database_sessions(sequence_context: SequenceContext) -> list[str]:
    """Setup: open and register the pin map's results database sessions; return their session ids.

    Each id is also the run id of the rows the measurement steps record without one.
    """
    pin_map_context = PinMapContext(pin_map_id=read_pin_map_id(sequence_context), sites=None)
    with (
        SessionManagementClient() as session_management,
        session_management.reserve_sessions(
            pin_map_context,
            instrument_type_id=RESULTS_DATABASE_INSTRUMENT_TYPE,
            timeout=RESERVATION_TIMEOUT_SECONDS,
        ) as reservation,
    ):
        sessions = list(reservation.session_info)
        registered = [info.session_name for info in sessions if info.session_exists]
        if registered:
            raise SessionsAlreadyRegisteredError("results database", registered)
        try:
            behavior = SessionInitializationBehavior.INITIALIZE_SESSION_THEN_DETACH
            with reservation.initialize_sessions(
                ResultsDatabaseSessionConstructor(behavior), RESULTS_DATABASE_INSTRUMENT_TYPE
            ) as opened:
                session_ids = [info.session.session_id for info in opened]
            session_management.register_sessions(sessions)
        except BaseException:
            close_results_database_sessions(sessions, commit=False)
            session_management.unregister_sessions(sessions)
            raise
    return session_ids


def destroy_results_database_sessions(sequence_context: SequenceContext) -> list[str]:
    """Cleanup: unregister every registered results database session, commit it (the sequence
    passed) or roll it back (it failed), and close it; return their session names.
    """
    commit = sequence_passed(sequence_context)
    with (
        SessionManagementClient() as session_management,
        session_management.reserve_all_registered_sessions(
            instrument_type_id=RESULTS_DATABASE_INSTRUMENT_TYPE, timeout=RESERVATION_TIMEOUT_SECONDS
        ) as reservation,
    ):
        sessions = list(reservation.session_info)
        if not sessions:
            return []
        session_management.unregister_sessions(sessions)
        not_closed = close_results_database_sessions(sessions, commit=commit)
        if not_closed:
            session_management.register_sessions([info for info, _ in not_closed])
            raise SessionCleanupError(
                "results database", [(info.session_name, error) for info, error in not_closed]
            )
    return [info.session_name for info in sessions]


def close_results_database_sessions(
    sessions: Sequence[SessionInformation], *, commit: bool
) -> list[tuple[SessionInformation, Exception]]:
    """Attach to each database's session, commit or roll back its transaction, and close it;
    return those that failed.

    A session that is not open (the service answers NOT_FOUND) counts as closed.
    """
    failed: list[tuple[SessionInformation, Exception]] = []
    for info in sessions:
        try:
            with ResultsDatabaseClient(
                info.resource_name,
                initialization_behavior=SessionInitializationBehavior.ATTACH_TO_SESSION_THEN_CLOSE,
            ) as database:
                if commit:
                    database.commit()
                else:
                    database.rollback()
        except ResourceRefusedError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:
                failed.append((info, error))
        except Exception as error:
            failed.append((info, error))
    return failed
