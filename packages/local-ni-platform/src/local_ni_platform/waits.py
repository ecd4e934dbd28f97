"""Calls that wait (device events, reservations) on the platform's one shared gRPC server.

Every stand-in of the local platform is served by one thread-pool gRPC server, and a waiting call
keeps its worker thread for as long as it waits. Two rules keep waiters from starving the calls
that do not wait (Discovery, Pin Map, Session Management's unreserve, health checks):

1. **A wait ends with its caller.** A waiting call re-checks its caller whenever it wakes, is woken
   by the RPC's termination callback (client cancel, deadline, server stop), and never sleeps past
   the caller's deadline: each sleep is capped by :meth:`Caller.time_remaining` and by a backstop
   slice (:data:`DEFAULT_CANCEL_CHECK_INTERVAL`) in case the callback is missed.
2. **Waiting calls have their own budget of threads.** Each part that can wait owns a
   :class:`WaitBudget` (a bounded count of calls waiting *now*); the platform sizes its thread
   pool as :data:`GENERAL_WORKERS` plus every part's budget, so however many calls wait, at least
   :data:`GENERAL_WORKERS` threads stay free for everything else. A call that would wait while its
   part's budget is full is refused at once with :class:`WaitBudgetExhaustedError`
   (``RESOURCE_EXHAUSTED``); a call that does not need to wait (a free session, an event that
   already occurred) never takes a slot, so a full budget refuses nothing else.

This module is free of gRPC types: ``grpc.ServicerContext`` satisfies :class:`Caller`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

DEFAULT_CANCEL_CHECK_INTERVAL = 0.5
"""Longest sleep of a waiting call between checks of its caller (backs up the RPC callback)."""

GENERAL_WORKERS = 32
"""Server threads that waiting calls can never take (Discovery, Pin Map, unreserve, health...)."""

DEFAULT_MAX_WAITING_CALLS = 64
"""Default budget of one part: calls of that part that may wait at the same time."""


class WaitBudgetExhaustedError(Exception):
    """A call would wait but its part's budget of waiting calls is full (``RESOURCE_EXHAUSTED``)."""


class Caller(Protocol):
    """The caller of a waiting call, as ``grpc.ServicerContext`` describes it."""

    def is_active(self) -> bool:
        """Whether the caller still wants the result (False once cancelled or expired)."""

    def time_remaining(self) -> float | None:
        """Seconds until the caller's deadline, or None if it has none."""

    def add_callback(self, callback: Callable[[], None]) -> bool:
        """Call ``callback`` when the call ends; False if it has ended already."""


class _Unbounded:
    """A caller that never gives up (in-process use and unit tests)."""

    def is_active(self) -> bool:
        return True

    def time_remaining(self) -> float | None:
        return None

    def add_callback(self, callback: Callable[[], None]) -> bool:
        return True


UNBOUNDED: Caller = _Unbounded()
"""A caller without deadline that never cancels."""


def deadline_passed(caller: Caller) -> bool:
    """Whether ``caller`` has a deadline and it has passed (answer ``DEADLINE_EXCEEDED``)."""
    remaining = caller.time_remaining()
    return remaining is not None and remaining <= 0


def sleep_for(caller: Caller, until: float | None, backstop: float) -> float:
    """How long a waiter may sleep now (never negative).

    The first of: ``until`` (a :func:`time.monotonic` time, or None), the caller's deadline, and
    ``backstop`` seconds from now.
    """
    sleep = backstop
    if until is not None:
        sleep = min(sleep, until - time.monotonic())
    remaining = caller.time_remaining()
    if remaining is not None:
        sleep = min(sleep, remaining)
    return max(sleep, 0.0)


class WaitBudget:
    """How many calls of one part may wait at the same time; refuses the next one at once.

    Thread-safe. :attr:`active` is the number of calls waiting now (diagnostics and tests).
    """

    def __init__(self, name: str, limit: int = DEFAULT_MAX_WAITING_CALLS) -> None:
        """A budget of ``limit`` (at least 1) concurrent waits, named ``name`` in errors."""
        if limit < 1:
            raise ValueError(f"A wait budget needs at least one slot; got {limit}.")
        self.name = name
        self.limit = limit
        self._lock = threading.Lock()
        self._active = 0

    @property
    def active(self) -> int:
        """Calls holding a slot now."""
        with self._lock:
            return self._active

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the duration of a wait.

        Raises:
            WaitBudgetExhaustedError: every slot is taken (nothing is held).
        """
        with self._lock:
            if self._active >= self.limit:
                raise WaitBudgetExhaustedError(
                    f"{self.limit} {self.name} calls are already waiting, the most this local "
                    f"platform serves at once; retry later or stop the waiting calls."
                )
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
