"""Where a lock is held: in the service's memory, or on a PostgreSQL server shared by many services.

The lock table (``lock_table.py``) decides, within one service, who is next (first come first
served) and when a hold ends. A backend then makes the hold exclusive where the service alone
cannot: :meth:`Backend.take` returns a :class:`Guard` once no other service holds the lock (in
memory there is no other service, so at once), and numbers the hold with its fencing token.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import psycopg
from psycopg import errors as pg_errors

from session_core.errors import CancelledError, InvalidArgumentError, UnavailableError

_logger = logging.getLogger(__name__)

TOKENS_TABLE = "hardware_lock_tokens"
CONNECT_TIMEOUT_SECONDS = 5
IDLE_CONNECTIONS = 8
"""Connections a PostgreSQL backend keeps for the next holds."""


class Guard(Protocol):
    """What keeps other services out while a hold lasts."""

    token: int

    def alive(self) -> bool:
        """Whether the guard still excludes the others (a database connection can be lost)."""

    def release(self) -> None:
        """Let the others in."""


class Backend(Protocol):
    """Makes a hold exclusive beyond this service, and numbers it."""

    description: str
    watch_seconds: float | None
    """How often the lock table asks each hold's guard whether it is alive (None: never)."""

    def take(
        self, key: str, *, timeout: float | None, on_cancel: Callable[[Callable[[], None]], None]
    ) -> Guard | None:
        """Wait up to ``timeout`` seconds (None: no limit) until no other service holds ``key``;
        return the guard, or None when the time ran out. ``on_cancel(stop)`` is given a function
        that stops the wait (raising CancelledError in this thread) when the caller goes away.
        """

    def close(self) -> None:
        """Release everything (at shutdown)."""


# -- in memory --------------------------------------------------------------------------------


class _MemoryGuard:
    def __init__(self, token: int) -> None:
        self.token = token

    def alive(self) -> bool:
        return True

    def release(self) -> None:
        pass


class MemoryBackend:
    """One service, so nothing to wait for. Tokens start from the time in microseconds, so that
    they keep growing across a restart of the service (which forgets its last token).
    """

    description = "in memory"
    watch_seconds: float | None = None

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, int] = {}

    def take(
        self, key: str, *, timeout: float | None, on_cancel: Callable[[Callable[[], None]], None]
    ) -> Guard | None:
        """At once: no other service shares this memory."""
        with self._lock:
            token = max(self._last.get(key, 0) + 1, time.time_ns() // 1000)
            self._last[key] = token
        return _MemoryGuard(token)

    def close(self) -> None:
        """Nothing to release."""


# -- PostgreSQL advisory locks ----------------------------------------------------------------


def advisory_key(key: str) -> int:
    """The 64-bit advisory lock id of a lock name (the same in every service and Python)."""
    return int.from_bytes(
        hashlib.blake2b(key.encode(), digest_size=8, person=b"hwlock").digest(),
        "big",
        signed=True,
    )


class _PostgresGuard:
    """One connection that holds the advisory lock; unlocking (or losing it) releases the lock."""

    def __init__(
        self,
        connection: psycopg.Connection[tuple[object, ...]],
        lock_id: int,
        token: int,
        give_back: Callable[[psycopg.Connection[tuple[object, ...]], int], None],
    ) -> None:
        self.token = token
        self._connection = connection
        self._lock_id = lock_id
        self._give_back = give_back

    def alive(self) -> bool:
        try:
            self._connection.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def release(self) -> None:
        self._give_back(self._connection, self._lock_id)


class PostgresBackend:
    """Advisory locks on one PostgreSQL server, shared by every service pointed at it.

    Each hold and each waiting lock has its own connection: a session-level advisory lock belongs
    to a connection, so a service that dies (its connections gone) releases its holds at once.
    A released hold's connection unlocks and waits, idle, for the next hold (up to
    :data:`IDLE_CONNECTIONS`): connecting (TCP and authentication) would otherwise be most of a
    hand-over between services.
    """

    watch_seconds: float | None = 1.0
    """A hold whose connection the server dropped (a restart) is ended within this time."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._idle: list[psycopg.Connection[tuple[object, ...]]] = []
        self._idle_lock = threading.Lock()
        try:
            self.description = f"PostgreSQL advisory locks at {_server_of(url)}"
        except psycopg.Error as error:
            raise InvalidArgumentError(f"not a PostgreSQL URL: {error}") from None
        with self._connect() as connection:
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {TOKENS_TABLE} "
                "(lock_key text PRIMARY KEY, token bigint NOT NULL)"
            )

    def take(
        self, key: str, *, timeout: float | None, on_cancel: Callable[[Callable[[], None]], None]
    ) -> Guard | None:
        """Take the advisory lock on a connection of the hold's own (see :class:`Backend`)."""
        connection = self._idle_or_new()
        lock_id = advisory_key(key)
        try:
            if not self._lock(connection, lock_id, timeout, on_cancel):
                self._give_back(connection, None)
                return None
            token = self._next_token(connection, key)
        except psycopg.OperationalError as error:  # the server stopped, restarted, went away
            connection.close()
            raise UnavailableError(
                f"lost the lock's PostgreSQL server ({self.description}) while taking the lock: "
                f"{_first_line(error)}; nothing is held"
            ) from None
        except BaseException:
            connection.close()  # the server drops whatever it held
            raise
        return _PostgresGuard(connection, lock_id, token, self._give_back)

    def close(self) -> None:
        """Close the idle connections (every guard releases its own)."""
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _idle_or_new(self) -> psycopg.Connection[tuple[object, ...]]:
        with self._idle_lock:
            connection = self._idle.pop() if self._idle else None
        if connection is not None and not connection.closed:
            try:
                connection.execute("SELECT 1")
                return connection
            except psycopg.Error:
                connection.close()  # lost while idle (the server restarted): a new one
        return self._connect()

    def _give_back(
        self, connection: psycopg.Connection[tuple[object, ...]], lock_id: int | None
    ) -> None:
        """Unlock and keep the connection for the next hold; close it when that fails or too
        many are idle (closing releases its locks anyway).
        """
        try:
            if lock_id is not None:
                row = connection.execute("SELECT pg_advisory_unlock(%s)", (lock_id,)).fetchone()
                if row is None or not row[0]:
                    raise psycopg.OperationalError("the advisory lock was not held")
            with self._idle_lock:
                if len(self._idle) < IDLE_CONNECTIONS:
                    self._idle.append(connection)
                    return
        except psycopg.Error:
            pass
        connection.close()

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        try:
            connection = psycopg.connect(
                self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
            )
            # a token is counted durably before it is handed out, whatever the server's
            # default: a token lost in a crash would be handed out twice
            connection.execute("SET synchronous_commit = on")
            return connection
        except psycopg.OperationalError as error:
            raise UnavailableError(
                f"cannot reach the lock's PostgreSQL server ({self.description}): "
                f"{_first_line(error)}"
            ) from None

    @staticmethod
    def _lock(
        connection: psycopg.Connection[tuple[object, ...]],
        lock_id: int,
        timeout: float | None,
        on_cancel: Callable[[Callable[[], None]], None],
    ) -> bool:
        row = connection.execute("SELECT pg_try_advisory_lock(%s)", (lock_id,)).fetchone()
        if row is not None and row[0]:
            return True
        if timeout is not None and timeout <= 0:
            return False
        cancelled = threading.Event()

        def stop() -> None:
            cancelled.set()
            connection.cancel_safe()

        on_cancel(stop)
        milliseconds = 0 if timeout is None else max(1, round(timeout * 1000))
        taken = False
        try:
            connection.execute(f"SET lock_timeout = {milliseconds}")
            connection.execute("SELECT pg_advisory_lock(%s)", (lock_id,))
            taken = True
        except pg_errors.LockNotAvailable:
            pass
        except pg_errors.QueryCanceled:
            if cancelled.is_set():
                raise CancelledError("the caller went away while waiting for the lock") from None
        finally:
            on_cancel(lambda: None)
        connection.execute("SET lock_timeout = 0")  # the connection may serve another hold
        return taken

    @staticmethod
    def _next_token(connection: psycopg.Connection[tuple[object, ...]], key: str) -> int:
        # from the server's time in microseconds, as in memory: a lock moved from one backend
        # to the other keeps its tokens growing
        now = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
        row = connection.execute(
            f"INSERT INTO {TOKENS_TABLE} (lock_key, token) VALUES (%s, {now}) "
            f"ON CONFLICT (lock_key) DO UPDATE SET token = "
            f"GREATEST({TOKENS_TABLE}.token + 1, {now}) RETURNING token",
            (key,),
        ).fetchone()
        assert row is not None
        return int(str(row[0]))


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _server_of(url: str) -> str:
    """The URL without its credentials, for messages and the log."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    host, port, dbname = (
        info.get("host") or "localhost",
        info.get("port") or 5432,
        info.get("dbname"),
    )
    return f"{host}:{port}/{dbname or ''}"
