"""A session constructor for ``reservation.initialize_session(s)`` in measurement plug-ins and
TestStand code modules. The reserved session's resource name is the log file's path.
"""

from __future__ import annotations

from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.sessionmanagement.v1.client import (
    SessionInformation,
    SessionInitializationBehavior,
)

from logger_client.session import DEFAULT_TIMEOUT_SECONDS, JsonLoggerClient

JSON_LOGGER_INSTRUMENT_TYPE = "JsonLoggerService"
"""The ``instrumentTypeId`` of the log file's custom instrument in the pin map."""


class JsonLoggerSessionConstructor:
    """Builds a :class:`JsonLoggerClient` for a reserved session.

    Example::

        with context.reserve_session(json_logger_pin, timeout=10.0) as reservation:
            with reservation.initialize_session(
                JsonLoggerSessionConstructor(), JSON_LOGGER_INSTRUMENT_TYPE
            ) as session_info:
                session_info.session.log_data("measurement", {...}, {...})
    """

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

    def __call__(self, session_info: SessionInformation) -> JsonLoggerClient:
        """Return a client for the file named by the session's resource name."""
        return JsonLoggerClient(
            session_info.resource_name,
            initialization_behavior=self._initialization_behavior,
            address=self._address,
            discovery_client=self._discovery_client,
            timeout=self._timeout,
        )
