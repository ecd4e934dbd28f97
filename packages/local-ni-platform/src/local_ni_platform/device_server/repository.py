"""Named driver sessions of the simulated device server, with NI's init-or-attach rules.

NI's server (``grpc-device``: ``session_repository.cpp::add_session`` and
``session_resource_repository.h``) keeps one table of session names shared by every driver; each
driver's service only sees its own sessions. This module reproduces those rules without gRPC:

=====================  ========================================  ===================================
behaviour              name exists                               name absent
=====================  ========================================  ===================================
UNSPECIFIED (AUTO)     attach, ``new_session_initialized=False``  initialize, ``True``
INITIALIZE_NEW         :class:`SessionExistsError`               initialize, ``True``
ATTACH_TO_EXISTING     attach, ``False``                         :class:`SessionNotInitializedError`
=====================  ========================================  ===================================

- An empty name always initializes a new session, named ``ni:generated:<n>``.
- Attaching ignores the resource name and options of the request.
- A name that exists but belongs to the other driver passes the behaviour checks (as in NI's
  server) and then fails with :class:`SessionNameConflictError`.
- Closing removes the name before the instrument is closed, so the name is free even if closing
  fails.

Initialization (the driver's init: parsing the resource name, creating the simulation) runs
*outside* the repository lock, so a slow or refused init never stalls other sessions' calls. The
result is only published under the lock, after checking the name again: two clients racing to
initialize one name still get one session and one attach (or one ``SessionExistsError`` for
INITIALIZE_NEW), exactly as if the inits had been serialized; the loser's fresh instrument is
closed unseen.

The three behaviours are the session core's (``nidevice_grpc.SessionInitializationBehavior`` has
the same numbers as every session-shared service's contract); the table differs from the core's
registry in what NI's server does and the core does not: names are the session ids, an empty
name generates one, and drivers share one table of names.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from local_ni_platform.device_server.errors import (
    SessionExistsError,
    SessionNameConflictError,
    SessionNotInitializedError,
    invalid_session,
)
from session_core.behaviors import InitializationBehavior

_logger = logging.getLogger(__name__)

GENERATED_NAME_PREFIX = "ni:generated:"


class Instrument(Protocol):
    """What the repository needs of a simulated instrument session."""

    def close(self) -> None:
        """Release the instrument; later calls on it fail with an invalid-session error."""


_T = TypeVar("_T", bound=Instrument)


@dataclass(frozen=True)
class OpenedSession(Generic[_T]):
    """Result of :meth:`SessionRepository.open`."""

    name: str
    instrument: _T
    new_session_initialized: bool


class SessionRepository:
    """Session names of all simulated drivers of one device server; thread-safe."""

    def __init__(self) -> None:
        """Create an empty repository."""
        self._lock = threading.Lock()
        self._sessions: dict[str, Instrument] = {}
        self._generated = itertools.count(1)

    def open(
        self,
        name: str,
        behavior: int,
        kind: type[_T],
        initialize: Callable[[], _T],
    ) -> OpenedSession[_T]:
        """Attach to the session ``name`` of driver ``kind`` or initialize it, per ``behavior``.

        ``initialize`` is the driver's init call; it is only called when a new session is needed
        and may raise the driver's :class:`~local_ni_platform.device_server.errors.DriverError`.

        Raises:
            SessionExistsError: INITIALIZE_NEW and the name exists.
            SessionNotInitializedError: ATTACH_TO_EXISTING and the name does not exist.
            SessionNameConflictError: the name is a session of another driver.
            ValueError: ``behavior`` is not one of :class:`InitializationBehavior`.
        """
        behavior = InitializationBehavior(behavior)
        with self._lock:
            opened = self._attach_or_refuse(name, behavior, kind)
        if opened is not None:
            return opened
        instrument = initialize()  # outside the lock: other sessions' calls go on meanwhile
        try:
            with self._lock:
                opened = self._attach_or_refuse(name, behavior, kind)
                if opened is None:
                    if not name:
                        name = self._next_generated_name()
                    self._sessions[name] = instrument
                    _logger.info("Initialized %s session %r.", kind.__name__, name)
                    return OpenedSession(name, instrument, new_session_initialized=True)
        except BaseException:
            instrument.close()  # another client initialized the name meanwhile and won
            raise
        instrument.close()  # another client initialized the name meanwhile: attach to theirs
        return opened

    def _attach_or_refuse(
        self, name: str, behavior: InitializationBehavior, kind: type[_T]
    ) -> OpenedSession[_T] | None:
        """The existing session ``name`` per ``behavior``, or None if one must be initialized.

        Callers hold the lock.
        """
        existing = self._sessions.get(name) if name else None
        if existing is None:
            if behavior is InitializationBehavior.ATTACH_TO_EXISTING:
                raise SessionNotInitializedError(
                    f"Cannot attach to '{name}' because a session has not been initialized."
                )
            return None
        if behavior is InitializationBehavior.INITIALIZE_NEW:
            raise SessionExistsError(f"Cannot initialize '{name}' when a session already exists.")
        if not isinstance(existing, kind):
            raise SessionNameConflictError(
                f'The session name "{name}" is being used by a different driver.'
            )
        _logger.info("Attached to %s session %r.", kind.__name__, name)
        return OpenedSession(name, existing, new_session_initialized=False)

    def get(self, name: str, kind: type[_T]) -> _T:
        """The open session ``name`` of driver ``kind``.

        Raises:
            DriverError: no such session of this driver (the invalid-session-handle error).
        """
        with self._lock:
            instrument = self._sessions.get(name)
        if not isinstance(instrument, kind):
            raise invalid_session(name)
        return instrument

    def remove(self, name: str, kind: type[_T]) -> _T:
        """Forget the session ``name`` of driver ``kind`` and return it; the caller closes it.

        Raises:
            DriverError: no such session of this driver (the invalid-session-handle error).
        """
        with self._lock:
            instrument = self._sessions.get(name)
            if not isinstance(instrument, kind):
                raise invalid_session(name)
            del self._sessions[name]
        _logger.info("Removed %s session %r.", kind.__name__, name)
        return instrument

    def names(self) -> list[str]:
        """Names of the open sessions of all drivers, in the order they were opened."""
        with self._lock:
            return list(self._sessions)

    def close_all(self) -> None:
        """Forget and close every session (the server is stopping); closing errors are logged."""
        with self._lock:
            sessions, self._sessions = self._sessions, {}
        for name, instrument in sessions.items():
            try:
                instrument.close()
            except Exception:
                _logger.exception("Failed to close simulated session %r.", name)

    def _next_generated_name(self) -> str:
        """A generated name no open session uses (callers hold the lock)."""
        while True:
            name = f"{GENERATED_NAME_PREFIX}{next(self._generated)}"
            if name not in self._sessions:
                return name
