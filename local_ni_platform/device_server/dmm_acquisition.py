"""An initiated NI-DMM acquisition: which points are measured when, and which were fetched.

Free of locks and clocks (times are passed in, :func:`time.monotonic` based), so the rules are
plain arithmetic:

- An acquisition has ``trigger_count`` triggers of ``points_per_trigger`` points each (sample
  count, or waveform points); 0 for either means "until aborted".
- A simulated DMM needs no trigger from outside: every trigger source, software triggers
  included, fires by itself (as NI's simulated driver does). Point ``i`` of trigger ``j`` is
  measured ``(j + 1) · trigger_delay + i · point_period`` seconds after initiate (the delay and
  period are 0 unless programmed), so a plain acquisition is complete at once.
- Points are fetched in order; the backlog is measured minus fetched. An acquisition without end
  measures its points as they are fetched (there is no buffer to fill), so its backlog stays 0
  and it is RUNNING until aborted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from local_ni_platform.waits import DEFAULT_CANCEL_CHECK_INTERVAL, UNBOUNDED, Caller, WaitBudget


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
        limit = self.fetched if total is None else total
        return self.schedule.measured(now - self.started, limit)

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
