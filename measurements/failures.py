"""What a measurement's caller sees when it fails: one gRPC status that says what failed and what
to do.

A measurement calls these from its own ``except`` clauses, each around the call it is about:

- :func:`reservation_failed` around NI's ``reserve_sessions``: the pins could not be reserved;
- :func:`session_failed` around the ``with`` block of the sessions, for the typed errors of this
  project's session clients (:mod:`session_core.client_errors`) and a service that discovery
  does not know;
- :func:`fail_if_no_session_of_type` for the ``ValueError`` NI's reservation raises when no
  reserved session has the instrument type a pin parameter needs.

The ``except`` clauses run after the ``with`` block has closed every session and released every
reservation, so the status is sent with nothing held. Which call failed is known from where the
error was caught and from its type, never from its traceback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NoReturn

import grpc

from lock_client import HARDWARE_LOCK_INSTRUMENT_TYPE
from logger_client import JSON_LOGGER_INSTRUMENT_TYPE
from measurements._plugin_host import fail
from results_client import RESULTS_DATABASE_INSTRUMENT_TYPE
from session_core.client_errors import (
    ResourceRefusedError,
    ServiceNotFoundError,
    ServiceUnreachableError,
    SessionClientError,
)

if TYPE_CHECKING:
    from ni_measurement_plugin_sdk_service.measurement.service import MeasurementService

SHARED_SESSION_HINTS = {
    JSON_LOGGER_INSTRUMENT_TYPE: (
        "Select a pin connected to the JsonLoggerService instrument (the log file) of the pin map "
        "for json_logger_pin."
    ),
    RESULTS_DATABASE_INSTRUMENT_TYPE: (
        "Select a pin connected to the ResultsDatabaseService instrument (the results database) "
        "of the pin map for results_database_pin, or leave it empty."
    ),
    HARDWARE_LOCK_INSTRUMENT_TYPE: (
        "Select a pin connected to the HardwareLockService instrument (the lock) of the pin map "
        "for hardware_lock_pin, or leave it empty."
    ),
}
"""The hints for the pin parameters every plug-in of this project has; a plug-in's own hints add
its instruments."""

_INSTRUMENT_TYPE_ID = re.compile(r"instrument type ID '([^']*)'")


def reservation_failed(
    measurement_service: MeasurementService,
    pins: Sequence[str],
    timeout: float,
    error: grpc.RpcError | ValueError,
) -> NoReturn:
    """NI's ``reserve_sessions`` refused: the pins, the pin map and the sites, and "within N s"
    when it timed out waiting (UNAVAILABLE); NI's ``ValueError`` (no pins) as INVALID_ARGUMENT.
    """
    if isinstance(error, ValueError):
        fail(measurement_service, grpc.StatusCode.INVALID_ARGUMENT, f"Cannot reserve: {error}")
    code = error.code()
    pin_map = measurement_service.context.pin_map_context
    waited = f" within {timeout:.1f} s" if code is grpc.StatusCode.UNAVAILABLE else ""
    fail(
        measurement_service,
        code,
        f"Could not reserve the pins {', '.join(pins)} of pin map {pin_map.pin_map_id!r} "
        f"(sites {list(pin_map.sites or [])}){waited}: {error.details()}",
    )


def session_failed(
    measurement_service: MeasurementService, error: SessionClientError | ServiceNotFoundError
) -> NoReturn:
    """A session client failed: its service could not be found or reached (FAILED_PRECONDITION,
    UNAVAILABLE, with how to start it), refused the resource (its code, naming the pin map's
    instrument), or a call on the open session failed (its code, and what was not done).
    """
    if isinstance(error, ServiceNotFoundError):
        where = f"the {error.resource_kind} {error.resource_name!r}" if error.resource_kind else ""
        fail(
            measurement_service,
            grpc.StatusCode.FAILED_PRECONDITION,
            f"Cannot use {where or 'the service'}: {error}",
        )
    if isinstance(error, ServiceUnreachableError):
        fail(measurement_service, grpc.StatusCode.UNAVAILABLE, str(error))
    if isinstance(error, ResourceRefusedError):
        fail(
            measurement_service,
            error.code(),
            f"The {error.service} refused the {error.resource_kind} {error.resource_name!r} (the "
            f"name of the {error.instrument_type_id} instrument in the pin map): {error.details()}",
        )
    fail(measurement_service, error.code(), str(error))


def fail_if_no_session_of_type(
    measurement_service: MeasurementService, error: ValueError, hints: Mapping[str, str]
) -> None:
    """NI's reservation found no session of the instrument type a pin parameter needs:
    INVALID_ARGUMENT with what to select instead (``hints`` by instrument type, on top of
    :data:`SHARED_SESSION_HINTS`). Any other ``ValueError`` returns, for the caller to re-raise.
    """
    match = _INSTRUMENT_TYPE_ID.search(str(error))
    if match is None:
        return
    type_id = match.group(1)
    hint = {**SHARED_SESSION_HINTS, **hints}.get(
        type_id, f"Select a pin connected to the {type_id} instrument of the pin map."
    )
    fail(measurement_service, grpc.StatusCode.INVALID_ARGUMENT, f"{error} {hint}")
