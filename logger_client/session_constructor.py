"""A session constructor for ``reservation.initialize_session(s)`` in measurement plug-ins and
TestStand code modules. The reserved session's resource name is the log file's path.
"""

from __future__ import annotations

from logger_client.session import JsonLoggerClient
from session_core.constructor import SessionConstructor

JSON_LOGGER_INSTRUMENT_TYPE = JsonLoggerClient.INSTRUMENT_TYPE_ID
"""The ``instrumentTypeId`` of the log file's custom instrument in the pin map."""


class JsonLoggerSessionConstructor(SessionConstructor[JsonLoggerClient]):
    """Builds a :class:`JsonLoggerClient` for a reserved session.

    Example::

        with context.reserve_session(json_logger_pin, timeout=10.0) as reservation:
            with reservation.initialize_session(
                JsonLoggerSessionConstructor(), JSON_LOGGER_INSTRUMENT_TYPE
            ) as session_info:
                session_info.session.log_data("measurement", {...}, {...})
    """

    client_type = JsonLoggerClient
