"""Exclusive, all-or-nothing reservation of sessions by name, with NI's timeout rules.

Requests carry no client identity, so a reservation is exclusive per session name and not
re-entrant: a second request for a reserved session waits or fails even from the same client.
Waiters sleep on one :class:`threading.Condition` and are woken by every unreserve (and by
:meth:`ReservationManager.wake_waiters`, which the servicer registers as the RPC's termination
callback so a cancelled or expired RPC stops waiting at once). The bounded wait slice only backs
that callback up; unreserves never depend on it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from local_ni_platform.session_management.errors import (
    InvalidRequestError,
    RequestCancelledError,
    ServiceStoppingError,
    SessionsUnavailableError,
)
from local_ni_platform.session_management.records import SessionRecord

_logger = logging.getLogger(__name__)

WAIT_FOREVER = -1
"""``timeout_in_milliseconds`` that waits until the sessions are free."""

DEFAULT_CANCEL_CHECK_INTERVAL = 0.5
"""Seconds between checks that a waiting request is still wanted (backs up the RPC callback)."""


def check_timeout(timeout_in_milliseconds: int) -> None:
    """Reject timeouts the proto does not allow.

    Raises:
        InvalidRequestError: the timeout is below -1.
    """
    if timeout_in_milliseconds < WAIT_FOREVER:
        raise InvalidRequestError(
            f"timeout_in_milliseconds must be -1 (wait forever), 0 (do not wait) or a positive "
            f"number of milliseconds; got {timeout_in_milliseconds}."
        )


def _always_active() -> bool:
    return True


class ReservationManager:
    """The currently reserved sessions; thread-safe."""

    def __init__(self, *, cancel_check_interval: float = DEFAULT_CANCEL_CHECK_INTERVAL) -> None:
        """Create a manager with nothing reserved."""
        self._condition = threading.Condition()
        self._reserved: dict[str, SessionRecord] = {}
        self._waiting = 0
        self._stopped = False
        self._cancel_check_interval = cancel_check_interval

    def reserve(
        self,
        sessions: Sequence[SessionRecord],
        timeout_in_milliseconds: int,
        *,
        is_active: Callable[[], bool] = _always_active,
    ) -> None:
        """Reserve every session or none, waiting up to the timeout for reserved ones.

        ``timeout_in_milliseconds``: 0 fails at once if any session is reserved, -1 waits
        forever, N waits up to N ms. ``is_active`` says whether the caller still wants the
        result; it is checked whenever the waiter wakes.

        Raises:
            InvalidRequestError: the timeout is below -1.
            SessionsUnavailableError: some session stayed reserved until the timeout.
            RequestCancelledError: ``is_active`` turned false while waiting.
            ServiceStoppingError: the manager was stopped.
        """
        check_timeout(timeout_in_milliseconds)
        wanted = {session.name: session for session in sessions}
        deadline = (
            None
            if timeout_in_milliseconds == WAIT_FOREVER
            else time.monotonic() + timeout_in_milliseconds / 1000
        )
        with self._condition:
            self._wait_until_free(wanted, timeout_in_milliseconds, deadline, is_active)
            self._reserved.update(wanted)
        _logger.debug("Reserved %s.", _names(wanted))

    def _wait_until_free(
        self,
        wanted: Mapping[str, SessionRecord],
        timeout_in_milliseconds: int,
        deadline: float | None,
        is_active: Callable[[], bool],
    ) -> None:
        """Block (holding the condition between waits) until no wanted session is reserved."""
        while True:
            if self._stopped:
                raise ServiceStoppingError(
                    "The Session Management Service is shutting down; nothing was reserved."
                )
            busy = [name for name in wanted if name in self._reserved]
            if not busy:
                return
            if timeout_in_milliseconds == 0:
                raise SessionsUnavailableError(
                    f"Session(s) {_names(busy)} are already reserved (timeout 0: not waiting)."
                )
            if not is_active():
                raise RequestCancelledError(
                    f"The request was cancelled while waiting for session(s) {_names(busy)}."
                )
            wait = self._cancel_check_interval
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SessionsUnavailableError(
                        f"Session(s) {_names(busy)} were still reserved after "
                        f"{timeout_in_milliseconds} ms."
                    )
                wait = min(wait, remaining)
            self._waiting += 1
            try:
                self._condition.wait(wait)
            finally:
                self._waiting -= 1

    def unreserve(self, names: Iterable[str]) -> None:
        """Release sessions and wake waiters; unknown or already free names are ignored."""
        with self._condition:
            released = [name for name in names if self._reserved.pop(name, None) is not None]
            if released:
                self._condition.notify_all()
        if released:
            _logger.debug("Unreserved %s.", _names(released))

    def is_reserved(self, name: str) -> bool:
        """Whether ``name`` is reserved right now."""
        with self._condition:
            return name in self._reserved

    def reserved(self) -> list[SessionRecord]:
        """The reserved sessions, in reservation order."""
        with self._condition:
            return list(self._reserved.values())

    @property
    def waiting_count(self) -> int:
        """How many reserve calls are blocked waiting for reserved sessions (diagnostics, tests)."""
        with self._condition:
            return self._waiting

    def wake_waiters(self) -> None:
        """Make every waiter re-check its state (e.g. its RPC ended)."""
        with self._condition:
            self._condition.notify_all()

    def stop(self) -> None:
        """Fail every current and future reserve with ServiceStoppingError; idempotent."""
        with self._condition:
            self._stopped = True
            self._condition.notify_all()


def _names(names: Iterable[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)
