"""What a measurement's caller sees when it fails: one gRPC status that says what failed and what
to do.

A measurement enters :func:`reported_as_status` first in its ``with`` statement, so it is left
last: every session is closed and every reservation released before the status is sent. It turns
the errors of NI's reservation calls and of this project's session clients into statuses; any
other error passes through unchanged (driver errors are reported by the measurement itself).

Which call failed is read from the error's traceback (:func:`traceback.walk_tb`): the ``self`` of
the methods it passed through is NI's ``SessionManagementClient`` (reserving the pins), one of
NI's reservation objects, or a :class:`session_core.client.SessionClient` (the log file, the
results database), which names its service, its kind of resource and the resource. This needs no
wrapper around NI's calls, so the measurement can make them as NI's examples do.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import grpc
from ni.measurementlink.sessionmanagement.v1.client import (
    BaseReservation,
    SessionManagementClient,
)
from ni_measurement_plugin_sdk_service.measurement.service import MeasurementContext

from logger_client import JSON_LOGGER_INSTRUMENT_TYPE
from measurements._plugin_host import fail, reservation_timeout
from results_client import RESULTS_DATABASE_INSTRUMENT_TYPE
from session_core.client import ServiceNotFoundError, SessionClient

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
}
"""The hints for the pin parameters every plug-in of this project has; a plug-in's own ``hints``
add its instruments."""

_INSTRUMENT_TYPE_ID = re.compile(r"instrument type ID '([^']*)'")

_CALL_FAILED = {
    "log_data": "Could not write the measurement record to {name}",
    "record_results": "Could not record the results in {name}",
    "commit": "Could not commit the results in {name}",
    "commit_if_created": "Could not commit the results in {name}",
    "__exit__": "Could not close the {kind} {name}",
}
"""How a failed call of an open session client is reported, by the method the measurement called
(another method: "<service>: <method>() failed on the <kind> <name>")."""


@contextmanager
def reported_as_status(
    measurement_service: MeasurementService,
    pins: Sequence[str],
    *,
    hints: Mapping[str, str],
) -> Iterator[None]:
    """End the RPC with a clear status when a reservation or a session client fails.

    - NI's ``SessionManagementClient`` refusing the reservation: its code, "Could not reserve the
      pins … of pin map … (sites …)", and "within N s" when it timed out waiting (UNAVAILABLE).
    - A session client that cannot reach its service (UNAVAILABLE, DEADLINE_EXCEEDED): UNAVAILABLE,
      "Cannot reach the <service> to open the <resource> …. Start it with `python -m …`."; a
      resource the service refuses: its code, "The <service> refused the <resource> …"; a later
      call failing (``log_data``, ``record_results``, ``commit``): its code and what was lost.
    - The service not found through the NI Discovery Service: FAILED_PRECONDITION.
    - A ``ValueError`` raised by NI's reservation methods, e.g. no reserved session of the
      instrument type a pin parameter needs: INVALID_ARGUMENT, the error and
      ``hints[instrument type ID]`` (what to select instead).

    Args:
        measurement_service: The plug-in's service (its context aborts the RPC).
        pins: The pins the measurement reserves, named in a reservation failure.
        hints: What to do, by instrument type ID, when no pin of that type was reserved (on top
            of :data:`SHARED_SESSION_HINTS`).
    """
    timeout = reservation_timeout(measurement_service)  # what the measurement waits for its pins
    try:
        yield
    except grpc.RpcError as error:
        _report_rpc_error(measurement_service, error, pins, timeout)
        raise  # neither a reservation nor a session client failed
    except ServiceNotFoundError as error:
        client, _ = _called(error, SessionClient) or (None, "")
        where = f"the {client.RESOURCE_KIND} {client.resource_name!r}" if client else "the service"
        fail(
            measurement_service, grpc.StatusCode.FAILED_PRECONDITION, f"Cannot use {where}: {error}"
        )
    except ValueError as error:
        _report_value_error(measurement_service, error, {**SHARED_SESSION_HINTS, **hints})
        raise  # not raised by NI's reservation methods


def _report_rpc_error(
    measurement_service: MeasurementService,
    error: grpc.RpcError,
    pins: Sequence[str],
    timeout: float,
) -> None:
    """Fail with a message naming the reservation or session call that failed, if it is one."""
    code, details = error.code(), error.details()
    _, reservation_call = _called(error, SessionManagementClient) or (None, "")
    if reservation_call in ("reserve_session", "reserve_sessions"):
        pin_map = measurement_service.context.pin_map_context
        waited = f" within {timeout:.1f} s" if code is grpc.StatusCode.UNAVAILABLE else ""
        fail(
            measurement_service,
            code,
            f"Could not reserve the pins {', '.join(pins)} of pin map {pin_map.pin_map_id!r} "
            f"(sites {list(pin_map.sites or [])}){waited}: {details}",
        )
    called = _called(error, SessionClient)
    if called is None:
        return
    client, method = called
    service, kind, name = client.SERVICE_DISPLAY_NAME, client.RESOURCE_KIND, client.resource_name
    if method not in ("__enter__", "initialize"):  # the session was open
        failed = _CALL_FAILED.get(method, f"{service}: {method}() failed on the {{kind}} {{name}}")
        fail(measurement_service, code, f"{failed.format(kind=kind, name=repr(name))}: {details}")
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        fail(
            measurement_service,
            grpc.StatusCode.UNAVAILABLE,
            f"Cannot reach the {service} to open the {kind} {name!r}: {details}. "
            f"Start it with `python -m {client.SERVICE_MODULE}`.",
        )
    fail(
        measurement_service,
        code,
        f"The {service} refused the {kind} {name!r} (the name of the "
        f"{client.INSTRUMENT_TYPE_ID} instrument in the pin map): {details}",
    )


def _report_value_error(
    measurement_service: MeasurementService, error: ValueError, hints: Mapping[str, str]
) -> None:
    """Fail with INVALID_ARGUMENT (and a hint) if NI's reservation methods raised ``error``."""
    raised_by = _innermost_self(error)
    if not isinstance(raised_by, (BaseReservation, SessionManagementClient, MeasurementContext)):
        return
    match = _INSTRUMENT_TYPE_ID.search(str(error))
    if match is None:  # e.g. "You must specify at least one pin or relay name."
        reserving = not isinstance(raised_by, BaseReservation)
        message = f"Cannot reserve: {error}" if reserving else str(error)
        fail(measurement_service, grpc.StatusCode.INVALID_ARGUMENT, message)
    type_id = match.group(1)
    hint = hints.get(type_id, f"Select a pin connected to the {type_id} instrument of the pin map.")
    fail(measurement_service, grpc.StatusCode.INVALID_ARGUMENT, f"{error} {hint}")


def _selves(error: BaseException) -> Iterator[tuple[object, str]]:
    """The ``self`` and the name of each method ``error`` passed through, outermost first."""
    for frame, _ in traceback.walk_tb(error.__traceback__):
        owner = frame.f_locals.get("self")
        if owner is not None:
            yield owner, frame.f_code.co_name


def _called(error: BaseException, kind: type[object]) -> tuple[Any, str] | None:
    """The first (outermost) object of ``kind`` whose method ``error`` passed through, and that
    method: the call the measurement made.
    """
    return next(((owner, name) for owner, name in _selves(error) if isinstance(owner, kind)), None)


def _innermost_self(error: BaseException) -> object:
    """The object of the innermost method ``error`` passed through: the one that raised it."""
    return next(reversed([owner for owner, _ in _selves(error)]), None)
