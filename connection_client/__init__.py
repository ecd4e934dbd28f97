"""Client of the Instrument Connection Service, for measurement plug-ins, TestStand modules and
scripts.

- :class:`InstrumentConnectionClient`: a session of one device's connection (context manager)
  honouring NI's five ``SessionInitializationBehavior`` values; ``write``, ``read``, ``query``
  (text) and ``read_bytes``, ``query_bytes`` (binary).
- :class:`InstrumentConnectionSessionConstructor` and :data:`INSTRUMENT_CONNECTION_INSTRUMENT_TYPE`
  for ``reservation.initialize_session(...)``.
- Typed errors: :class:`DeviceUnavailableError` (the device cannot be reached, or the connection
  broke), :class:`DeviceTimeoutError` (no complete answer in time), :class:`NotTextError`.
"""

from connection_client.session import (
    DeviceTimeoutError,
    DeviceUnavailableError,
    InstrumentConnectionClient,
    NotTextError,
)
from connection_client.session_constructor import (
    INSTRUMENT_CONNECTION_INSTRUMENT_TYPE,
    InstrumentConnectionSessionConstructor,
)

__all__ = [
    "INSTRUMENT_CONNECTION_INSTRUMENT_TYPE",
    "DeviceTimeoutError",
    "DeviceUnavailableError",
    "InstrumentConnectionClient",
    "InstrumentConnectionSessionConstructor",
    "NotTextError",
]
