"""The two backends of a results database: an SQLite file and a PostgreSQL server.

A backend knows only what differs between them: how a resource name becomes a session key, how to
connect, the table's DDL, the SQL placeholder, how a verdict and a time are stored, and what a
driver error means (its gRPC status).
Everything else (transactions, savepoints, rows, reading back) is one code path in ``store.py``.
Both connections run in autocommit mode and receive explicit ``BEGIN``/``COMMIT``/``ROLLBACK``.
"""

from __future__ import annotations

import abc
import dataclasses
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import psycopg
import psycopg.conninfo
import psycopg.errors
import psycopg.pq

from results_database import results_database_pb2
from results_service.writer_turns import NO_TURNS, WriterTurns
from session_core import descriptors, paths
from session_core.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    PermissionDeniedError,
    ResourceExhaustedError,
    ServiceError,
    UnavailableError,
)

_logger = logging.getLogger(__name__)

SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
CREDENTIAL_FIELDS = ("password", "passfile", "sslcert", "sslkey", "sslpassword")
"""The connection parameters that authenticate a PostgreSQL client: an attach must repeat them."""
_CREDENTIAL_KEY = secrets.token_bytes(32)
"""Keys the credentials digest; new in every process, so a digest is worth nothing outside it."""
LOOPBACK_HOST = "localhost"
_CREATE_TABLE_LOCK = 0x5245_5355_4C54  # "RESULT": the advisory lock key of the table's creation
POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")
CONNECT_TIMEOUT_SECONDS = 5
LOCK_WAIT_SECONDS = 5.0
"""The longest a call waits for another session's lock (SQLite's write lock, a PostgreSQL row
lock), less when the caller's deadline is nearer; then UNAVAILABLE, nothing written."""

COLUMNS = (
    "run_id",
    "step_name",
    "measurement_name",
    "value",
    "unit",
    "low_limit",
    "high_limit",
    "passed",
    "site",
    "measured_at",
    "session_id",
)
"""The columns a row is written with, in order (``row_id`` is assigned by the database)."""

_TABLE_CONSTRAINTS = """
    CHECK (run_id <> ''),
    CHECK (measurement_name <> ''),
    CHECK (site >= 0),
    CHECK (low_limit IS NULL OR high_limit IS NULL OR low_limit <= high_limit),
    UNIQUE (run_id, step_name, measurement_name, site)
"""

Connection = Any
"""A DB-API connection (``sqlite3.Connection`` or ``psycopg.Connection``)."""


@dataclass(frozen=True)
class Resource:
    """A validated resource name: which backend, its session key and how to show it."""

    backend: Backend
    key: str
    display_name: str
    target: str
    """What the backend connects to: a path or a connection URL (with its password, until the
    connection is open: see :meth:`without_secrets`)."""
    credentials: bytes = b""
    """A keyed digest of what authenticates the caller (password, client certificate), never the
    secret itself: an attach must present the same."""

    def without_secrets(self) -> Resource:
        """The resource as kept for an open session: the URL without its password."""
        return dataclasses.replace(self, target=self.display_name)

    def check_credentials(self, attaching: Resource) -> None:
        """Refuse an attach whose credentials differ from those the session was opened with."""
        if not hmac.compare_digest(self.credentials, attaching.credentials):
            raise PermissionDeniedError(
                f"the credentials do not match those the session of {self.display_name} was "
                "opened with: attach with the same password (or none, if it was opened without)"
            )


class Backend(abc.ABC):
    """What differs between the backends."""

    kind: ClassVar[results_database_pb2.Backend.ValueType]
    placeholder: ClassVar[str]
    create_table: ClassVar[str]

    @abc.abstractmethod
    def resource(self, resource_name: str) -> Resource:
        """Validate and normalise a resource name of this backend."""

    @abc.abstractmethod
    def connect(self, resource: Resource) -> Connection:
        """Open an autocommit connection; raise ServiceError with the reason on failure."""

    @abc.abstractmethod
    def classify(self, error: Exception) -> ServiceError | None:
        """The status a driver error maps to, or None for an unexpected one."""

    @abc.abstractmethod
    def connection_lost(self, connection: Connection) -> bool:
        """Whether, after a failed call, the connection is gone (the transaction with it)."""

    def ensure_table(self, connection: Connection) -> None:
        """Create the table when it is missing."""
        connection.execute(self.create_table)

    def writer_turns(self, resource: Resource) -> WriterTurns:
        """Turns at the database's write lock shared with other sessions (none by default)."""
        return NO_TURNS

    @abc.abstractmethod
    def in_transaction(self, connection: Connection) -> bool:
        """Whether the connection's transaction is still open (the database may end it)."""

    @abc.abstractmethod
    def limit_waits(self, connection: Connection, milliseconds: int) -> None:
        """Make the connection wait at most ``milliseconds`` for another session's lock."""

    def adapt(self, passed: bool | None, measured_at: datetime) -> tuple[object, object]:
        """The verdict and the time as the driver stores them (as they are, by default)."""
        return passed, measured_at

    def begin(self, connection: Connection) -> None:
        """Start the session's transaction."""
        connection.execute("BEGIN")


def backend_for(resource_name: str) -> Backend:
    """PostgreSQL for a ``postgresql://`` URL, SQLite for anything else."""
    if resource_name.strip().lower().startswith(POSTGRESQL_SCHEMES):
        return POSTGRESQL
    return SQLITE


def _integrity(message: str) -> ServiceError:
    if "unique" in message.lower():
        return AlreadyExistsError(
            "a row with the same (run_id, step_name, measurement_name, site) is already "
            f"recorded: {message}"
        )
    return InvalidArgumentError(f"the database refused the row: {message}")


class SqliteBackend(Backend):
    """An SQLite file: the embedded default, one file per results database."""

    kind = results_database_pb2.BACKEND_SQLITE
    placeholder = "?"
    create_table = f"""CREATE TABLE IF NOT EXISTS results (
    row_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    step_name TEXT NOT NULL,
    measurement_name TEXT NOT NULL,
    value REAL NOT NULL,
    unit TEXT NOT NULL,
    low_limit REAL,
    high_limit REAL,
    passed INTEGER,
    site INTEGER NOT NULL,
    measured_at TEXT NOT NULL,
    session_id TEXT NOT NULL,{_TABLE_CONSTRAINTS})"""

    def resource(self, resource_name: str) -> Resource:
        """An absolute path ending with .db, .sqlite or .sqlite3, normalised like log paths."""
        path = paths.normalize_path(
            resource_name, suffixes=SQLITE_SUFFIXES, kind="results database"
        )
        return Resource(self, paths.path_key(path), str(path), str(path))

    def connect(self, resource: Resource) -> Connection:
        """Open (or create) the file; WAL lets readers see committed rows while a run writes."""
        path = Path(resource.target)
        paths.check_file_location(path, kind="database file")
        if path.exists():
            if not path.is_file():
                raise InvalidArgumentError(f"'{path}' is not a regular file")
            if not os.access(path, os.R_OK | os.W_OK):
                raise PermissionDeniedError(f"cannot open '{path}' for writing: permission denied")
        try:
            connection = sqlite3.connect(
                path,
                timeout=LOCK_WAIT_SECONDS,
                isolation_level=None,
                check_same_thread=False,  # one session, many gRPC worker threads, one at a time
            )
        except sqlite3.Error as error:
            raise self.classify(error) or FailedPreconditionError(
                f"cannot open '{path}': {error}"
            ) from None
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as error:
            connection.close()
            raise self.classify(error) or FailedPreconditionError(
                f"cannot use '{path}': {error}"
            ) from None
        return connection

    def classify(self, error: Exception) -> ServiceError | None:
        """SQLite's errors: the message is all it gives (``sqlite_errorname`` on 3.11+)."""
        message = str(error)
        lowered = message.lower()
        if isinstance(error, sqlite3.IntegrityError):
            return _integrity(message)
        if "not a database" in lowered or "malformed" in lowered:
            return FailedPreconditionError(f"the file is not an SQLite database: {message}")
        if "locked" in lowered or "busy" in lowered:
            return UnavailableError(
                f"the database file is locked by another writer ({message}); retry later"
            )
        if "readonly" in lowered or "read-only" in lowered or "permission" in lowered:
            return PermissionDeniedError(f"cannot write the database file: {message}")
        if "disk is full" in lowered or "disk full" in lowered:
            return ResourceExhaustedError(f"cannot write the database file: {message}")
        if "unable to open" in lowered:
            try:  # SQLite says the same for EMFILE: out of descriptors is not a permission
                descriptors.check_reserve("database file")
            except ResourceExhaustedError as exhausted:
                return exhausted
            return PermissionDeniedError(f"cannot open the database file: {message}")
        if isinstance(error, sqlite3.OperationalError) and "no such column" in lowered:
            return FailedPreconditionError(
                f"the existing table `results` lacks a column this service writes: {message}"
            )
        return None

    def connection_lost(self, connection: Connection) -> bool:
        """A file connection is not lost; a failed statement leaves it usable."""
        return False

    def writer_turns(self, resource: Resource) -> WriterTurns:
        """One writer at a time per file: sessions of every service take fair turns."""
        return WriterTurns(Path(resource.target))

    def in_transaction(self, connection: Connection) -> bool:
        """SQLite rolls a transaction back by itself after some errors (disk full, I/O errors)."""
        return bool(connection.in_transaction)

    def limit_waits(self, connection: Connection, milliseconds: int) -> None:
        """SQLite's busy timeout: how long to wait for the file's write lock."""
        connection.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")

    def adapt(self, passed: bool | None, measured_at: datetime) -> tuple[object, object]:
        """SQLite has no boolean or time type: 0/1 and ISO 8601 text."""
        return (None if passed is None else int(passed)), measured_at.isoformat()

    def begin(self, connection: Connection) -> None:
        """``BEGIN IMMEDIATE``: take the write lock now, so a locked file fails the first row."""
        connection.execute("BEGIN IMMEDIATE")


class PostgresqlBackend(Backend):
    """A PostgreSQL database: the shared results store of many stations."""

    kind = results_database_pb2.BACKEND_POSTGRESQL
    placeholder = "%s"
    create_table = f"""CREATE TABLE IF NOT EXISTS results (
    row_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id TEXT NOT NULL,
    step_name TEXT NOT NULL,
    measurement_name TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    unit TEXT NOT NULL,
    low_limit DOUBLE PRECISION,
    high_limit DOUBLE PRECISION,
    passed BOOLEAN,
    site INTEGER NOT NULL,
    measured_at TIMESTAMPTZ NOT NULL,
    session_id TEXT NOT NULL,{_TABLE_CONSTRAINTS})"""

    def resource(self, resource_name: str) -> Resource:
        """A ``postgresql://`` URL; the key (and what is shown) leaves out the password."""
        name = resource_name.strip()
        if len(name) > paths.MAX_PATH_CHARS:
            raise InvalidArgumentError(
                f"the PostgreSQL URL has {len(name)} characters; at most {paths.MAX_PATH_CHARS} "
                "are taken"
            )
        try:
            fields = psycopg.conninfo.conninfo_to_dict(name)
        except psycopg.ProgrammingError as error:
            raise InvalidArgumentError(
                f"malformed PostgreSQL URL: {_redact(str(error), name)}"
            ) from None
        port = str(fields.get("port") or "5432")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidArgumentError(
                f"malformed PostgreSQL URL: port '{port}' is not a number from 1 to 65535"
            )
        host = _server_key(str(fields.get("host") or LOOPBACK_HOST))
        user = str(fields.get("user") or "")
        dbname = str(fields.get("dbname") or user)
        if not dbname:
            raise InvalidArgumentError(
                "the PostgreSQL URL names no database: postgresql://user@host:port/dbname"
            )
        shown = f"postgresql://{user + '@' if user else ''}{host}:{port}/{dbname}"
        return Resource(self, shown, shown, name, credentials=_credentials_digest(fields))

    def connect(self, resource: Resource) -> Connection:
        """Connect within :data:`CONNECT_TIMEOUT_SECONDS`; say why when it fails."""
        try:
            return psycopg.connect(
                resource.target,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                application_name="results_service",
            )
        except psycopg.OperationalError as error:
            reason = _redact(_first_line(error), resource.target)
            lowered = reason.lower()
            sqlstate = error.sqlstate or ""
            if sqlstate.startswith("28") or "authentication" in lowered or "password" in lowered:
                raise PermissionDeniedError(
                    f"PostgreSQL refused the credentials for {resource.display_name}: {reason}"
                ) from None
            if sqlstate == "3D000" or ("database" in lowered and "does not exist" in lowered):
                raise FailedPreconditionError(
                    f"{resource.display_name}: {reason}; create the database first"
                ) from None
            raise UnavailableError(
                f"cannot reach PostgreSQL at {resource.display_name}: {reason}"
            ) from None
        except psycopg.Error as error:
            raise InvalidArgumentError(
                f"cannot connect to {resource.display_name}: "
                f"{_redact(_first_line(error), resource.target)}"
            ) from None

    def classify(self, error: Exception) -> ServiceError | None:
        """PostgreSQL's SQLSTATE classes say what went wrong."""
        if not isinstance(error, psycopg.Error):
            return None
        message = _first_line(error)
        if isinstance(error, psycopg.errors.UndefinedColumn):
            return FailedPreconditionError(
                f"the existing table `results` lacks a column this service writes: {message}"
            )
        if isinstance(error, psycopg.IntegrityError):
            return _integrity(message)
        if isinstance(error, psycopg.DataError):
            return InvalidArgumentError(f"the database refused the row: {message}")
        if isinstance(error, psycopg.errors.InsufficientPrivilege):
            return PermissionDeniedError(f"PostgreSQL refused: {message}")
        if isinstance(error, psycopg.errors.DiskFull):
            return ResourceExhaustedError(f"PostgreSQL: {message}")
        if isinstance(error, (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled)):
            return UnavailableError(
                "another session holds a lock these rows wait for (another station recording "
                "the same run, step, measurement and site, not yet committed?); nothing was "
                f"written: retry once it commits or rolls back ({message})"
            )
        if isinstance(error, psycopg.OperationalError):
            return UnavailableError(f"the connection to PostgreSQL failed: {message}")
        return None

    def connection_lost(self, connection: Connection) -> bool:
        """Lost when the driver says the connection is closed or broken."""
        return bool(connection.closed or connection.broken)

    def ensure_table(self, connection: Connection) -> None:
        """Create the table when missing, one station at a time: two concurrent ``CREATE TABLE IF
        NOT EXISTS`` of one new table make PostgreSQL refuse one with a unique violation.
        """
        connection.execute("SELECT pg_advisory_lock(%s)", (_CREATE_TABLE_LOCK,))
        try:
            connection.execute(self.create_table)
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (_CREATE_TABLE_LOCK,))

    def in_transaction(self, connection: Connection) -> bool:
        """Open, or failed and waiting for a rollback (to a savepoint)."""
        status = connection.info.transaction_status
        return status in (
            psycopg.pq.TransactionStatus.INTRANS,
            psycopg.pq.TransactionStatus.INERROR,
        )

    def limit_waits(self, connection: Connection, milliseconds: int) -> None:
        """``lock_timeout``: how long a statement waits for a row another session locked."""
        connection.execute(f"SET lock_timeout = {int(milliseconds)}")


def _server_key(host: str) -> str:
    """One spelling per server: names without case or a final dot, IP addresses in canonical
    form, every loopback spelling (``localhost``, ``127.0.0.1``, ``::1``) as ``localhost``.
    Two DNS names of one server stay two: resolving names would make the key depend on DNS.
    """
    name = host.strip().strip("[]").rstrip(".").lower()
    if name.startswith("/"):  # a Unix-domain socket folder
        return name
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return LOOPBACK_HOST if name == LOOPBACK_HOST else name
    if address.is_loopback:
        return LOOPBACK_HOST
    return f"[{address.compressed}]" if address.version == 6 else address.compressed


def _credentials_digest(fields: dict[str, Any]) -> bytes:
    """A keyed digest of the URL's credential fields; the secrets themselves are not kept."""
    presented = {name: str(fields.get(name) or "") for name in CREDENTIAL_FIELDS}
    canonical = json.dumps(presented, sort_keys=True).encode("utf-8")
    return hmac.new(_CREDENTIAL_KEY, canonical, hashlib.sha256).digest()


def _redact(text: str, url: str) -> str:
    """``text`` without the password of ``url`` (driver messages may quote the whole URL)."""
    match = re.match(r"^[A-Za-z]+://[^:/@]*:([^@]+)@", url)
    return text.replace(match.group(1), "****") if match else text


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


SQLITE = SqliteBackend()
POSTGRESQL = PostgresqlBackend()
