"""The resource: one connection to a results database and the one transaction it carries.

One code path for both backends (``backends.py`` holds what differs). The transaction begins with
the first row recorded after opening, a commit or a rollback; each record call runs in a savepoint,
so a refused row (or batch) leaves the rows before it in place. Closing rolls back what was not
committed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NamedTuple

from results_service.backends import COLUMNS, LOCK_WAIT_SECONDS, Backend, Connection, Resource
from session_core import descriptors
from session_core.errors import (
    AbortedError,
    CancelledError,
    DeadlineExceededError,
    InternalError,
    InvalidArgumentError,
    ServiceError,
    UnavailableError,
    excerpt,
)

_logger = logging.getLogger(__name__)

ANSWER_MARGIN_SECONDS = 0.05
"""Time kept back from the caller's deadline: a row written with less left is rolled back (the
answer might not reach the caller in time, and a call that fails must write nothing)."""
MAX_TEXT_LENGTH = 1000
DEFAULT_MAX_ROWS = 1000
MAX_ROWS_LIMIT = 10_000


class Row(NamedTuple):
    """One result as the servicer hands it over (validated by :meth:`validate`).

    A named tuple, not a dataclass: a batch builds thousands of them, and a tuple is the
    cheapest record Python has (the batch path's cost per row is the service's only overhead
    over the database driver's).
    """

    run_id: str
    step_name: str
    measurement_name: str
    value: float
    unit: str
    low_limit: float | None
    high_limit: float | None
    site: int
    measured_at: datetime

    def validate(self) -> None:
        """Refuse what either database would refuse, with a message that says what to send."""
        if not self.measurement_name:
            raise InvalidArgumentError("measurement_name is empty; name what was measured")
        texts = (self.run_id, self.step_name, self.measurement_name, self.unit)
        if max(map(len, texts)) > MAX_TEXT_LENGTH or "\0" in "".join(texts):
            self._refuse_text(texts)
        value, low, high = self.value, self.low_limit, self.high_limit
        if (
            not math.isfinite(value)
            or (low is not None and not math.isfinite(low))
            or (high is not None and not math.isfinite(high))
        ):
            for name, number in (("value", value), ("low_limit", low), ("high_limit", high)):
                if number is not None and not math.isfinite(number):
                    raise InvalidArgumentError(f"{name} is {number}; send a finite number")
        if low is not None and high is not None and low > high:
            raise InvalidArgumentError(f"low_limit {low} is greater than high_limit {high}")
        if self.site < 0:
            raise InvalidArgumentError(f"site is {self.site}; sites are numbered from 0")

    @staticmethod
    def _refuse_text(texts: tuple[str, str, str, str]) -> None:
        for name, text in zip(
            ("run_id", "step_name", "measurement_name", "unit"), texts, strict=True
        ):
            if "\0" in text:
                raise InvalidArgumentError(f"{name} contains a NUL character")
            if len(text) > MAX_TEXT_LENGTH:
                raise InvalidArgumentError(
                    f"{name} has {len(text)} characters; at most {MAX_TEXT_LENGTH} are stored"
                )

    @property
    def passed(self) -> bool | None:
        """Within the limits given; None when there are none."""
        low, high = self.low_limit, self.high_limit
        if low is None and high is None:
            return None
        return (low is None or self.value >= low) and (high is None or self.value <= high)


@dataclass(frozen=True)
class Caller:
    """What the store knows of the call it works for (a ``grpc.ServicerContext`` has both)."""

    is_active: Callable[[], bool] = lambda: True
    """Whether the caller still waits for the answer."""
    time_remaining: Callable[[], float | None] = lambda: None
    """Seconds until the caller's deadline; None without one."""

    def wait_limit(self) -> float:
        """How long a lock may be waited for: the backend's limit, or less before a deadline."""
        remaining = self.time_remaining()
        if remaining is None:
            return LOCK_WAIT_SECONDS
        if not self.is_active() or remaining <= ANSWER_MARGIN_SECONDS:
            raise self.gone()
        return min(LOCK_WAIT_SECONDS, remaining - ANSWER_MARGIN_SECONDS)

    def still_waiting(self) -> bool:
        """Whether the answer can still reach the caller in time."""
        remaining = self.time_remaining()
        return self.is_active() and (remaining is None or remaining > ANSWER_MARGIN_SECONDS)

    def gone(self) -> ServiceError:
        """The error for a caller that stopped waiting."""
        if self.is_active():
            return DeadlineExceededError(
                "the caller's deadline passed (or was too close to answer in time) before the "
                "rows were kept; nothing was written"
            )
        return CancelledError("the call ended before the rows were kept; nothing was written")


ANY_CALLER = Caller()


@dataclass(frozen=True)
class StoredRow:
    """A row read back, with its id, the session that recorded it and its verdict."""

    row_id: int
    row: Row
    session_id: str
    passed: bool | None


class ResultsStore:
    """One connection, one transaction; used by one call at a time (the session's lock)."""

    def __init__(self, resource: Resource, connection: Connection) -> None:
        self.resource = resource
        self._backend: Backend = resource.backend
        self._connection = connection
        self._in_transaction = False
        self._lost_reason = ""
        self._aborted = ""
        """Why the database ended the transaction, until Rollback or close acknowledges it."""
        self._rows_aborted = 0
        self._wait_limit_ms = 0
        self._turns = self._backend.writer_turns(resource)
        self.rows_pending = 0
        self.rows_committed = 0
        self.rows_discarded_on_close = 0
        placeholders = ", ".join([self._backend.placeholder] * len(COLUMNS))
        self._insert_many = f"INSERT INTO results ({', '.join(COLUMNS)}) VALUES ({placeholders})"
        self._insert = f"{self._insert_many} RETURNING row_id"

    @classmethod
    def open(cls, resource: Resource) -> ResultsStore:
        """Connect, create the table when missing, and check it has every column written."""
        descriptors.check_reserve("database connection")
        connection = resource.backend.connect(resource)
        store = cls(resource.without_secrets(), connection)  # the password is not kept
        try:
            store._limit_waits(LOCK_WAIT_SECONDS)
            store._run(lambda: resource.backend.ensure_table(connection))
            store._run(
                lambda: connection.execute(
                    f"SELECT row_id, {', '.join(COLUMNS)} FROM results WHERE 1 = 0"
                ).fetchall()
            )
        except BaseException:
            store._close_connection()
            raise
        return store

    @property
    def backend(self) -> Backend:
        """The backend of this store."""
        return self._backend

    def record(
        self,
        rows: Sequence[Row],
        session_id: str,
        *,
        batch: bool = False,
        caller: Caller = ANY_CALLER,
    ) -> int | None:
        """Insert ``rows`` in the transaction, all or none; return the row id of a single row.

        ``batch``: the rows came as a batch, so an error names the refused row (``rows[i]``).
        ``caller``: a lock is waited for only until shortly before the caller's deadline, and rows
        written when the caller no longer waits (deadline passed, cancelled) are rolled back, so a
        call that fails never leaves a row for the next Commit.

        A batch goes in one ``executemany`` (no ids: one round trip on PostgreSQL's pipeline);
        when the database refuses it, the savepoint is rolled back and the rows are tried one by
        one, only to name the refused row, then rolled back again.
        """
        for index, row in enumerate(rows):
            try:
                row.validate()
            except InvalidArgumentError as error:
                if batch:
                    error.message = f"rows[{index}]: {error.message}"
                raise
        self._require_connection()
        wait = caller.wait_limit()
        self._limit_waits(wait)
        if not self._in_transaction:
            self._take_turn(wait)
            try:
                self._run(lambda: self._backend.begin(self._connection))
            except BaseException:
                self._turns.give_back()
                raise
            self._in_transaction = True
        values = [self._values(row, session_id) for row in rows]
        self._run(lambda: self._connection.execute("SAVEPOINT record_rows"))
        row_id: int | None = None
        try:
            if batch:
                self._insert_batch(values)
            else:
                (value,) = values
                row_id = self._insert_row(value)
            if not caller.still_waiting():
                raise caller.gone()
        except BaseException:
            if self._in_transaction:  # not lost, not ended by the database
                self._run(lambda: self._connection.execute("ROLLBACK TO SAVEPOINT record_rows"))
            raise
        self._run(lambda: self._connection.execute("RELEASE SAVEPOINT record_rows"))
        self.rows_pending += len(values)
        return row_id

    def _insert_row(self, value: tuple[Any, ...]) -> int:
        record = self._run(lambda: self._connection.execute(self._insert, value).fetchone())
        return int(record[0])

    def _insert_batch(self, values: Sequence[tuple[Any, ...]]) -> None:
        try:
            self._run(lambda: self._connection.cursor().executemany(self._insert_many, values))
        except ServiceError as error:
            if not self._in_transaction:  # lost, or ended by the database: no row to name
                raise
            raise self._name_refused_row(values, error) from None

    def _name_refused_row(
        self, values: Sequence[tuple[Any, ...]], error: ServiceError
    ) -> ServiceError:
        """Find which row of a refused batch the database refuses (the caller rolls back)."""
        self._run(lambda: self._connection.execute("ROLLBACK TO SAVEPOINT record_rows"))
        for index, value in enumerate(values):
            try:
                self._run(lambda value=value: self._connection.execute(self._insert_many, value))
            except ServiceError as refused:
                refused.message = f"rows[{index}]: {refused.message}"
                return refused
        return error

    def read(
        self, *, session_id: str, run_id: str, after_row_id: int, max_rows: int
    ) -> tuple[list[StoredRow], bool]:
        """Rows as this connection sees them: its own uncommitted rows and all committed ones; and
        whether more rows match beyond them.
        """
        self._require_connection()
        wanted = min(max_rows or DEFAULT_MAX_ROWS, MAX_ROWS_LIMIT)
        limit = wanted + 1  # one more: tells whether there are more
        where, value = ("run_id", run_id) if run_id else ("session_id", session_id)
        mark = self._backend.placeholder
        query = (
            f"SELECT row_id, {', '.join(COLUMNS)} FROM results "
            f"WHERE {where} = {mark} AND row_id > {mark} ORDER BY row_id LIMIT {limit}"
        )
        records = self._run(
            lambda: self._connection.execute(query, (value, after_row_id)).fetchall()
        )
        return [_stored(record) for record in records[:wanted]], len(records) > wanted

    def commit(self, caller: Caller = ANY_CALLER) -> int:
        """Commit the transaction; return how many rows it made visible.

        Not when the caller no longer waits: a commit it would not hear of stays undone.
        """
        self._require_connection()
        if not caller.still_waiting():
            raise caller.gone()
        committed = self.rows_pending
        if self._in_transaction:
            self._run(lambda: self._connection.execute("COMMIT"))
            self._transaction_over()
        self.rows_pending = 0
        self.rows_committed += committed
        return committed

    def rollback(self) -> int:
        """Roll the transaction back; return how many rows it discarded (or the database had)."""
        if self._aborted:
            discarded, self._aborted, self._rows_aborted = self._rows_aborted, "", 0
            return discarded
        discarded = self.rows_pending
        if self._lost_reason:
            self.rows_pending = 0
            return discarded
        if self._in_transaction:
            self._run(lambda: self._connection.execute("ROLLBACK"))
            self._transaction_over()
        self.rows_pending = 0
        return discarded

    def close(self) -> None:
        """Roll back what was not committed and close the connection (never raises)."""
        try:
            discarded = self.rows_discarded_on_close = self.rollback()
            if discarded:
                _logger.warning(
                    "Rolled back %d uncommitted rows of %s on close.",
                    discarded,
                    self.resource.display_name,
                )
        except ServiceError as error:
            _logger.warning("Rollback on close of %s failed: %s", self.resource.display_name, error)
        finally:
            self._close_connection()
            self._turns.give_back()

    # -- helpers -----------------------------------------------------------------------------

    def _values(self, row: Row, session_id: str) -> tuple[Any, ...]:
        passed, measured_at = self._backend.adapt(row.passed, row.measured_at)
        return (
            row.run_id or session_id,
            row.step_name,
            row.measurement_name,
            row.value,
            row.unit,
            row.low_limit,
            row.high_limit,
            passed,
            row.site,
            measured_at,
            session_id,
        )

    def _run(self, action: Any) -> Any:
        """Run a driver call; turn its errors into statuses and notice a lost connection."""
        try:
            return action()
        except Exception as error:
            if isinstance(error, ServiceError):
                raise
            if self._backend.connection_lost(self._connection):
                lost = self.rows_pending
                self._lost_reason = str(error).strip().splitlines()[0] if str(error) else "lost"
                self._transaction_over()
                self.rows_pending = 0
                raise UnavailableError(
                    f"the connection to {self.resource.display_name} was lost "
                    f"({self._lost_reason}); the {lost} rows not yet committed are gone, "
                    "committed rows are kept; close this session and open a new one"
                ) from None
            classified = self._backend.classify(error)
            if self._in_transaction and not self._backend.in_transaction(self._connection):
                raise self._transaction_ended(classified or error) from None
            if classified is not None:
                raise classified from None
            raise InternalError(f"{type(error).__name__}: {error}") from None

    def _transaction_ended(self, cause: object) -> AbortedError:
        """The database rolled the transaction back by itself: remember it until Rollback."""
        self._transaction_over()
        self._rows_aborted, self.rows_pending = self.rows_pending, 0
        reason = cause.message if isinstance(cause, ServiceError) else str(cause)
        self._aborted = excerpt(reason.strip().splitlines()[0] if reason.strip() else "", 200)
        _logger.warning(
            "The database rolled back the transaction of %s (%s): %d rows lost.",
            self.resource.display_name,
            self._aborted,
            self._rows_aborted,
        )
        return self._aborted_error()

    def _aborted_error(self) -> AbortedError:
        return AbortedError(
            f"the database rolled back this session's transaction after an error "
            f"({self._aborted}): the {self._rows_aborted} rows recorded since the last Commit are "
            "lost, committed rows are kept; call Rollback (or close the session) to go on"
        )

    def _transaction_over(self) -> None:
        """However the transaction ended (commit, rollback, the database, a lost connection)."""
        self._in_transaction = False
        self._turns.give_back()  # the next run's turn at the write lock

    def _take_turn(self, seconds: float) -> None:
        """Wait for this session's turn at the database's write lock (SQLite; see writer_turns)."""
        if not self._turns.take(seconds):
            raise UnavailableError(
                f"waited {seconds:.1f} s for this session's turn to write: other stations' runs "
                "hold the database file's write lock (on SQLite, one run at a time); nothing was "
                "written: retry, or use PostgreSQL for this many stations"
            )

    def _limit_waits(self, seconds: float) -> None:
        """Wait at most ``seconds`` for another session's lock (set only when it changes)."""
        milliseconds = max(1, int(seconds * 1000))
        if milliseconds != self._wait_limit_ms:
            self._run(lambda: self._backend.limit_waits(self._connection, milliseconds))
            self._wait_limit_ms = milliseconds

    def _require_connection(self) -> None:
        if self._aborted:
            raise self._aborted_error()
        if self._lost_reason:
            raise UnavailableError(
                f"the connection to {self.resource.display_name} was lost "
                f"({self._lost_reason}); close this session and open a new one"
            )

    def _close_connection(self) -> None:
        try:
            self._connection.close()
        except Exception:
            _logger.debug("Closing the connection failed.", exc_info=True)


def _stored(record: Sequence[Any]) -> StoredRow:
    (row_id, run_id, step, name, value, unit, low, high, passed, site, at, session_id) = record
    measured_at = at if isinstance(at, datetime) else datetime.fromisoformat(at)
    if measured_at.tzinfo is None:
        measured_at = measured_at.replace(tzinfo=timezone.utc)
    row = Row(run_id, step, name, value, unit, low, high, site, measured_at)
    return StoredRow(int(row_id), row, session_id, None if passed is None else bool(passed))
