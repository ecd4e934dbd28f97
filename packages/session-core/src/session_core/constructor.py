"""A base for session constructors, for ``reservation.initialize_session(constructor, type_id)``.

NI's SDK calls the constructor with the reserved session's ``SessionInformation``; for a custom
instrument its ``resource_name`` is the instrument's name in the pin map (a log file's path, a
database's path or URL). The constructor returns a client whose ``__exit__`` honours the
behaviour: the SDK's generic ``initialize_session`` only enters and exits what it is given.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.sessionmanagement.v1.client import (
    SessionInformation,
    SessionInitializationBehavior,
)
from ni_grpc_extensions.channelpool import GrpcChannelPool

from session_core.client import DEFAULT_TIMEOUT_SECONDS, SessionClient

ClientT = TypeVar("ClientT", bound=SessionClient[Any])


class SessionConstructor(Generic[ClientT]):
    """Builds a client of :attr:`client_type` for a reserved session."""

    client_type: ClassVar[type[SessionClient[Any]]]

    def __init__(
        self,
        initialization_behavior: SessionInitializationBehavior = SessionInitializationBehavior.AUTO,
        *,
        address: str | None = None,
        discovery_client: DiscoveryClient | None = None,
        grpc_channel_pool: GrpcChannelPool | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        """In a plug-in, pass ``measurement_service.discovery_client`` and
        ``measurement_service.channel_pool``, as NI's own session constructors get them: a warm
        step then reuses the plug-in's connection to the service instead of opening a new one.
        """
        self._initialization_behavior = SessionInitializationBehavior(initialization_behavior)
        self._address = address
        self._discovery_client = discovery_client
        self._channel_pool = grpc_channel_pool
        self._timeout = timeout

    def __call__(self, session_info: SessionInformation) -> ClientT:
        """Return a client for the resource named by the session's resource name."""
        client = self.client_type(
            session_info.resource_name,
            initialization_behavior=self._initialization_behavior,
            address=self._address,
            discovery_client=self._discovery_client,
            grpc_channel_pool=self._channel_pool,
            timeout=self._timeout,
        )
        return client  # type: ignore[return-value]
