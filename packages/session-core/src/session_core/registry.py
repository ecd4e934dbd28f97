"""The session core: behaviour logic, a registry keyed by resource and by session id, and locking.

Nothing here knows what the resource is. A log file, a database connection or a hardware lock
plugs in through ``open_resource`` (any object with ``close()``): the JSON Logger Service and the
Results Database Service both keep their sessions here.

Guarantees:

- check-and-create is atomic per resource key: concurrent INITIALIZE_NEW calls on one key open
  the resource once; the others get ALREADY_EXISTS. Opening happens outside the registry lock, so
  a slow open of one resource does not block lookups or other resources.
- ``use()`` serialises work on one session and never hands out a closed resource.
- ``close()`` removes the session first (new lookups fail NOT_FOUND), then waits for work already
  in flight before closing the resource; the key stays reserved until the resource is closed.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Generic, Protocol, TypeVar

from session_core.behaviors import InitializationBehavior
from session_core.errors import (
    AlreadyExistsError,
    DeadlineExceededError,
    InvalidArgumentError,
    NotFoundError,
    excerpt,
)

_logger = logging.getLogger(__name__)


class Closable(Protocol):
    """What the core needs of a resource: a way to release it."""

    def close(self) -> None:
        """Release the resource."""


ResourceT = TypeVar("ResourceT", bound=Closable)


@dataclass(eq=False)
class Session(Generic[ResourceT]):
    """One open resource and the bookkeeping around it."""

    key: str
    resource: ResourceT
    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    opened_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class _Transition:
    """Marks a key whose resource is being opened or closed."""


_IN_TRANSITION = _Transition()


class SessionRegistry(Generic[ResourceT]):
    """Open sessions, found by resource key (one session per key) and by session id (O(1))."""

    def __init__(self, *, resource_kind: str = "resource") -> None:
        self._resource_kind = resource_kind
        self._changed = threading.Condition(threading.Lock())
        self._by_key: dict[str, Session[ResourceT] | _Transition] = {}
        self._by_id: dict[str, Session[ResourceT]] = {}

    def initialize(
        self,
        key: str,
        behavior: InitializationBehavior,
        open_resource: Callable[[], ResourceT],
        *,
        display_name: str | None = None,
        admit: Callable[[ResourceT], None] | None = None,
    ) -> tuple[Session[ResourceT], bool]:
        """Attach to or create the session of ``key``; return it and whether it is new.

        ``admit``, when given, is called with the open session's resource before anything else
        is decided or said about it; it raises (a ServiceError) to refuse this caller, e.g. one
        that cannot prove the credentials the session was opened with.
        """
        name = display_name or key
        with self._changed:
            entry = self._by_key.get(key)
            while isinstance(entry, _Transition):
                self._changed.wait()
                entry = self._by_key.get(key)
            if entry is not None:
                if admit is not None:
                    admit(entry.resource)
                if behavior is InitializationBehavior.INITIALIZE_NEW:
                    raise AlreadyExistsError(
                        f"a session for {self._resource_kind} '{name}' is already open "
                        f"(session id {entry.session_id}); attach to it or close it first"
                    )
                return entry, False
            if behavior is InitializationBehavior.ATTACH_TO_EXISTING:
                raise NotFoundError(
                    f"no open session for {self._resource_kind} '{name}' to attach to"
                )
            self._by_key[key] = _IN_TRANSITION
        try:
            resource = open_resource()
        except BaseException:
            self._finish_transition(key, None)
            raise
        session = Session(key=key, resource=resource)
        self._finish_transition(key, session)
        _logger.info("Opened session %s for %s.", session.session_id, name)
        return session, True

    def get(self, session_id: str) -> Session[ResourceT]:
        """Return the open session with this id."""
        if not session_id:
            raise InvalidArgumentError(
                "session_id is empty; send the id the initialize call returned"
            )
        with self._changed:
            session = self._by_id.get(session_id)
        if session is None:
            raise NotFoundError(
                f"no open session with id '{excerpt(session_id)}' (never opened or closed)"
            )
        return session

    @contextmanager
    def use(self, session_id: str, *, timeout: float | None = None) -> Iterator[ResourceT]:
        """Hold the session's lock while working on its resource.

        ``timeout``: how long to wait for the session's earlier calls (the caller's deadline);
        DEADLINE_EXCEEDED when they still run then, and nothing is done. None: as long as it takes.
        """
        session = self.get(session_id)
        if not session.lock.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
            raise DeadlineExceededError(
                "the caller's deadline came while an earlier call of this session still ran; "
                "nothing was done"
            )
        try:
            if session.closed:
                raise NotFoundError(f"session '{session_id}' was closed")
            yield session.resource
        finally:
            session.lock.release()

    def close(self, session_id: str) -> Session[ResourceT]:
        """Close the session: later lookups fail; writes in flight finish first."""
        if not session_id:
            raise InvalidArgumentError(
                "session_id is empty; send the id the initialize call returned"
            )
        with self._changed:
            session = self._by_id.pop(session_id, None)
            if session is None:
                raise NotFoundError(
                    f"no open session with id '{excerpt(session_id)}' "
                    "(never opened or already closed)"
                )
            self._by_key[session.key] = _IN_TRANSITION
        try:
            with session.lock:
                session.closed = True
                session.resource.close()
        finally:
            self._finish_transition(session.key, None)
        _logger.info("Closed session %s.", session_id)
        return session

    def close_all(self) -> None:
        """Close every open session (at shutdown); one failure does not stop the others."""
        for session in self.sessions():
            try:
                self.close(session.session_id)
            except NotFoundError:
                pass
            except Exception:
                _logger.exception("Failed to close session %s.", session.session_id)

    def sessions(self) -> list[Session[ResourceT]]:
        """A snapshot of the open sessions."""
        with self._changed:
            return list(self._by_id.values())

    def _finish_transition(self, key: str, session: Session[ResourceT] | None) -> None:
        with self._changed:
            if session is None:
                del self._by_key[key]
            else:
                self._by_key[key] = session
                self._by_id[session.session_id] = session
            self._changed.notify_all()
