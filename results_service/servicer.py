"""The ResultsDatabase servicer: maps requests to the session core and the results store, and errors
to gRPC status codes (``session_core.errors.reports_errors``). It holds no behaviour logic.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import grpc

from results_database import results_database_pb2 as pb
from results_database import results_database_pb2_grpc
from results_service.backends import backend_for
from results_service.store import Caller, ResultsStore, Row, StoredRow
from session_core import message_size, paths
from session_core.behaviors import InitializationBehavior
from session_core.errors import InvalidArgumentError, reports_errors
from session_core.registry import SessionRegistry
from session_core.timestamps import from_timestamp, to_timestamp

_logger = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ResultsDatabase"].full_name


def _row(message: pb.ResultRow, now: datetime) -> Row:
    """A received row (``now``: its time when it has none). The batch path: kept cheap."""
    has = message.HasField
    return Row(
        message.run_id,
        message.step_name,
        message.measurement_name,
        message.value,
        message.unit,
        message.low_limit if has("low_limit") else None,
        message.high_limit if has("high_limit") else None,
        message.site,
        from_timestamp(message.measured_at, field="measured_at") if has("measured_at") else now,
    )


def _caller(context: grpc.ServicerContext) -> Caller:
    return Caller(is_active=context.is_active, time_remaining=context.time_remaining)


def _stored(stored: StoredRow) -> pb.StoredResult:
    row = stored.row
    message = pb.StoredResult(
        row_id=stored.row_id,
        session_id=stored.session_id,
        row=pb.ResultRow(
            run_id=row.run_id,
            step_name=row.step_name,
            measurement_name=row.measurement_name,
            value=row.value,
            unit=row.unit,
            low_limit=row.low_limit,
            high_limit=row.high_limit,
            site=row.site,
            measured_at=to_timestamp(row.measured_at),
        ),
    )
    if stored.passed is not None:
        message.passed = stored.passed
    return message


class ResultsDatabaseServicer(results_database_pb2_grpc.ResultsDatabaseServicer):
    """Serves one session (one connection, one transaction) per database to many clients."""

    def __init__(self, *, allowed_dirs: Sequence[Path] = ()) -> None:
        """``allowed_dirs``: the only folders SQLite files may be in, resolved (empty: anywhere
        the service user can write). PostgreSQL URLs are not files and are not confined.
        """
        self.registry: SessionRegistry[ResultsStore] = SessionRegistry(
            resource_kind="results database"
        )
        self._allowed_dirs = tuple(allowed_dirs)

    @reports_errors
    def InitializeDatabase(  # noqa: N802 - gRPC method name
        self, request: pb.InitializeDatabaseRequest, context: grpc.ServicerContext
    ) -> pb.InitializeDatabaseResponse:
        """Create or attach to the session of a database, as the behaviour says."""
        behavior = InitializationBehavior.from_wire(request.session_initialization_behavior)
        resource = backend_for(request.resource_name).resource(request.resource_name)
        if resource.backend.kind == pb.BACKEND_SQLITE:
            paths.check_allowed(Path(resource.target), self._allowed_dirs, kind="results database")
        session, created = self.registry.initialize(
            resource.key,
            behavior,
            lambda: ResultsStore.open(resource),
            display_name=resource.display_name,
            # an attach proves the credentials the session was opened with, before anything else
            admit=lambda store: store.resource.check_credentials(resource),
        )
        return pb.InitializeDatabaseResponse(
            session_id=session.session_id,
            new_session_initialized=created,
            resource_name=session.resource.resource.display_name,
            backend=session.resource.backend.kind,
        )

    @reports_errors
    def RecordResult(  # noqa: N802 - gRPC method name
        self, request: pb.RecordResultRequest, context: grpc.ServicerContext
    ) -> pb.RecordResultResponse:
        """Record one row in the session's transaction."""
        row = _row(request.row, datetime.now(timezone.utc))
        with self.registry.use(request.session_id) as store:
            row_id = store.record([row], request.session_id, caller=_caller(context))
        return pb.RecordResultResponse(row_id=row_id or 0)

    @reports_errors
    def RecordResults(  # noqa: N802 - gRPC method name
        self, request: pb.RecordResultsRequest, context: grpc.ServicerContext
    ) -> pb.RecordResultsResponse:
        """Record many rows, all or none."""
        rows = []
        now = datetime.now(timezone.utc)  # the time of every row sent without one
        for index, message in enumerate(request.rows):
            try:
                rows.append(_row(message, now))
            except InvalidArgumentError as error:
                error.message = f"rows[{index}]: {error.message}"
                raise
        with self.registry.use(request.session_id) as store:
            if rows:
                store.record(rows, request.session_id, batch=True, caller=_caller(context))
        return pb.RecordResultsResponse(rows_recorded=len(rows))

    @reports_errors
    def ReadResults(  # noqa: N802 - gRPC method name
        self, request: pb.ReadResultsRequest, context: grpc.ServicerContext
    ) -> pb.ReadResultsResponse:
        """Read rows as the session's connection sees them."""
        with self.registry.use(request.session_id) as store:
            rows, more = store.read(
                session_id=request.session_id,
                run_id=request.run_id,
                after_row_id=request.after_row_id,
                max_rows=request.max_rows,
            )
        page = message_size.fits(_stored(row) for row in rows)  # under gRPC's 4 MiB
        return pb.ReadResultsResponse(results=page, more_rows=more or len(page) < len(rows))

    @reports_errors
    def Commit(  # noqa: N802 - gRPC method name
        self, request: pb.CommitRequest, context: grpc.ServicerContext
    ) -> pb.CommitResponse:
        """Commit the session's transaction."""
        with self.registry.use(request.session_id) as store:
            return pb.CommitResponse(rows_committed=store.commit(_caller(context)))

    @reports_errors
    def Rollback(  # noqa: N802 - gRPC method name
        self, request: pb.RollbackRequest, context: grpc.ServicerContext
    ) -> pb.RollbackResponse:
        """Roll the session's transaction back."""
        with self.registry.use(request.session_id) as store:
            return pb.RollbackResponse(rows_discarded=store.rollback())

    @reports_errors
    def CloseDatabase(  # noqa: N802 - gRPC method name
        self, request: pb.CloseDatabaseRequest, context: grpc.ServicerContext
    ) -> pb.CloseDatabaseResponse:
        """Close the session: uncommitted rows are rolled back."""
        session = self.registry.close(request.session_id)
        return pb.CloseDatabaseResponse(rows_discarded=session.resource.rows_discarded_on_close)

    @reports_errors
    def ListSessions(  # noqa: N802 - gRPC method name
        self, request: pb.ListSessionsRequest, context: grpc.ServicerContext
    ) -> pb.ListSessionsResponse:
        """Describe every open session."""
        return pb.ListSessionsResponse(sessions=list(self._describe_sessions()))

    def close_all(self) -> None:
        """Close every session (at shutdown): uncommitted rows are rolled back."""
        self.registry.close_all()

    def _describe_sessions(self) -> Iterable[pb.SessionDescription]:
        for session in self.registry.sessions():
            store = session.resource
            yield pb.SessionDescription(
                session_id=session.session_id,
                resource_name=store.resource.display_name,
                backend=store.backend.kind,
                opened_at=to_timestamp(session.opened_at),
                rows_pending=store.rows_pending,
                rows_committed=store.rows_committed,
            )
