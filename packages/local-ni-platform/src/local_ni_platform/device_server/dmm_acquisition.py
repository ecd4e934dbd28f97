"""An initiated NI-DMM acquisition: which points are measured when, and which were fetched.

:class:`Schedule` and :class:`Acquisition` are free of locks and clocks (times are passed in,
:func:`time.monotonic` based), so the rules are plain arithmetic:

- An acquisition has ``trigger_count`` triggers of ``points_per_trigger`` points each (sample
  count, or waveform points); 0 for either means "until aborted".
- A simulated DMM needs no trigger from outside: every trigger source, software triggers
  included, fires by itself (as NI's simulated driver does). Point ``i`` of trigger ``j`` is
  measured ``(j + 1) · trigger_delay + i · point_period`` seconds after initiate (the delay and
  period are 0 unless programmed), so a plain acquisition is complete at once.
- Points are fetched in order; the backlog is measured minus fetched. An acquisition without end
  measures a point every :data:`ENDLESS_POINT_PERIOD` (unless a period is programmed), so its
  backlog grows as NI's continuous-acquisition examples expect, and it is RUNNING until aborted.

:class:`Acquisitions` is a session's slot for its acquisition, under the session's lock: it
starts, stops and reports it, and waits for points. A fetch sleeps, in real time, only for points
that will arrive; for points that never will it fails at once with "Max Time exceeded". The wait
ends with its caller (see :mod:`local_ni_platform.waits`).
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

from local_ni_platform.device_server import dmm_attributes as attrs
from local_ni_platform.device_server.errors import (
    DATA_NOT_AVAILABLE,
    INVALID_VALUE,
    MAX_TIME_EXCEEDED,
    DriverError,
    WaitAbandonedError,
    WaitDeadlineExceededError,
)
from local_ni_platform.waits import (
    DEFAULT_CANCEL_CHECK_INTERVAL,
    UNBOUNDED,
    Caller,
    WaitBudget,
    deadline_passed,
    sleep_for,
)

ENDLESS_POINT_PERIOD = 1 / 60
"""Seconds between the points of an acquisition without end and without a programmed period:
one power-line cycle at 60 Hz, NI-DMM's default aperture."""

TIME_LIMIT_AUTO = -1
"""``maximum_time`` of -1: wait as long as the points take."""
MAX_TIME_LIMIT_MS = 86_400_000


class AcquisitionStatus(enum.IntEnum):
    """NI-DMM's ``AcquisitionStatus``, as ``ReadStatus`` reports it."""

    RUNNING = 0
    FINISHED_WITH_BACKLOG = 1
    FINISHED_WITH_NO_BACKLOG = 2
    PAUSED = 3
    NO_ACQUISITION_IN_PROGRESS = 4


@dataclass(frozen=True)
class Schedule:
    """When each point of an acquisition is measured, in seconds after initiate."""

    trigger_count: int
    points_per_trigger: int
    trigger_delay: float = 0.0
    point_period: float = 0.0

    @property
    def total(self) -> int | None:
        """Points the acquisition measures; None if it runs until aborted."""
        if self.trigger_count == 0 or self.points_per_trigger == 0:
            return None
        return self.trigger_count * self.points_per_trigger

    @classmethod
    def programmed(cls, value: Callable[[int], float]) -> Schedule:
        """The schedule the session's attributes program (``value``: attribute id → number).

        Multi-point: trigger count times sample count, spaced by the sample interval when the
        sample trigger is INTERVAL. Waveform: trigger count times waveform points at the waveform
        rate. An auto (-1) or disabled (-2) trigger delay is none: nothing needs to settle.
        """
        if int(value(attrs.OPERATION_MODE)) == attrs.WAVEFORM_MODE:
            points = int(value(attrs.WAVEFORM_POINTS))
            period = 1.0 / value(attrs.WAVEFORM_RATE)
        else:
            points = int(value(attrs.SAMPLE_COUNT))
            interval = value(attrs.SAMPLE_INTERVAL)
            by_interval = int(value(attrs.SAMPLE_TRIGGER)) == attrs.SAMPLE_TRIGGER_INTERVAL
            period = interval if by_interval and interval > 0 else 0.0
        delay = max(value(attrs.TRIGGER_DELAY), 0.0)
        triggers = int(value(attrs.TRIGGER_COUNT))
        if (triggers == 0 or points == 0) and period == 0:
            period = ENDLESS_POINT_PERIOD
        return cls(triggers, points, delay, period)

    def due(self, index: int) -> float:
        """Seconds after initiate at which point ``index`` (from 0) is measured."""
        trigger = index // self.points_per_trigger if self.points_per_trigger else 0
        return (trigger + 1) * self.trigger_delay + index * self.point_period

    def measured(self, elapsed: float, limit: int) -> int:
        """How many of the first ``limit`` points are measured ``elapsed`` s after initiate."""
        low, high = 0, limit  # due() never decreases: find the first point not yet due
        while low < high:
            middle = (low + high) // 2
            if self.due(middle) <= elapsed:
                low = middle + 1
            else:
                high = middle
        return low


class Acquisition:
    """One initiated acquisition and how far it has been fetched."""

    def __init__(self, schedule: Schedule, started: float) -> None:
        """Start ``schedule`` at ``started`` (a :func:`time.monotonic` time)."""
        self.schedule = schedule
        self.started = started
        self.fetched = 0

    def measured(self, now: float) -> int:
        """Points measured by ``now``."""
        total = self.schedule.total
        elapsed = now - self.started
        if total is None:  # due(i) >= i · period, so fewer than this many are due
            period = self.schedule.point_period
            total = self.fetched + 2 + int(elapsed / period) if period > 0 else self.fetched
        return self.schedule.measured(elapsed, total)

    def backlog(self, now: float) -> int:
        """Points measured but not fetched."""
        return self.measured(now) - self.fetched

    def status(self, now: float) -> AcquisitionStatus:
        """RUNNING until every point is measured; then whether some wait to be fetched."""
        total = self.schedule.total
        if total is None or self.measured(now) < total:
            return AcquisitionStatus.RUNNING
        if self.fetched < total:
            return AcquisitionStatus.FINISHED_WITH_BACKLOG
        return AcquisitionStatus.FINISHED_WITH_NO_BACKLOG

    def ready_at(self, count: int) -> float | None:
        """When the next ``count`` points will all be measured; None if they never will."""
        if count <= 0:
            return self.started
        last = self.fetched + count - 1
        total = self.schedule.total
        if total is not None and last >= total:
            return None
        return self.started + self.schedule.due(last)

    def take(self, count: int) -> None:
        """Mark the next ``count`` points fetched (the caller checked :meth:`ready_at`)."""
        self.fetched += max(count, 0)


@dataclass(frozen=True)
class Waiter:
    """Who waits for points, and within what: see :mod:`local_ni_platform.waits`.

    A fetch that must sleep ends when ``caller`` cancels or its deadline passes, re-checks it at
    least every ``cancel_check_interval`` seconds, and holds a slot of ``budget`` meanwhile.
    """

    caller: Caller = UNBOUNDED
    budget: WaitBudget | None = None
    cancel_check_interval: float = DEFAULT_CANCEL_CHECK_INTERVAL


IMMEDIATE_WAITER = Waiter()
"""In-process use: no caller to lose, no budget."""


class Acquisitions:
    """A session's acquisition, if one was initiated; used under the session's lock."""

    def __init__(self, condition: threading.Condition, check_open: Callable[[], None]) -> None:
        """Share the session's ``condition``; ``check_open`` raises once the session closed."""
        self._condition = condition
        self._check_open = check_open
        self.current: Acquisition | None = None

    def start(self, schedule: Schedule) -> None:
        """Start ``schedule`` now, replacing any running acquisition."""
        self.current = Acquisition(schedule, time.monotonic())
        self._condition.notify_all()

    def stop(self) -> None:
        """Drop the acquisition and its unfetched points; waiting fetches fail."""
        self.current = None
        self._condition.notify_all()

    def status(self) -> tuple[int, AcquisitionStatus]:
        """The backlog and state ``ReadStatus`` reports."""
        if self.current is None:
            return 0, AcquisitionStatus.NO_ACQUISITION_IN_PROGRESS
        now = time.monotonic()
        return self.current.backlog(now), self.current.status(now)

    def take(self, count: int, maximum_time_ms: int, waiter: Waiter) -> None:
        """Wait until the next ``count`` points are measured, then mark them fetched.

        Raises:
            DriverError: invalid arguments; no acquisition (-1074118641); the points will never
                arrive, or not within ``maximum_time_ms`` (-1074126845); the session closed.
            WaitAbandonedError: the caller cancelled or its deadline passed.
            WaitBudgetExhaustedError: the fetch would sleep but the wait budget is full.
        """
        if count < 0:
            raise DriverError(INVALID_VALUE, f"Cannot fetch {count} points.")
        deadline = deadline_after(maximum_time_ms)
        acquisition = self.current
        if acquisition is None:
            raise DriverError(DATA_NOT_AVAILABLE, "Call initiate before fetching.")
        if _wake_time(acquisition, count, deadline) is None:
            acquisition.take(count)
            return
        caller = waiter.caller
        with waiter.budget.slot() if waiter.budget is not None else nullcontext():
            caller.add_callback(self._wake)  # the RPC's end (cancel, deadline) wakes this fetch
            while (wake := _wake_time(acquisition, count, deadline)) is not None:
                if deadline_passed(caller):
                    raise WaitDeadlineExceededError("The caller's deadline passed in a fetch.")
                if not caller.is_active():
                    raise WaitAbandonedError("The caller cancelled a fetch.")
                self._condition.wait(sleep_for(caller, wake, waiter.cancel_check_interval))
                self._check_open()
                if self.current is not acquisition:
                    raise DriverError(DATA_NOT_AVAILABLE, "The acquisition was aborted.")
        acquisition.take(count)

    def _wake(self) -> None:
        with self._condition:
            self._condition.notify_all()


def deadline_after(maximum_time_ms: int) -> float | None:
    """The :func:`time.monotonic` time ``maximum_time_ms`` from now; None for -1 (auto).

    Raises:
        DriverError: not -1 or 0-86400000.
    """
    if maximum_time_ms == TIME_LIMIT_AUTO:
        return None
    if not 0 <= maximum_time_ms <= MAX_TIME_LIMIT_MS:
        raise DriverError(INVALID_VALUE, f"Maximum time {maximum_time_ms} ms is not valid.")
    return time.monotonic() + maximum_time_ms / 1000.0


def _wake_time(acquisition: Acquisition, count: int, deadline: float | None) -> float | None:
    """None if the next ``count`` points are measured; else when to look again.

    Raises:
        DriverError: the points will never all arrive, or ``deadline`` passed (-1074126845).
    """
    ready = acquisition.ready_at(count)
    if ready is None:
        total = acquisition.schedule.total or 0
        raise DriverError(
            MAX_TIME_EXCEEDED,
            f"{count} points asked for; {total - acquisition.fetched} more will arrive.",
        )
    now = time.monotonic()
    if ready <= now:
        return None
    if deadline is not None and now >= deadline:
        raise DriverError(MAX_TIME_EXCEEDED, f"{count} points did not arrive in time.")
    return ready if deadline is None else min(ready, deadline)
