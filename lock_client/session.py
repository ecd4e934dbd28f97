"""``HardwareLockClient``: one client session (a hold) of a lock on the Hardware Lock Service.

Entering creates a hold (waiting for the lock, first come first served) or attaches to one, as
NI's ``SessionInitializationBehavior`` says; leaving releases it exactly when that behaviour says
so (the rules are :class:`session_core.client.SessionClient`'s). Where a lock differs from the
pattern (AUTO without a hold id waits for the lock instead of joining whoever holds it) is
explained in ``hardware_lock.proto``.
"""

from __future__ import annotations

import os
from datetime import datetime

import grpc
from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior
from ni_grpc_extensions.channelpool import GrpcChannelPool

from hardware_lock import hardware_lock_pb2 as pb
from hardware_lock import hardware_lock_pb2_grpc
from session_core.behaviors import InitializationBehavior
from session_core.client import DEFAULT_TIMEOUT_SECONDS, SessionClient
from session_core.client_errors import (
    ResourceRefusedError,
    ServiceNotFoundError,
    SessionCallError,
)
from session_core.timestamps import from_timestamp

PROVIDED_INTERFACE = "ni.hardwarelock.v1.lock"
SERVICE_CLASS = "ni.hardwarelock.HardwareLockService"
DEFAULT_WAIT_SECONDS = 60.0
"""How long a new hold waits for the lock by default."""


class HardwareLockServiceNotFoundError(ServiceNotFoundError):
    """The Hardware Lock Service could not be located or reached."""


class LockHeldError(ResourceRefusedError):
    """The lock was still held by someone else when the wait ended (ALREADY_EXISTS)."""


class HoldEndedError(SessionCallError):
    """The hold ended without a release (its lease ran out, the service stopped): what was done
    since then was not protected by the lock (ABORTED).
    """


class HardwareLockClient(SessionClient[hardware_lock_pb2_grpc.HardwareLockStub]):
    """A hold of one lock on the Hardware Lock Service."""

    PROVIDED_INTERFACE = PROVIDED_INTERFACE
    SERVICE_CLASS = SERVICE_CLASS
    SERVICE_DISPLAY_NAME = "Hardware Lock Service"
    SERVICE_MODULE = "lock_service"
    RESOURCE_KIND = "lock"
    INSTRUMENT_TYPE_ID = "HardwareLockService"
    NOT_FOUND_ERROR = HardwareLockServiceNotFoundError

    def __init__(
        self,
        resource_name: str,
        *,
        initialization_behavior: SessionInitializationBehavior = SessionInitializationBehavior.AUTO,
        hold_id: str = "",
        wait: float | None = DEFAULT_WAIT_SECONDS,
        lease: float | None = None,
        holder: str = "",
        address: str | None = None,
        discovery_client: DiscoveryClient | None = None,
        grpc_channel_pool: GrpcChannelPool | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        """Describe the hold; nothing is sent until the context is entered.

        Args:
            resource_name: The lock's name, e.g. ``"Switch matrix 1"``.
            initialization_behavior: One of NI's five behaviours.
            hold_id: The session id of the hold to attach to (what a reserved session carries,
                :data:`lock_client.HOLD_ID_ANNOTATION`); empty: see ``hardware_lock.proto``.
            wait: Seconds a new hold waits for the lock (0: not at all; None: without limit).
            lease: Seconds the hold lasts without a renewal (None: the service's default).
            holder: Who holds it, shown by ``ListSessions`` (e.g. ``"socket 1"``).
            address: The service's address; None: ask NI's discovery service.
            discovery_client: The discovery client to ask (None: a new one).
            grpc_channel_pool: The channel pool to use (None: a new one).
            timeout: Seconds each call may take; added to ``wait`` for the call that waits.
        """
        super().__init__(
            resource_name,
            initialization_behavior=initialization_behavior,
            address=address,
            discovery_client=discovery_client,
            grpc_channel_pool=grpc_channel_pool,
            timeout=timeout,
        )
        if wait is not None and wait < 0:
            raise ValueError(f"wait must be 0 or more seconds, or None, got {wait}")
        if lease is not None and lease <= 0:
            raise ValueError(f"lease must be more than 0 seconds, or None, got {lease}")
        self.hold_id = hold_id
        self._wait = wait
        self._lease = lease
        self._holder = holder
        self.fencing_token = 0
        """Greater than the token of every earlier hold of this lock."""
        self.lease_expires_at: datetime | None = None

    @staticmethod
    def resolve_resource_name(resource_name: str | os.PathLike[str]) -> str:
        """A lock's name is sent as it is (the service compares it without case and spaces)."""
        return os.fspath(resource_name)

    def initialize(self) -> None:
        """Create or attach to the hold: :class:`LockHeldError` when the lock stayed held,
        :class:`HoldEndedError` when the hold to attach to has ended (its lease ran out).
        """
        try:
            super().initialize()
        except ResourceRefusedError as error:
            if error.code() is grpc.StatusCode.ALREADY_EXISTS:
                raise LockHeldError(self, error) from error
            if error.code() is grpc.StatusCode.ABORTED:
                raise HoldEndedError(self, "attach to the hold of", error) from error
            raise

    def _create_stub(self, channel: grpc.Channel) -> hardware_lock_pb2_grpc.HardwareLockStub:
        return hardware_lock_pb2_grpc.HardwareLockStub(channel)

    def _initialize_session(
        self, stub: hardware_lock_pb2_grpc.HardwareLockStub, behavior: InitializationBehavior
    ) -> tuple[str, bool]:
        attaching = behavior is InitializationBehavior.ATTACH_TO_EXISTING or bool(self.hold_id)
        wait = 0 if attaching else self._wait
        response = stub.AcquireLock(
            pb.AcquireLockRequest(
                resource_name=self.resource_name,
                session_initialization_behavior=int(behavior),  # type: ignore[arg-type]
                session_id=self.hold_id,
                timeout_in_milliseconds=-1 if wait is None else round(wait * 1000),
                lease_in_milliseconds=0
                if self._lease is None
                else max(1, round(self._lease * 1000)),
                holder=self._holder,
            ),
            timeout=None if wait is None else wait + self._timeout,
        )
        self.fencing_token = response.fencing_token
        self.lease_expires_at = from_timestamp(response.lease_expires_at, field="lease_expires_at")
        return response.session_id, response.new_session_initialized

    def _close_session(self, stub: hardware_lock_pb2_grpc.HardwareLockStub) -> None:
        try:
            stub.ReleaseLock(
                pb.ReleaseLockRequest(session_id=self.session_id), timeout=self._timeout
            )
        except grpc.RpcError as error:
            if error.code() is grpc.StatusCode.ABORTED:
                raise HoldEndedError(self, "release the hold of", error) from error
            raise

    # -- the hold ----------------------------------------------------------------------------

    def renew(self) -> datetime:
        """Start the hold's lease again; return when it now ends.

        Raises :class:`HoldEndedError` when the hold has ended (the lock may be someone else's).
        """
        self._require_open()
        try:
            response = self._get_stub().RenewLock(
                pb.RenewLockRequest(session_id=self.session_id), timeout=self._timeout
            )
        except grpc.RpcError as error:
            if error.code() is grpc.StatusCode.ABORTED:
                raise HoldEndedError(self, "renew the hold of", error) from error
            raise SessionCallError(self, "renew the hold of", error) from error
        self.lease_expires_at = from_timestamp(response.lease_expires_at, field="lease_expires_at")
        return self.lease_expires_at

    def release(self) -> None:
        """Release the hold now, whatever the behaviour (the next waiter gets the lock)."""
        self.close_session()
