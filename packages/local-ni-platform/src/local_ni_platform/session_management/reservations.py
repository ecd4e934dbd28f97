"""Exclusive, all-or-nothing reservation of sessions by name, with NI's timeout rules.

Requests carry no client identity, so a reservation is exclusive per session name and not
re-entrant: a second request for a reserved session waits or fails even from the same client.

How waiting works (see :mod:`local_ni_platform.waits` for the platform-wide rules):

- Each waiter has its own condition on the manager's one lock. An unreserve wakes at once, in
  arrival order, only the waiters that can now reserve everything they want (a freed session is
  handed to one waiter, not to a herd that would wake up to find it taken); it only holds the
  lock to update a dict and scan the waiters, so waiters never delay it. A woken waiter that
  leaves without reserving (cancelled, expired) passes the wake-up on.
- A waiter ends with its caller: the RPC's termination callback (client cancel, deadline) wakes
  it, every sleep is capped by the caller's remaining time, and a backstop slice
  (``cancel_check_interval``) re-checks the caller in case the callback is missed.
- Only a request that must actually wait takes a slot of the manager's
  :class:`~local_ni_platform.waits.WaitBudget`; when the budget is full it fails at once with
  :class:`~local_ni_platform.waits.WaitBudgetExhaustedError`, so waiters can never occupy the
  server threads that unreserve, discovery and health checks need.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence

from local_ni_platform.session_management.errors import (
    InvalidRequestError,
    RequestCancelledError,
    RequestDeadlineExceededError,
    ServiceStoppingError,
    SessionsUnavailableError,
)
from local_ni_platform.session_management.records import SessionRecord
from local_ni_platform.waits import (
    DEFAULT_CANCEL_CHECK_INTERVAL,
    DEFAULT_MAX_WAITING_CALLS,
    UNBOUNDED,
    Caller,
    WaitBudget,
    deadline_passed,
    sleep_for,
)

_logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_CANCEL_CHECK_INTERVAL",
    "DEFAULT_MAX_WAITING_CALLS",
    "WAIT_FOREVER",
    "ReservationManager",
    "check_timeout",
]

WAIT_FOREVER = -1
"""``timeout_in_milliseconds`` that waits until the sessions are free."""


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


class _Waiter:
    """One blocked reserve call: the names it wants and the condition it sleeps on."""

    def __init__(self, names: Iterable[str], lock: threading.Lock) -> None:
        self.names = frozenset(names)
        self.condition = threading.Condition(lock)


class ReservationManager:
    """The currently reserved sessions; thread-safe."""

    def __init__(
        self,
        *,
        cancel_check_interval: float = DEFAULT_CANCEL_CHECK_INTERVAL,
        max_waiting_calls: int = DEFAULT_MAX_WAITING_CALLS,
    ) -> None:
        """Create a manager with nothing reserved.

        ``max_waiting_calls`` bounds the reserve calls blocked at the same time (the budget).
        """
        self._lock = threading.Lock()
        self._reserved: dict[str, SessionRecord] = {}
        self._waiters: list[_Waiter] = []
        self._stopped = False
        self._cancel_check_interval = cancel_check_interval
        self._budget = WaitBudget("reservation", max_waiting_calls)

    @property
    def wait_budget(self) -> WaitBudget:
        """The budget of concurrently waiting reserve calls."""
        return self._budget

    def reserve(
        self,
        sessions: Sequence[SessionRecord],
        timeout_in_milliseconds: int,
        *,
        caller: Caller = UNBOUNDED,
    ) -> None:
        """Reserve every session or none, waiting up to the timeout for reserved ones.

        ``timeout_in_milliseconds``: 0 fails at once if any session is reserved, -1 waits
        forever, N waits up to N ms. ``caller`` (the RPC's context) ends the wait when it is
        cancelled or its deadline passes, whichever timeout was asked for.

        Raises:
            InvalidRequestError: the timeout is below -1.
            SessionsUnavailableError: some session stayed reserved until the timeout.
            RequestCancelledError: the caller cancelled while waiting
                (:class:`RequestDeadlineExceededError`: its deadline passed).
            ServiceStoppingError: the manager was stopped.
            WaitBudgetExhaustedError: the request would wait, but the budget is full.
        """
        check_timeout(timeout_in_milliseconds)
        wanted = {session.name: session for session in sessions}
        deadline = (
            None
            if timeout_in_milliseconds == WAIT_FOREVER
            else time.monotonic() + timeout_in_milliseconds / 1000
        )
        with self._lock:
            busy = self._busy(wanted)
            if not busy:
                self._reserved.update(wanted)
        if busy:
            if timeout_in_milliseconds == 0:
                raise SessionsUnavailableError(
                    f"Session(s) {_names(busy)} are already reserved (timeout 0: not waiting)."
                )
            with self._budget.slot():
                self._wait_and_reserve(wanted, timeout_in_milliseconds, deadline, caller)
        _logger.debug("Reserved %s.", _names(wanted))

    def _busy(self, wanted: Mapping[str, SessionRecord]) -> list[str]:
        """The wanted names reserved now; raises if stopped (callers hold the lock)."""
        if self._stopped:
            raise ServiceStoppingError(
                "The Session Management Service is shutting down; nothing was reserved."
            )
        return [name for name in wanted if name in self._reserved]

    def _wait_and_reserve(
        self,
        wanted: Mapping[str, SessionRecord],
        timeout_in_milliseconds: int,
        deadline: float | None,
        caller: Caller,
    ) -> None:
        """Sleep until every wanted session is free, then reserve them (holding the lock)."""
        waiter = _Waiter(wanted, self._lock)
        # The RPC's end (cancel, deadline, server stop) wakes this waiter at once.
        caller.add_callback(lambda: self._wake(waiter))
        with self._lock:
            self._waiters.append(waiter)
            reserved = False
            try:
                while True:
                    busy = self._busy(wanted)
                    if not busy:
                        self._reserved.update(wanted)
                        reserved = True
                        return
                    if deadline_passed(caller):
                        raise RequestDeadlineExceededError(
                            f"The request's deadline passed while waiting for session(s) "
                            f"{_names(busy)}."
                        )
                    if not caller.is_active():
                        raise RequestCancelledError(
                            f"The request was cancelled while waiting for session(s) "
                            f"{_names(busy)}."
                        )
                    if deadline is not None and time.monotonic() >= deadline:
                        raise SessionsUnavailableError(
                            f"Session(s) {_names(busy)} were still reserved after "
                            f"{timeout_in_milliseconds} ms."
                        )
                    waiter.condition.wait(sleep_for(caller, deadline, self._cancel_check_interval))
            finally:
                self._waiters.remove(waiter)
                if not reserved:
                    # This waiter may have been the one woken for sessions that are free now.
                    self._wake_satisfiable(waiter.names)

    def _wake(self, waiter: _Waiter) -> None:
        with self._lock:
            waiter.condition.notify()

    def _wake_satisfiable(self, freed: frozenset[str]) -> None:
        """Wake each waiter that wants a freed name and could now reserve all it wants.

        In arrival order; a name goes to one waiter only. Callers hold the lock.
        """
        claimed: set[str] = set()
        for waiter in self._waiters:
            if waiter.names.isdisjoint(freed) or not waiter.names.isdisjoint(claimed):
                continue
            if any(name in self._reserved for name in waiter.names):
                continue
            claimed.update(waiter.names)
            waiter.condition.notify()

    def unreserve(self, names: Iterable[str]) -> None:
        """Release sessions; hand them at once to the first waiters that can now reserve.

        Unknown or already free names are ignored.
        """
        with self._lock:
            released = [name for name in names if self._reserved.pop(name, None) is not None]
            if released:
                self._wake_satisfiable(frozenset(released))
        if released:
            _logger.debug("Unreserved %s.", _names(released))

    def is_reserved(self, name: str) -> bool:
        """Whether ``name`` is reserved right now."""
        with self._lock:
            return name in self._reserved

    def reserved(self) -> list[SessionRecord]:
        """The reserved sessions, in reservation order."""
        with self._lock:
            return list(self._reserved.values())

    @property
    def waiting_count(self) -> int:
        """How many reserve calls are blocked waiting for reserved sessions (diagnostics, tests)."""
        with self._lock:
            return len(self._waiters)

    def stop(self) -> None:
        """Fail every current and future reserve with ServiceStoppingError; idempotent."""
        with self._lock:
            self._stopped = True
            for waiter in self._waiters:
                waiter.condition.notify()


def _names(names: Iterable[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)
