"""Registered (open) sessions by name: what ``session_exists`` reports.

TestStand-style setup code registers the sessions it opened so later steps attach to them instead
of opening new ones, and cleanup unregisters them before closing. Registration is independent of
reservation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from typing import Generic, Protocol, TypeVar

from local_ni_platform.session_management.errors import (
    InvalidRequestError,
    SessionAlreadyRegisteredError,
)

_logger = logging.getLogger(__name__)


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_T = TypeVar("_T", bound=_Named)


class SessionRegistry(Generic[_T]):
    """Registered sessions (or multiplexer sessions) keyed by session name; thread-safe."""

    def __init__(self, kind: str = "session") -> None:
        """Create an empty registry; ``kind`` names its entries in messages."""
        self._kind = kind
        self._lock = threading.Lock()
        self._sessions: dict[str, _T] = {}

    def register(self, sessions: Sequence[_T]) -> None:
        """Register every session or none.

        Raises:
            InvalidRequestError: a session name is empty.
            SessionAlreadyRegisteredError: a name is registered already or given twice.
        """
        if any(not session.name for session in sessions):
            raise InvalidRequestError(f"A {self._kind} to register has an empty session name.")
        names = [session.name for session in sessions]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        with self._lock:
            taken = [name for name in names if name in self._sessions]
            if taken or duplicates:
                listed = ", ".join(f"'{name}'" for name in dict.fromkeys(taken + duplicates))
                raise SessionAlreadyRegisteredError(
                    f"The {self._kind}(s) {listed} are already registered."
                )
            for session in sessions:
                self._sessions[session.name] = session
        _logger.info("Registered %s(s) %s.", self._kind, ", ".join(names))

    def unregister(self, names: Iterable[str]) -> None:
        """Unregister sessions; unknown names are ignored."""
        with self._lock:
            removed = [name for name in names if self._sessions.pop(name, None) is not None]
        if removed:
            _logger.info("Unregistered %s(s) %s.", self._kind, ", ".join(removed))

    def get(self, name: str) -> _T | None:
        """The registered session named ``name``, if any."""
        with self._lock:
            return self._sessions.get(name)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._sessions

    def all(self) -> list[_T]:
        """Every registered session, in registration order."""
        with self._lock:
            return list(self._sessions.values())
