"""Client of the Hardware Lock Service, for measurement plug-ins, TestStand modules and scripts.

- :class:`HardwareLockClient`: a hold of a lock (context manager) honouring NI's five
  ``SessionInitializationBehavior`` values; ``fencing_token``, ``renew``, ``release``.
- :class:`HardwareLockSessionConstructor`, :data:`HARDWARE_LOCK_INSTRUMENT_TYPE` and
  :data:`HOLD_ID_ANNOTATION`: for ``reservation.initialize_session(
  HardwareLockSessionConstructor(), HARDWARE_LOCK_INSTRUMENT_TYPE)``.
- :class:`LockHeldError` (the lock stayed held), :class:`HoldEndedError` (the hold ended
  without a release).
"""

from lock_client.session import (
    DEFAULT_WAIT_SECONDS,
    HardwareLockClient,
    HardwareLockServiceNotFoundError,
    HoldEndedError,
    LockHeldError,
)
from lock_client.session_constructor import (
    HARDWARE_LOCK_INSTRUMENT_TYPE,
    HOLD_ID_ANNOTATION,
    HardwareLockSessionConstructor,
)

__all__ = [
    "DEFAULT_WAIT_SECONDS",
    "HARDWARE_LOCK_INSTRUMENT_TYPE",
    "HOLD_ID_ANNOTATION",
    "HardwareLockClient",
    "HardwareLockServiceNotFoundError",
    "HardwareLockSessionConstructor",
    "HoldEndedError",
    "LockHeldError",
]
