"""A session constructor for ``reservation.initialize_session(s)`` in measurement plug-ins and
TestStand code modules. The reserved session's resource name is the lock's name; a session that
TestStand Setup registered carries its hold's id in an annotation, and the client attaches to
that hold and no other.
"""

from __future__ import annotations

from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.sessionmanagement.v1.client import (
    SessionInformation,
    SessionInitializationBehavior,
)
from ni_grpc_extensions.channelpool import GrpcChannelPool

from lock_client.session import DEFAULT_WAIT_SECONDS, HardwareLockClient
from session_core.client import DEFAULT_TIMEOUT_SECONDS

HARDWARE_LOCK_INSTRUMENT_TYPE = HardwareLockClient.INSTRUMENT_TYPE_ID
"""The ``instrumentTypeId`` of the lock's custom instrument in the pin map."""
HOLD_ID_ANNOTATION = "hardware-lock/session-id"
"""The annotation of a registered lock session that names its hold (TestStand Setup sets it)."""


class HardwareLockSessionConstructor:
    """Builds a :class:`HardwareLockClient` for a reserved session.

    Example::

        with context.reserve_session(lock_pin, timeout=10.0) as reservation:
            with reservation.initialize_session(
                HardwareLockSessionConstructor(), HARDWARE_LOCK_INSTRUMENT_TYPE
            ) as session_info:
                lock = session_info.session  # the socket's hold, or a new one (run alone)
                switch.connect(route, fencing_token=lock.fencing_token)
    """

    def __init__(
        self,
        initialization_behavior: SessionInitializationBehavior = SessionInitializationBehavior.AUTO,
        *,
        wait: float | None = DEFAULT_WAIT_SECONDS,
        lease: float | None = None,
        holder: str = "",
        address: str | None = None,
        discovery_client: DiscoveryClient | None = None,
        grpc_channel_pool: GrpcChannelPool | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        """In a plug-in, pass ``measurement_service.discovery_client`` and
        ``measurement_service.channel_pool``; ``wait``, ``lease`` and ``holder`` are
        :class:`HardwareLockClient`'s.
        """
        self._initialization_behavior = SessionInitializationBehavior(initialization_behavior)
        self._wait = wait
        self._lease = lease
        self._holder = holder
        self._address = address
        self._discovery_client = discovery_client
        self._channel_pool = grpc_channel_pool
        self._timeout = timeout

    def __call__(self, session_info: SessionInformation) -> HardwareLockClient:
        """Return a client for the lock named by the session's resource name, attaching to the
        hold its annotation names (if it carries one).
        """
        return HardwareLockClient(
            session_info.resource_name,
            initialization_behavior=self._initialization_behavior,
            hold_id=(session_info.annotations or {}).get(HOLD_ID_ANNOTATION, ""),
            wait=self._wait,
            lease=self._lease,
            holder=self._holder,
            address=self._address,
            discovery_client=self._discovery_client,
            grpc_channel_pool=self._channel_pool,
            timeout=self._timeout,
        )
