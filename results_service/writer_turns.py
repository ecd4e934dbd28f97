"""Fair turns at an SQLite file's one write lock, for the sessions of every service that uses it.

On SQLite a session's transaction holds the file's write lock from its first row to its commit,
so stations sharing one file take turns. SQLite's own wait is a sleep-and-retry loop: a station
that commits and at once starts its next run takes the lock again before the sleeping ones wake,
and the others starve (one station did all its runs while another waited over a second; with 8
stations some runs were refused after the 5 s wait). So a session first takes its turn here:

- the turn is an exclusive ``flock`` on ``<database>.writer-lock``, which the kernel hands on as
  soon as it is released (no polling), by any process on the machine;
- to queue for it, a session first takes ``<database>.writer-gate`` and holds it only until it
  has the turn: a session that just finished its turn and wants another must pass the gate
  behind the one already waiting, so it can no longer jump the queue;
- the wait is bounded (the caller's deadline, or the lock wait limit). A session whose caller
  gave up keeps its place: its one waiting thread stays queued, the session's next attempt waits
  on it again, and a turn that arrives while nobody wants it is handed on at once (so a session
  never has more than one waiting thread, however often its callers give up).

Writers that do not take turns (another program on the file) are still waited for by SQLite's
busy timeout. Where ``fcntl`` does not exist (Windows), sessions rely on that alone.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

_logger = logging.getLogger(__name__)

GATE_SUFFIX = ".writer-gate"
LOCK_SUFFIX = ".writer-lock"
_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


class _Waiter:
    """A thread queued for the turn on one session's behalf. It outlives a caller that stopped
    waiting: the session's next attempt waits on it again (so a session never has more than one),
    and a turn that arrives while nobody wants it is handed on at once.
    """

    def __init__(self, gate: int, lock: int) -> None:
        self._state = threading.Condition()
        self.wanted = True
        self.turn = -1
        """The lock's descriptor, once the turn came to a caller that wanted it."""
        self.failure: OSError | None = None
        self.finished = False
        threading.Thread(
            target=self._queue, args=(gate, lock), name="sqlite-writer-turn", daemon=True
        ).start()

    def _queue(self, gate: int, lock: int) -> None:
        try:
            fcntl.flock(gate, fcntl.LOCK_EX)  # behind whoever waits already
            fcntl.flock(lock, fcntl.LOCK_EX)  # the kernel wakes us when it is free
        except OSError as error:
            os.close(lock)
            with self._state:
                self.failure, self.finished = error, True
                self._state.notify_all()
            return
        finally:
            os.close(gate)  # passes the gate on
        with self._state:
            if self.wanted:
                self.turn = lock
            else:  # nobody waits for it any more: hand the turn on at once
                os.close(lock)
            self.finished = True
            self._state.notify_all()

    def wait(self, timeout: float) -> bool:
        """Wait for the turn; whether the waiter is done (with the turn, or failed)."""
        with self._state:
            self.wanted = True
            self._state.wait_for(lambda: self.finished, timeout=timeout)
            if not self.finished:
                self.wanted = False  # if it comes after all, it is handed on
            return self.finished


class WriterTurns:
    """One session's place in the queue for one SQLite file's write lock."""

    def __init__(self, database: Path) -> None:
        self._gate = database.with_name(database.name + GATE_SUFFIX)
        self._lock = database.with_name(database.name + LOCK_SUFFIX)
        self._held = -1
        self._waiter: _Waiter | None = None

    @property
    def held(self) -> bool:
        """Whether this session has the turn."""
        return self._held >= 0

    def take(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for the turn; return whether it was taken."""
        if fcntl is None or self.held:
            return True
        if self._waiter is None:
            try:
                gate = os.open(self._gate, _FLAGS, 0o666)
            except OSError as error:  # a read-only folder: SQLite's own wait still applies
                _warn_without_turns(self._gate, error)
                return True
            try:
                lock = os.open(self._lock, _FLAGS, 0o666)
            except OSError as error:
                os.close(gate)
                _warn_without_turns(self._lock, error)
                return True
            self._waiter = _Waiter(gate, lock)
        waiter = self._waiter
        if not waiter.wait(timeout):
            return False  # still queued: the next attempt waits on the same waiter
        self._waiter = None
        if waiter.failure is not None:  # a file system without flock (some network shares)
            _warn_without_turns(self._lock, waiter.failure)
            return True
        if waiter.turn < 0:  # it came while nobody wanted it, and was handed on: queue again
            return self.take(timeout)
        self._held = waiter.turn
        return True

    def give_back(self) -> None:
        """End the turn (after the commit or rollback); leave the queue when still in it."""
        held, self._held = self._held, -1
        if held >= 0:
            os.close(held)  # closing the descriptor releases its flock


_warned: set[Path] = set()


def _warn_without_turns(path: Path, error: OSError) -> None:
    """Once per file: taking turns is not possible there, so writers wait as SQLite makes them."""
    if path not in _warned:
        _warned.add(path)
        _logger.warning(
            "Cannot queue for the write lock with %s (%s): writers on this database wait as "
            "SQLite makes them, without fair turns.",
            path,
            error,
        )


class _NoTurns(WriterTurns):
    """A database whose writers do not wait for each other (PostgreSQL)."""

    def __init__(self) -> None:
        self._held = -1

    def take(self, timeout: float) -> bool:
        """Nothing to wait for."""
        return True


NO_TURNS = _NoTurns()
