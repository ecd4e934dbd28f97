"""Client of the JSON Logger Service, for measurement plug-ins, TestStand modules and scripts.

- :class:`JsonLoggerClient`: a client session (context manager) honouring NI's five
  ``SessionInitializationBehavior`` values.
- :class:`JsonLoggerSessionConstructor` and :data:`JSON_LOGGER_INSTRUMENT_TYPE`: for
  ``reservation.initialize_session(JsonLoggerSessionConstructor(), JSON_LOGGER_INSTRUMENT_TYPE)``.
"""

from logger_client.session import (
    JsonLoggerClient,
    JsonLoggerServiceNotFoundError,
    MeasurementRecord,
    read_records,
    resolve_resource_name,
)
from logger_client.session_constructor import (
    JSON_LOGGER_INSTRUMENT_TYPE,
    JsonLoggerSessionConstructor,
)

__all__ = [
    "JSON_LOGGER_INSTRUMENT_TYPE",
    "JsonLoggerClient",
    "JsonLoggerServiceNotFoundError",
    "JsonLoggerSessionConstructor",
    "MeasurementRecord",
    "read_records",
    "resolve_resource_name",
]
