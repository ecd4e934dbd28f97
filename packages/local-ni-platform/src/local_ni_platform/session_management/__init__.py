"""Local stand-in for NI's Session Management Service (``ni.measurementlink.sessionmanagement.v1``).

- ``records``: session records and the session-name form (``"<type id>-<resource name>"``).
- ``reservations``: exclusive, all-or-nothing reservations with NI's timeout rules.
- ``registry``: registered (open) sessions, which ``session_exists`` reports.
- ``servicer`` and ``part``: the gRPC service and its place on the local platform; sessions are
  derived from the pin maps of :mod:`local_ni_platform.pinmap`.
"""

from local_ni_platform.session_management.errors import (
    InvalidRequestError,
    RequestCancelledError,
    RequestDeadlineExceededError,
    ServiceStoppingError,
    SessionAlreadyRegisteredError,
    SessionManagementError,
    SessionsUnavailableError,
)
from local_ni_platform.session_management.part import (
    SessionManagementPart,
    pin_map_and_session_management_parts,
)
from local_ni_platform.session_management.records import (
    MultiplexerRecord,
    SessionRecord,
    session_name,
)
from local_ni_platform.session_management.registry import SessionRegistry
from local_ni_platform.session_management.reservations import (
    WAIT_FOREVER,
    ReservationManager,
    check_timeout,
)
from local_ni_platform.session_management.servicer import (
    SERVICE_NAME,
    SessionManagementServicer,
)

__all__ = [
    "SERVICE_NAME",
    "WAIT_FOREVER",
    "InvalidRequestError",
    "MultiplexerRecord",
    "RequestCancelledError",
    "RequestDeadlineExceededError",
    "ReservationManager",
    "ServiceStoppingError",
    "SessionAlreadyRegisteredError",
    "SessionManagementError",
    "SessionManagementPart",
    "SessionManagementServicer",
    "SessionRecord",
    "SessionRegistry",
    "SessionsUnavailableError",
    "check_timeout",
    "pin_map_and_session_management_parts",
    "session_name",
]
