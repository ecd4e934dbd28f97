"""The HardwareLock servicer: maps requests to the lock table and errors to gRPC status codes
(``session_core.errors.reports_errors``). It holds no locking logic.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

import grpc

from hardware_lock import hardware_lock_pb2 as pb
from hardware_lock import hardware_lock_pb2_grpc
from lock_service.backends import Backend
from lock_service.lock_table import DEFAULT_MAX_WAITERS, Caller, Hold, LockTable, Request
from lock_service.names import lock_name
from session_core import hosting
from session_core.behaviors import InitializationBehavior
from session_core.errors import (
    CancelledError,
    InvalidArgumentError,
    ServiceError,
    reports_errors,
)
from session_core.registry import Session
from session_core.timestamps import to_timestamp

_logger = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["HardwareLock"].full_name
DEFAULT_LEASE_SECONDS = 60.0
MAX_LEASE_SECONDS = 3600.0


def _caller(context: grpc.ServicerContext) -> Caller:
    def on_gone(callback: Callable[[], None]) -> None:
        if not context.add_callback(callback):  # the call has already ended
            callback()

    return Caller(time_remaining=lambda: hosting.time_left(context), on_gone=on_gone)


def _acquired(session: Session[Hold], created: bool) -> pb.AcquireLockResponse:
    hold = session.resource
    return pb.AcquireLockResponse(
        session_id=session.session_id,
        new_session_initialized=created,
        fencing_token=hold.token,
        lease_expires_at=to_timestamp(hold.expires_at),
        lease_in_milliseconds=round(hold.lease * 1000),
        resource_name=hold.lock.display,
    )


class HardwareLockServicer(hardware_lock_pb2_grpc.HardwareLockServicer):
    """Serves named locks: one hold at a time per lock, waiters first come first served."""

    def __init__(
        self,
        backend: Backend,
        *,
        default_lease: float = DEFAULT_LEASE_SECONDS,
        max_lease: float = MAX_LEASE_SECONDS,
        max_waiters: int = DEFAULT_MAX_WAITERS,
    ) -> None:
        self.locks = LockTable(
            backend, default_lease=default_lease, max_lease=max_lease, max_waiters=max_waiters
        )

    @reports_errors
    def AcquireLock(  # noqa: N802 - gRPC method name
        self, request: pb.AcquireLockRequest, context: grpc.ServicerContext
    ) -> pb.AcquireLockResponse:
        """Create a hold (waiting in turn) or attach to one, as the behaviour says."""
        behavior = InitializationBehavior.from_wire(request.session_initialization_behavior)
        lease = request.lease_in_milliseconds
        if lease < 0:
            raise InvalidArgumentError(f"lease_in_milliseconds is negative ({lease})")
        wait = request.timeout_in_milliseconds
        if wait < -1:
            raise InvalidArgumentError(
                f"timeout_in_milliseconds is {wait}; use 0 (answer at once), a wait in "
                "milliseconds, or -1 (as long as the call's deadline allows)"
            )
        lock_request = Request(
            lock=lock_name(request.resource_name),
            wait=None if wait == -1 else wait / 1000,
            lease=lease / 1000 if lease else None,
            holder=request.holder or context.peer(),
        )
        session, created = self.locks.initialize(
            behavior, lock_request, request.session_id, _caller(context)
        )
        if created:
            self._release_if_undelivered(session, context)
        return _acquired(session, created)

    @reports_errors
    def RenewLock(  # noqa: N802 - gRPC method name
        self, request: pb.RenewLockRequest, context: grpc.ServicerContext
    ) -> pb.RenewLockResponse:
        """Start the hold's lease again."""
        hold = self.locks.renew(_session_id(request.session_id))
        return pb.RenewLockResponse(lease_expires_at=to_timestamp(hold.expires_at))

    @reports_errors
    def ReleaseLock(  # noqa: N802 - gRPC method name
        self, request: pb.ReleaseLockRequest, context: grpc.ServicerContext
    ) -> pb.ReleaseLockResponse:
        """End the hold; the next waiter gets the lock."""
        hold = self.locks.release(_session_id(request.session_id))
        return pb.ReleaseLockResponse(held_for_milliseconds=round(hold.held_for * 1000))

    @reports_errors
    def ListSessions(  # noqa: N802 - gRPC method name
        self, request: pb.ListSessionsRequest, context: grpc.ServicerContext
    ) -> pb.ListSessionsResponse:
        """Describe every hold."""
        return pb.ListSessionsResponse(sessions=list(self._describe_sessions()))

    def _release_if_undelivered(
        self, session: Session[Hold], context: grpc.ServicerContext
    ) -> None:
        """A caller that went away as its hold was granted never learns the hold's id, so no one
        could release it before its lease ran out: release it now.
        """
        if not context.is_active():  # gone before the answer was sent
            self._abandon(session.session_id, "the caller went away as the lock was granted")
            raise CancelledError("the caller went away as the lock was granted; it is released")

        def on_done() -> None:  # gone while the answer was on its way
            if _was_cancelled(context):
                threading.Thread(
                    target=self._abandon,
                    args=(session.session_id, "the caller went away before the answer reached it"),
                    daemon=True,
                ).start()

        context.add_callback(on_done)

    def _abandon(self, session_id: str, why: str) -> None:
        try:
            self.locks.release(session_id)
        except ServiceError:
            return  # released or ended meanwhile
        _logger.info("Released hold %s: %s.", session_id, why)

    def close_all(self) -> None:
        """At shutdown: waiting calls end UNAVAILABLE, every hold ends."""
        self.locks.close()

    def _describe_sessions(self) -> Iterable[pb.SessionDescription]:
        for session in self.locks.registry.sessions():
            hold = session.resource
            yield pb.SessionDescription(
                session_id=session.session_id,
                resource_name=hold.lock.display,
                fencing_token=hold.token,
                holder=hold.holder,
                acquired_at=to_timestamp(hold.acquired_at),
                lease_expires_at=to_timestamp(hold.expires_at),
                waiters=self.locks.waiters(hold.lock.key),
                attaches=hold.attaches,
            )


def _was_cancelled(context: grpc.ServicerContext) -> bool:
    """Whether the finished call was cancelled by its client (or its deadline): gRPC's Python
    server keeps that in the call's state; a public API says only that the call has ended.
    """
    state = getattr(context, "_state", None)
    return getattr(state, "client", None) == "cancelled"


def _session_id(session_id: str) -> str:
    if not session_id:
        raise InvalidArgumentError("session_id is empty; send the id AcquireLock returned")
    return session_id
