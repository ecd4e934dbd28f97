"""``ResultsDatabaseClient``: one client session of the Results Database Service.

Entering initializes (creates or attaches to) the server session of one database as NI's
``SessionInitializationBehavior`` says; leaving closes it exactly when that behaviour says so
(the rules are :class:`session_core.client.SessionClient`'s). Closing a session that was not
committed rolls its rows back, so whoever owns the transaction commits: TestStand Cleanup when the
run passed, or a plug-in run on its own (``new_session_initialized``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import grpc

from results_database import results_database_pb2 as pb
from results_database import results_database_pb2_grpc
from session_core import message_size
from session_core.behaviors import InitializationBehavior
from session_core.client import SessionClient
from session_core.client_errors import ServiceNotFoundError
from session_core.paths import resolve_local_path
from session_core.timestamps import from_timestamp, to_timestamp

PROVIDED_INTERFACE = "ni.results.v1.database"
SERVICE_CLASS = "ni.results.ResultsDatabaseService"
DEFAULT_BATCH_SIZE = 500
_PAGE_SIZE = 1000
_URL_SCHEMES = ("postgresql://", "postgres://")


class ResultsDatabaseServiceNotFoundError(ServiceNotFoundError):
    """The Results Database Service could not be located or reached."""


@dataclass(frozen=True)
class ResultRow:
    """One result to record."""

    measurement_name: str
    value: float
    unit: str = ""
    low_limit: float | None = None
    high_limit: float | None = None
    step_name: str = ""
    run_id: str = ""
    """Empty: the server stores the session id (one run per session)."""
    site: int = 0
    measured_at: datetime | None = None
    """Empty: the server's receive time."""

    def to_message(self) -> pb.ResultRow:
        """The wire form."""
        message = pb.ResultRow(
            run_id=self.run_id,
            step_name=self.step_name,
            measurement_name=self.measurement_name,
            value=self.value,
            unit=self.unit,
            low_limit=self.low_limit,
            high_limit=self.high_limit,
            site=self.site,
            measured_at=None if self.measured_at is None else to_timestamp(self.measured_at),
        )
        return message


@dataclass(frozen=True)
class StoredResult:
    """A row read back."""

    row_id: int
    row: ResultRow
    session_id: str
    passed: bool | None

    @classmethod
    def from_message(cls, message: pb.StoredResult) -> StoredResult:
        """From the wire form."""
        row = message.row
        return cls(
            row_id=message.row_id,
            row=ResultRow(
                measurement_name=row.measurement_name,
                value=row.value,
                unit=row.unit,
                low_limit=row.low_limit if row.HasField("low_limit") else None,
                high_limit=row.high_limit if row.HasField("high_limit") else None,
                step_name=row.step_name,
                run_id=row.run_id,
                site=row.site,
                measured_at=from_timestamp(row.measured_at, field="measured_at"),
            ),
            session_id=message.session_id,
            passed=message.passed if message.HasField("passed") else None,
        )


def resolve_resource_name(resource_name: str | os.PathLike[str]) -> str:
    """What is sent: a PostgreSQL URL as it is, a path made absolute on this machine."""
    text = os.fspath(resource_name)
    if text.strip().lower().startswith(_URL_SCHEMES):
        return text.strip()
    return resolve_local_path(text)


class ResultsDatabaseClient(SessionClient[results_database_pb2_grpc.ResultsDatabaseStub]):
    """A client session of one results database on the Results Database Service."""

    PROVIDED_INTERFACE = PROVIDED_INTERFACE
    SERVICE_CLASS = SERVICE_CLASS
    SERVICE_DISPLAY_NAME = "Results Database Service"
    SERVICE_MODULE = "results_service"
    RESOURCE_KIND = "results database"
    INSTRUMENT_TYPE_ID = "ResultsDatabaseService"
    NOT_FOUND_ERROR = ResultsDatabaseServiceNotFoundError

    resolve_resource_name = staticmethod(resolve_resource_name)

    def _create_stub(self, channel: grpc.Channel) -> results_database_pb2_grpc.ResultsDatabaseStub:
        return results_database_pb2_grpc.ResultsDatabaseStub(channel)

    def _initialize_session(
        self, stub: results_database_pb2_grpc.ResultsDatabaseStub, behavior: InitializationBehavior
    ) -> tuple[str, bool]:
        response = stub.InitializeDatabase(
            pb.InitializeDatabaseRequest(
                resource_name=self.resource_name,
                session_initialization_behavior=int(behavior),  # type: ignore[arg-type]
            ),
            timeout=self._timeout,
        )
        return response.session_id, response.new_session_initialized

    def _close_session(self, stub: results_database_pb2_grpc.ResultsDatabaseStub) -> None:
        stub.CloseDatabase(
            pb.CloseDatabaseRequest(session_id=self.session_id), timeout=self._timeout
        )

    # -- results -----------------------------------------------------------------------------

    def record_result(
        self,
        measurement_name: str,
        value: float,
        *,
        unit: str = "",
        low_limit: float | None = None,
        high_limit: float | None = None,
        step_name: str = "",
        run_id: str = "",
        site: int = 0,
        measured_at: datetime | None = None,
    ) -> int:
        """Record one row in the session's transaction; return its row id."""
        row = ResultRow(
            measurement_name,
            value,
            unit,
            low_limit,
            high_limit,
            step_name,
            run_id,
            site,
            measured_at,
        )
        return self.record(row)

    def record(self, row: ResultRow) -> int:
        """Record one :class:`ResultRow`; return its row id."""
        self._require_open()
        with self._calling("record the result in"):
            response = self._get_stub().RecordResult(
                pb.RecordResultRequest(session_id=self.session_id, row=row.to_message()),
                timeout=self._timeout,
            )
        return response.row_id

    def record_results(
        self, rows: Iterable[ResultRow], *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> int:
        """Record many rows, ``batch_size`` (and at most 3 MiB) per call, each call all or nothing;
        return the count.

        ``rows`` may be a generator. When a batch is refused, the batches before it stay recorded
        (uncommitted) and the error names the row within the failing batch.
        """
        self._require_open()
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        recorded = 0
        messages = (row.to_message() for row in rows)
        for batch in message_size.batches(messages, max_items=batch_size):  # and at most 3 MiB
            with self._calling("record the results in"):
                response = self._get_stub().RecordResults(
                    pb.RecordResultsRequest(session_id=self.session_id, rows=batch),
                    timeout=self._timeout,
                )
            recorded += response.rows_recorded
        return recorded

    def read_results(self, *, run_id: str = "") -> list[StoredResult]:
        """Every row of ``run_id`` (default: the rows this session recorded), as this session sees
        them: its own uncommitted rows and everything committed.
        """
        return list(self.iter_results(run_id=run_id))

    def iter_results(self, *, run_id: str = "") -> Iterator[StoredResult]:
        """Like :meth:`read_results`, a page at a time."""
        self._require_open()
        after = 0
        while True:
            with self._calling("read the results of"):
                response = self._get_stub().ReadResults(
                    pb.ReadResultsRequest(
                        session_id=self.session_id,
                        run_id=run_id,
                        after_row_id=after,
                        max_rows=_PAGE_SIZE,
                    ),
                    timeout=self._timeout,
                )
            for message in response.results:
                yield StoredResult.from_message(message)
            if not response.more_rows or not response.results:
                return
            after = response.results[-1].row_id

    def commit(self) -> int:
        """Commit the session's transaction; return how many rows became visible."""
        self._require_open()
        with self._calling("commit the results in"):
            response = self._get_stub().Commit(
                pb.CommitRequest(session_id=self.session_id), timeout=self._timeout
            )
        return response.rows_committed

    def commit_if_created(self) -> int:
        """Commit when this client created the session; return how many rows became visible.

        Whoever created a session owns its transaction. Under TestStand, Setup created it and
        Cleanup commits (or rolls back) the whole run, so a step only adds its rows: this returns
        0 and commits nothing. A plug-in run on its own created the session
        (``new_session_initialized``), and closing it without a commit would roll its rows back.
        """
        if not self.new_session_initialized:
            self._require_open()
            return 0
        return self.commit()

    def rollback(self) -> int:
        """Discard the rows not yet committed; return how many."""
        self._require_open()
        with self._calling("roll back the results in"):
            response = self._get_stub().Rollback(
                pb.RollbackRequest(session_id=self.session_id), timeout=self._timeout
            )
        return response.rows_discarded
