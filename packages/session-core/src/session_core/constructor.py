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
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._initialization_behavior = SessionInitializationBehavior(initialization_behavior)
        self._address = address
        self._discovery_client = discovery_client
        self._timeout = timeout

    def __call__(self, session_info: SessionInformation) -> ClientT:
        """Return a client for the resource named by the session's resource name."""
        client = self.client_type(
            session_info.resource_name,
            initialization_behavior=self._initialization_behavior,
            address=self._address,
            discovery_client=self._discovery_client,
            timeout=self._timeout,
        )
        return client  # type: ignore[return-value]
