"""A second resource kind on the unchanged session core: an SQLite results database.

The JSON Logger Service shares a log file; this module shares a results database the same way,
with :class:`session_core.registry.SessionRegistry` and
:class:`~session_core.behaviors.InitializationBehavior` reused as they are. Only three things are
new, and they are all this module holds:

- the resource (:class:`ResultsDatabase`): open = connect and create the table, write = insert
  one row, close = commit and close;
- the key normalisation (:func:`normalize_database_path`, :func:`database_key`): which names
  denote one database, so that two spellings share one session;
- the calls a client makes (:class:`ResultsDatabaseService`): ``initialize_database``,
  ``insert_result``, ``close_database``, ``list_sessions`` — what would be the RPCs of a
  ``ResultsDatabase`` gRPC service, here called in-process.

What stays is everything else: one session per key, session ids, atomic check-and-create,
ALREADY_EXISTS / NOT_FOUND, a lock that serialises work on one session, close-after-in-flight
work, and, on the client side, NI's five behaviours (:class:`ResultsDatabaseClient` reuses
:mod:`session_core.behaviors`).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior

from session_core.behaviors import InitializationBehavior, closes_on_exit, server_behavior
from session_core.errors import FailedPreconditionError, InvalidArgumentError, ServiceError
from session_core.registry import SessionRegistry

ALLOWED_SUFFIXES = (".db", ".sqlite", ".sqlite3")

RESULTS_DATABASE_INSTRUMENT_TYPE = "SqliteResultsService"
"""The pin map's ``instrumentTypeId`` such a service would use (the log file's is
``JsonLoggerService``)."""

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    step TEXT NOT NULL,
    name TEXT NOT NULL,
    value REAL NOT NULL
)
"""


# -- the key normalisation: which names are one database --------------------------------------


def normalize_database_path(resource_name: str) -> Path:
    """The absolute, resolved path of the database a client names; refuse anything else."""
    if not resource_name.strip() or "\0" in resource_name:
        raise InvalidArgumentError(f"{resource_name!r} is not a path; send the path of a .db file")
    requested = Path(resource_name)
    if not requested.is_absolute():
        raise InvalidArgumentError(f"'{resource_name}' is not an absolute path")
    resolved = requested.resolve()
    if resolved.suffix.lower() not in ALLOWED_SUFFIXES:
        raise InvalidArgumentError(
            f"'{resource_name}' is not a results database: the name must end with "
            f"{', '.join(ALLOWED_SUFFIXES)}"
        )
    return resolved


def database_key(path: Path) -> str:
    """The registry key: one per database file, whatever its spelling."""
    return os.path.normcase(str(path))


# -- the resource --------------------------------------------------------------------------------


class ResultsDatabase:
    """An open results database. Not thread-safe on its own: the session lock serialises callers."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self.rows_written = 0
        self._connection = connection

    @classmethod
    def open(cls, path: Path) -> ResultsDatabase:
        """Connect (creating the file if needed) and create the results table."""
        if not path.parent.is_dir():
            raise FailedPreconditionError(f"the directory '{path.parent}' does not exist")
        # The registry hands the connection to whichever thread serves the call, one at a time.
        connection = sqlite3.connect(path, check_same_thread=False)
        try:
            connection.execute(_CREATE_TABLE)
            connection.commit()
        except sqlite3.DatabaseError as error:
            connection.close()
            raise InvalidArgumentError(f"'{path}' is not a results database: {error}") from None
        return cls(path, connection)

    def insert(self, session_id: str, step: str, name: str, value: float) -> None:
        """Insert one row, committed at once: a crash loses no acknowledged row."""
        with self._connection:  # one transaction: committed, or rolled back on error
            self._connection.execute(
                "INSERT INTO results (session_id, step, name, value) VALUES (?, ?, ?, ?)",
                (session_id, step, name, value),
            )
        self.rows_written += 1

    def close(self) -> None:
        """Commit anything pending and close the connection."""
        self._connection.commit()
        self._connection.close()


# -- the service: the same registry, new call names ---------------------------------------------


@dataclass(frozen=True)
class OpenedDatabase:
    """What ``initialize_database`` returns (the ``InitializeFile`` response's fields)."""

    session_id: str
    new_session_initialized: bool
    resource_name: str


@dataclass(frozen=True)
class DatabaseSession:
    """One open session, as ``list_sessions`` describes it."""

    session_id: str
    resource_name: str
    rows_written: int


class ResultsDatabaseService:
    """Serves one session per results database to any number of clients (in-process)."""

    def __init__(self) -> None:
        self.registry: SessionRegistry[ResultsDatabase] = SessionRegistry(
            resource_kind="results database"
        )

    def initialize_database(
        self, resource_name: str, behavior: InitializationBehavior
    ) -> OpenedDatabase:
        """Create or attach to the session of a database, as the behaviour says."""
        path = normalize_database_path(resource_name)
        session, created = self.registry.initialize(
            database_key(path), behavior, lambda: ResultsDatabase.open(path), display_name=str(path)
        )
        return OpenedDatabase(session.session_id, created, str(session.resource.path))

    def insert_result(self, session_id: str, step: str, name: str, value: float) -> None:
        """Insert one result row through the session."""
        with self.registry.use(session_id) as database:
            database.insert(session_id, step, name, value)

    def close_database(self, session_id: str) -> None:
        """Close the session and its connection."""
        self.registry.close(session_id)

    def list_sessions(self) -> list[DatabaseSession]:
        """Describe every open session."""
        return [
            DatabaseSession(s.session_id, str(s.resource.path), s.resource.rows_written)
            for s in self.registry.sessions()
        ]

    def close_all(self) -> None:
        """Close every session (at shutdown)."""
        self.registry.close_all()


# -- the client: NI's five behaviours, decided by the logger client's own rules ---------------


class ResultsDatabaseClient:
    """A client session of one results database, honouring NI's five behaviours."""

    def __init__(
        self,
        service: ResultsDatabaseService,
        resource_name: str | os.PathLike[str],
        *,
        initialization_behavior: SessionInitializationBehavior = SessionInitializationBehavior.AUTO,
    ) -> None:
        self.service = service
        self.resource_name = os.fspath(resource_name)
        self.initialization_behavior = SessionInitializationBehavior(initialization_behavior)
        self.session_id = ""
        self.new_session_initialized = False
        self.closed_on_exit = False
        self._open = False

    def __enter__(self) -> ResultsDatabaseClient:
        sent = InitializationBehavior(server_behavior(self.initialization_behavior))
        opened = self.service.initialize_database(self.resource_name, sent)
        self.session_id = opened.session_id
        self.new_session_initialized = opened.new_session_initialized
        self._open = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._open and closes_on_exit(
            self.initialization_behavior,
            created=self.new_session_initialized,
            failed=exc is not None,
        ):
            try:
                self.service.close_database(self.session_id)
            except ServiceError:
                if exc is None:
                    raise
            self.closed_on_exit = True
        self._open = False

    def insert_result(self, step: str, name: str, value: float) -> None:
        """Insert one row through this client's session."""
        if not self._open:
            raise RuntimeError("the client session is not open; use it in a 'with' block")
        self.service.insert_result(self.session_id, step, name, value)


def read_rows(path: str | os.PathLike[str]) -> list[tuple[str, str, str, float]]:
    """Every committed row (session id, step, name, value), read through a connection of its own."""
    connection = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT session_id, step, name, value FROM results ORDER BY id"
        ).fetchall()
    finally:
        connection.close()
    return [(str(s), str(step), str(n), float(v)) for s, step, n, v in rows]
