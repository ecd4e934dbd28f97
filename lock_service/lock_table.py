"""The locks of one service: who holds each, who waits (first come first served), leases.

A hold is a session of :class:`session_core.registry.SessionRegistry` (ids, lookups, closing,
listing are the core's); what a lock adds lives here:

- **Waiting in order.** Each lock has a queue; only its head may take the lock, and only while
  no hold of this service has it. A caller that goes away (cancelled, deadline, killed) leaves
  the queue at once, and the next one moves up.
- **One hold at a time per lock**, made exclusive beyond this service by the backend's guard.
- **Leases.** A reaper thread ends every hold whose lease ran out, and hands the lock on.
- **Ended holds are remembered** (the last :data:`REMEMBERED_ENDINGS`), so that a call naming
  one is told why it ended (ABORTED) rather than that it never existed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from lock_service.backends import Backend, Guard
from lock_service.names import LockName
from session_core.behaviors import InitializationBehavior
from session_core.errors import (
    AbortedError,
    AlreadyExistsError,
    CancelledError,
    DeadlineExceededError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    ResourceExhaustedError,
    UnavailableError,
    excerpt,
)
from session_core.registry import Session, SessionRegistry

_logger = logging.getLogger(__name__)

REMEMBERED_ENDINGS = 10_000
DEFAULT_MAX_WAITERS = 256
DEADLINE_MARGIN_SECONDS = 0.05
"""A wait ends this long before the caller's deadline, so that the answer still reaches it."""
LONGEST_SLEEP_SECONDS = 3600.0
"""A waiter looks again at least this often; the OS refuses sleeps past its time_t."""


@dataclass(eq=False)
class Hold:
    """One hold of a lock: the resource of a session."""

    lock: LockName
    guard: Guard
    lease: float
    """Seconds each renewal grants."""
    holder: str
    acquired_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    started: float = field(default_factory=time.monotonic)
    expires: float = 0.0
    """``time.monotonic()`` when the lease runs out."""
    attaches: int = 0

    def __post_init__(self) -> None:
        self.renew()

    @property
    def token(self) -> int:
        """The fencing token."""
        return self.guard.token

    @property
    def held_for(self) -> float:
        """Seconds since the hold began."""
        return time.monotonic() - self.started

    def renew(self) -> None:
        """Start the lease again."""
        self.expires = time.monotonic() + self.lease

    @property
    def expires_at(self) -> datetime:
        """The lease's end, as a wall-clock time."""
        return datetime.now(timezone.utc) + timedelta(seconds=self.expires - time.monotonic())

    def close(self) -> None:
        """Let other services in (the registry calls this when the session closes)."""
        self.guard.release()


@dataclass(eq=False)
class _Waiter:
    gone: bool = False
    stop_backend_wait: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class Caller:
    """What the lock table needs of a waiting call (the servicer passes its gRPC context's)."""

    time_remaining: Callable[[], float | None]
    on_gone: Callable[[Callable[[], None]], object]
    """Register a function to run when the call ends for any reason (gRPC's add_callback)."""


@dataclass(frozen=True)
class Request:
    """A new hold asked for: how long to wait (None: as long as the caller's deadline allows) and
    the lease it asks for (None: the service's default).
    """

    lock: LockName
    wait: float | None
    lease: float | None
    holder: str


class LockTable:
    """Every lock of one service."""

    def __init__(
        self,
        backend: Backend,
        *,
        default_lease: float,
        max_lease: float,
        max_waiters: int = DEFAULT_MAX_WAITERS,
    ) -> None:
        if not 0 < default_lease <= max_lease:
            raise ValueError(
                f"need 0 < default lease ({default_lease} s) <= maximum ({max_lease} s)"
            )
        self.backend = backend
        self.default_lease = default_lease
        self.max_lease = max_lease
        self.max_waiters = max_waiters
        """Callers waiting at once, over all locks: each holds one of the server's workers."""
        self._waiting = 0
        self.registry: SessionRegistry[Hold] = SessionRegistry(resource_kind="lock")
        self._changed = threading.Condition(threading.Lock())
        self._queues: dict[str, deque[_Waiter]] = {}
        self._current: dict[str, Session[Hold]] = {}
        """The hold of each held lock (ending holds are removed first)."""
        self._ended: OrderedDict[str, str] = OrderedDict()
        """Why each recently ended hold ended (not those released by ReleaseLock)."""
        self._stopping = False
        self._reaper = threading.Thread(target=self._reap, name="lock-lease-reaper", daemon=True)
        self._reaper.start()
        self._closing = threading.Event()
        self._watcher: threading.Thread | None = None
        if backend.watch_seconds:
            self._watcher = threading.Thread(
                target=self._watch_guards,
                args=(backend.watch_seconds,),
                name="lock-guard-watch",
                daemon=True,
            )
            self._watcher.start()

    # -- creating and attaching -----------------------------------------------------------

    def acquire(self, request: Request, caller: Caller) -> Session[Hold]:
        """Wait for the lock in turn and create a hold (INITIALIZE_NEW, or UNSPECIFIED alone)."""
        lease = self._lease(request.lease)
        key = request.lock.key
        waiter = _Waiter()
        with self._changed:
            self._refuse_if_stopping()
            queue = self._queues.setdefault(key, deque())
            if request.wait == 0 and (queue or key in self._current):
                self._drop_queue_if_empty(key)
                raise self._held_error(request.lock, waited=0.0)
            if self._waiting >= self.max_waiters and (queue or key in self._current):
                self._drop_queue_if_empty(key)
                raise ResourceExhaustedError(
                    f"{self._waiting} callers already wait for locks of this service (its limit, "
                    "--max-streams); try again later"
                )
            queue.append(waiter)
            self._waiting += 1
        started = time.monotonic()
        caller.on_gone(lambda: self._leave(waiter))
        try:
            deadline, by_caller = self._deadline(request.wait, caller)
            self._wait_for_turn(key, waiter, deadline, by_caller, request.lock, started)
            try:
                guard = self.backend.take(
                    key,
                    timeout=None if deadline is None else max(0.0, deadline - time.monotonic()),
                    on_cancel=lambda stop: self._on_backend_cancel(waiter, stop),
                )
            except CancelledError:
                self._refuse_if_stopping()  # stopped by shutdown, not by the caller
                raise
            if guard is None:
                if by_caller:
                    raise DeadlineExceededError(self._waited(request.lock, started))
                raise AlreadyExistsError(
                    f"lock '{request.lock.display}' is held by another Hardware Lock Service "
                    f"({self.backend.description}); {self._waited(request.lock, started)}"
                )
            return self._create(request, guard, lease, waiter)
        finally:
            with self._changed:
                waiting = self._queues.get(key)
                if waiting is not None and waiter in waiting:
                    waiting.remove(waiter)
                self._waiting -= 1
                self._drop_queue_if_empty(key)
                self._changed.notify_all()

    def attach(self, lock: LockName, session_id: str) -> Session[Hold]:
        """Join the lock's current hold: the one named ``session_id``, or (empty) whichever."""
        with self._changed:
            self._refuse_if_stopping()
            current = self._current.get(lock.key)
            if not session_id:
                if current is None:
                    raise NotFoundError(f"lock '{lock.display}' is not held; nothing to attach to")
                session = current
            else:
                session = self._open_hold(session_id)
                if session.resource.lock.key != lock.key:
                    raise FailedPreconditionError(
                        f"hold {session_id} is a hold of lock '{session.resource.lock.display}', "
                        f"not of '{lock.display}'"
                    )
            session.resource.renew()
            session.resource.attaches += 1
            self._changed.notify_all()
        if not session.resource.guard.alive():
            self._end(session, "the service lost its connection to the lock's database")
            raise self._ended_error(session.session_id)
        return session

    def initialize(
        self,
        behavior: InitializationBehavior,
        request: Request,
        session_id: str,
        caller: Caller,
    ) -> tuple[Session[Hold], bool]:
        """The behaviours of ``hardware_lock.proto``: return the hold and whether it is new."""
        if behavior is InitializationBehavior.ATTACH_TO_EXISTING or (
            behavior is InitializationBehavior.UNSPECIFIED and session_id
        ):
            return self.attach(request.lock, session_id), False
        if session_id:
            raise InvalidArgumentError(
                "INITIALIZE_NEW creates a hold; send no session_id (to join a hold, attach)"
            )
        return self.acquire(request, caller), True

    # -- renewing and ending ------------------------------------------------------------------

    def renew(self, session_id: str) -> Hold:
        """Start the hold's lease again."""
        with self._changed:
            session = self._open_hold(session_id)
            session.resource.renew()
            self._changed.notify_all()
        if not session.resource.guard.alive():
            self._end(session, "the service lost its connection to the lock's database")
            raise self._ended_error(session_id)
        return session.resource

    def release(self, session_id: str) -> Hold:
        """End the hold (ReleaseLock) and let the next waiter in."""
        with self._changed:
            session = self._open_hold(session_id)
            self._forget(session)
        self.registry.close(session_id)
        _logger.info(
            "Released lock '%s' (hold %s, token %d).",
            session.resource.lock.display,
            session_id,
            session.resource.token,
        )
        return session.resource

    def stop_waiting(self) -> None:
        """At shutdown: every waiting call is answered UNAVAILABLE; no new hold begins."""
        with self._changed:
            self._stopping = True
            waiters = [waiter for queue in self._queues.values() for waiter in queue]
            self._changed.notify_all()
        for waiter in waiters:
            waiter.stop_backend_wait()

    def close(self) -> None:
        """At shutdown: waiting calls end (:meth:`stop_waiting`), every hold ends."""
        self.stop_waiting()
        self._closing.set()
        for session in self.registry.sessions():
            self._end(session, "the service stopped")
        self._reaper.join(timeout=5)
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        self.backend.close()

    def waiters(self, key: str) -> int:
        """Callers of this service waiting for the lock."""
        with self._changed:
            return len(self._queues.get(key, ()))

    # -- inside --------------------------------------------------------------------------------

    def _lease(self, asked: float | None) -> float:
        if asked is None:
            return self.default_lease
        if asked < 0:
            raise InvalidArgumentError(f"lease_in_milliseconds is negative ({asked * 1000:.0f})")
        return min(asked, self.max_lease) if asked > 0 else self.default_lease

    @staticmethod
    def _deadline(wait: float | None, caller: Caller) -> tuple[float | None, bool]:
        """When the wait ends, and whether the caller's deadline (not ``wait``) decides it."""
        now = time.monotonic()
        remaining = caller.time_remaining()
        by_caller = None if remaining is None else now + remaining - DEADLINE_MARGIN_SECONDS
        by_wait = None if wait is None else now + wait
        if by_caller is not None and (by_wait is None or by_caller < by_wait):
            return by_caller, True
        return by_wait, False

    def _wait_for_turn(
        self,
        key: str,
        waiter: _Waiter,
        deadline: float | None,
        by_caller: bool,
        lock: LockName,
        started: float,
    ) -> None:
        with self._changed:
            while True:
                self._refuse_if_stopping()
                if waiter.gone:
                    raise CancelledError(
                        f"the caller went away while waiting for lock '{lock.display}'"
                    )
                queue = self._queues[key]
                if queue[0] is waiter and key not in self._current:
                    return
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    if by_caller:
                        raise DeadlineExceededError(self._waited(lock, started))
                    raise self._held_error(lock, waited=time.monotonic() - started)
                self._changed.wait(
                    LONGEST_SLEEP_SECONDS
                    if remaining is None
                    else min(remaining, LONGEST_SLEEP_SECONDS)
                )

    def _create(
        self, request: Request, guard: Guard, lease: float, waiter: _Waiter
    ) -> Session[Hold]:
        hold = Hold(lock=request.lock, guard=guard, lease=lease, holder=request.holder)
        try:
            with self._changed:
                self._refuse_if_stopping()
                if waiter.gone:
                    raise CancelledError(
                        f"the caller went away while waiting for lock '{request.lock.display}'"
                    )
                # one registry key per hold: the lock table, not the registry, keeps them in turn
                session, _ = self.registry.initialize(
                    f"{request.lock.key}\n{guard.token}",
                    InitializationBehavior.INITIALIZE_NEW,
                    lambda: hold,
                    display_name=request.lock.display,
                )
                self._current[request.lock.key] = session
                self._changed.notify_all()
        except BaseException:
            guard.release()
            raise
        _logger.info(
            "Lock '%s' held by %s (hold %s, token %d, lease %.1f s).",
            request.lock.display,
            excerpt(request.holder) or "an unnamed holder",
            session.session_id,
            guard.token,
            lease,
        )
        return session

    def _leave(self, waiter: _Waiter) -> None:
        """The caller's call ended (answered, cancelled, deadline, gone): stop its wait."""
        with self._changed:
            waiter.gone = True
            self._changed.notify_all()
        waiter.stop_backend_wait()

    def _on_backend_cancel(self, waiter: _Waiter, stop: Callable[[], None]) -> None:
        with self._changed:
            waiter.stop_backend_wait = stop
            gone = waiter.gone or self._stopping
        if gone:
            stop()

    def _open_hold(self, session_id: str) -> Session[Hold]:
        """The open hold of ``session_id``; ABORTED if it ended, NOT_FOUND if unknown."""
        if session_id in self._ended:
            raise self._ended_error(session_id)
        session = self.registry.get(session_id)
        if self._current.get(session.resource.lock.key) is not session:  # being released
            raise NotFoundError(f"hold {session_id} was released")
        return session

    def _ended_error(self, session_id: str) -> AbortedError:
        reason = self._ended.get(session_id, "it ended")
        return AbortedError(
            f"hold {session_id} has ended: {reason}; the lock may be someone else's now"
        )

    def _forget(self, session: Session[Hold]) -> None:
        """Take the hold out of its lock (with ``_changed`` held); the next waiter may go."""
        if self._current.get(session.resource.lock.key) is session:
            del self._current[session.resource.lock.key]
        self._changed.notify_all()

    def _end(self, session: Session[Hold], reason: str) -> None:
        """End a hold for ``reason`` (a lease ran out, a lost connection, shutdown)."""
        with self._changed:
            if session.session_id in self._ended:
                return
            self._ended[session.session_id] = reason
            while len(self._ended) > REMEMBERED_ENDINGS:
                self._ended.popitem(last=False)
            self._forget(session)
        try:
            self.registry.close(session.session_id)
        except NotFoundError:
            return  # released meanwhile
        _logger.warning(
            "Hold %s of lock '%s' ended: %s.",
            session.session_id,
            session.resource.lock.display,
            reason,
        )

    def _reap(self) -> None:
        """End each hold whose lease ran out, at that moment."""
        while True:
            with self._changed:
                if self._stopping:
                    return
                now = time.monotonic()
                expired = [s for s in self._current.values() if s.resource.expires <= now]
                if not expired:
                    soonest = min(
                        (s.resource.expires for s in self._current.values()), default=None
                    )
                    self._changed.wait(None if soonest is None else soonest - now)
                    continue
            for session in expired:
                lease = session.resource.lease
                self._end(session, f"its lease of {lease:g} s ran out without a renewal")

    def _watch_guards(self, every: float) -> None:
        """End each hold whose guard died (the database server restarted and dropped its
        connection), so that this service's waiters get the lock the server already freed.
        """
        while not self._closing.wait(every):
            with self._changed:
                holds = list(self._current.values())
            for session in holds:
                if not session.resource.guard.alive():
                    self._end(session, "the service lost its connection to the lock's database")

    def _refuse_if_stopping(self) -> None:
        if self._stopping:
            raise UnavailableError("the Hardware Lock Service is stopping; nothing is held")

    def _drop_queue_if_empty(self, key: str) -> None:
        if not self._queues.get(key, True):
            del self._queues[key]

    def _held_error(self, lock: LockName, *, waited: float) -> AlreadyExistsError:
        current = self._current.get(lock.key)
        if current is None:
            holder = "promised to a caller that asked earlier"
        else:
            hold = current.resource
            holder = (
                f"held by {excerpt(hold.holder) or 'an unnamed holder'} (hold "
                f"{current.session_id}, token {hold.token}, for {hold.held_for:.1f} s)"
            )
        return AlreadyExistsError(
            f"lock '{lock.display}' is {holder}; waited {waited * 1000:.0f} ms"
        )

    @staticmethod
    def _waited(lock: LockName, started: float) -> str:
        return (
            f"the caller's deadline came while waiting for lock '{lock.display}' "
            f"(waited {(time.monotonic() - started) * 1000:.0f} ms); nothing is held"
        )
