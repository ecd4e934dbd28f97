"""What the measurement plug-ins share: hosting, reservation timeouts, the shared log session and
the errors a caller sees.

Hosting (:func:`run_plugin`): the plug-in's ``MeasurementService`` is hosted until SIGINT,
SIGTERM or (in a terminal) Enter; it prints one ready line,
``<display name> ready: <service class> at <host:port>``, so scripts and tests know when it serves
(:func:`ready_prefix`, :class:`PluginInfo`). It never calls ``input()``, so a plug-in started by
the NI Discovery Service, a script or a test keeps running with its standard input closed.

Reservations (:func:`reserve`): every pin a measurement needs, the instrument pins *and* the
logger pin, is reserved in one all-or-nothing call, so a measurement never holds an instrument
while waiting for the log file (or the other way round) and a failed reservation holds nothing.
The timeout is :data:`RESERVATION_TIMEOUT_SECONDS`, bounded by the caller's gRPC deadline.

The shared log (:func:`open_shared_log`, :func:`log_record`): the logger session is built by
``reservation.initialize_session(JsonLoggerSessionConstructor(), "JsonLoggerService")`` with NI's
AUTO behaviour, so a plug-in attaches to the file session that a TestStand Setup step created and
registered (and leaves it open), and creates then closes its own when run alone.

Errors: a reservation, logger or driver failure reaches the caller as a gRPC status with a message
that says what failed and what to do, and the ``with`` blocks release every reservation and close
every session the measurement opened before the status is sent.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

import grpc
from ni.measurementlink.sessionmanagement.v1.client import MultiSessionReservation

from logger_client import (
    JSON_LOGGER_INSTRUMENT_TYPE,
    JsonLoggerClient,
    JsonLoggerSessionConstructor,
)
from results_client import (
    RESULTS_DATABASE_INSTRUMENT_TYPE,
    ResultRow,
    ResultsDatabaseClient,
    ResultsDatabaseSessionConstructor,
)
from session_core.client import ServiceNotFoundError
from session_core.constructor import SessionConstructor
from session_core.hosting import StopRequests, announce_ready, configure_logging
from session_core.process import ServiceProcess

if TYPE_CHECKING:
    from ni_measurement_plugin_sdk_service.measurement.service import MeasurementService

_logger = logging.getLogger(__name__)

RESERVATION_TIMEOUT_SECONDS = 60.0
"""How long a measurement waits for its pins (instruments and the log file) to be free.

NI's ``reserve_session(s)`` defaults to 0, which fails at once with "already reserved" whenever
another step, another plug-in or a TestStand Setup/Cleanup holds one of the sessions for a moment,
so two plug-ins sharing one log file would fail at random instead of taking turns. -1 (wait
forever) turns a reservation that is never released into a hang. 60 s is what NI's LabVIEW
measurements use (measurement-plugin-python #220): long enough for any other measurement step to
finish, short enough to fail with a clear message. The wait never outlasts the caller's gRPC
deadline (see :func:`reservation_timeout`).
"""

DEADLINE_MARGIN_SECONDS = 0.5
"""Time kept back from the caller's deadline so the measurement can still report why it failed."""

SOURCE_SETTLE_TIMEOUT_SECONDS = 10.0
"""How long (beyond ``source_delay``) NI-DCPower outputs may take to settle (as NI's example)."""

WAIT_SLICE_SECONDS = 0.1
"""Longest single driver wait: cancellation and the deadline are checked between slices."""


class PluginInfo(NamedTuple):
    """A plug-in as scripts and tests start it: names from its ``.serviceconfig`` and its module."""

    display_name: str
    service_class: str
    module: str
    """Run as ``python -m <module>``."""

    @classmethod
    def load(cls, service_config_path: Path, module: str) -> PluginInfo:
        """Read the first service of a ``.serviceconfig`` (as NI's ``MeasurementService`` does)."""
        config = json.loads(service_config_path.read_text(encoding="utf-8-sig"))
        service = config["services"][0]
        return cls(service["displayName"], service["serviceClass"], module)

    @property
    def ready_prefix(self) -> str:
        """Start of the ready line; the rest is the plug-in's ``host:port``."""
        return ready_prefix(self.display_name, self.service_class)

    def process(
        self, *, env: Mapping[str, str] | None = None, log_file: Path | None = None
    ) -> ServiceProcess:
        """A handle to run the plug-in in its own process (call ``start()`` or use ``with``).

        ``ServiceProcess.address`` then gives the plug-in's ``host:port``.
        """
        return ServiceProcess(
            module=self.module, ready_prefix=self.ready_prefix, env=env, log_file=log_file
        )


def ready_prefix(display_name: str, service_class: str) -> str:
    """The ready line of a plug-in, up to its address."""
    return f"{display_name} ready: {service_class} at "


# -- hosting ---------------------------------------------------------------------------------


def run_plugin(measurement_service: MeasurementService, *, verbose: int = 0) -> int:
    """Host the plug-in until a stop is requested; return the process exit code.

    Off Windows, NI's discovery client is pointed at the local NI platform first
    (:func:`local_ni_platform.activation.activate`; on Windows NI's services are used).
    """
    configure_logging(verbose)
    info = measurement_service.service_info
    if sys.platform != "win32":
        from local_ni_platform.activation import activate

        activate()
    with StopRequests() as stop_requests, ExitStack() as hosting:
        hosting.callback(_close_service, measurement_service)
        try:
            measurement_service.host_service()
        except Exception as error:
            _logger.debug("host_service failed", exc_info=True)
            message = f"{info.display_name} could not start: {type(error).__name__}: {error}"
            if sys.platform != "win32" and "local_ni_platform" not in message:
                message += (
                    "\nA measurement plug-in registers with the NI Discovery Service; off "
                    "Windows, start the local NI platform first (python -m local_ni_platform)."
                )
            print(message, file=sys.stderr, flush=True)
            return 1
        address = measurement_service.service_location.insecure_address
        announce_ready(f"{ready_prefix(info.display_name, info.service_class)}{address}")
        _logger.info("Stopping (%s).", stop_requests.wait())
    return 0


def _close_service(measurement_service: MeasurementService) -> None:
    try:
        measurement_service.close_service()
    except Exception:
        _logger.warning("Could not close the measurement service cleanly.", exc_info=True)


# -- measurement-time helpers ----------------------------------------------------------------


def fail(measurement_service: MeasurementService, code: grpc.StatusCode, message: str) -> NoReturn:
    """End the measurement RPC with ``code`` and ``message`` (raises)."""
    _logger.warning("Measurement failed: %s: %s", code.name, message)
    measurement_service.context.abort(code, message)
    raise RuntimeError(message)  # context.abort always raises; this keeps type checkers honest


def reservation_timeout(measurement_service: MeasurementService) -> float:
    """:data:`RESERVATION_TIMEOUT_SECONDS`, shortened to end before the caller's deadline."""
    remaining = measurement_service.context.time_remaining
    if remaining is None or not math.isfinite(remaining):
        return RESERVATION_TIMEOUT_SECONDS
    return max(0.0, min(RESERVATION_TIMEOUT_SECONDS, remaining - DEADLINE_MARGIN_SECONDS))


@contextmanager
def reserve(
    measurement_service: MeasurementService, pin_names: Sequence[str]
) -> Iterator[MultiSessionReservation]:
    """Reserve the sessions of ``pin_names`` in one call; unreserve them on exit.

    A failed reservation holds nothing (the Session Management Service reserves all or none) and
    ends the RPC with the service's status code and a message naming the pins and the pin map.
    """
    context = measurement_service.context
    pins = [str(pin) for pin in pin_names if pin]  # an optional pin left empty is not reserved
    timeout = reservation_timeout(measurement_service)
    try:
        reservation = context.reserve_sessions(pins, timeout=timeout)
    except ValueError as error:
        fail(measurement_service, grpc.StatusCode.INVALID_ARGUMENT, f"Cannot reserve: {error}")
    except grpc.RpcError as error:
        pin_map = context.pin_map_context
        waited = f" within {timeout:.1f} s" if error.code() is grpc.StatusCode.UNAVAILABLE else ""
        fail(
            measurement_service,
            error.code(),
            f"Could not reserve the pins {', '.join(pins)} of pin map {pin_map.pin_map_id!r} "
            f"(sites {list(pin_map.sites or [])}){waited}: {error.details()}",
        )
    with reservation:
        yield reservation


@contextmanager
def open_shared_session(
    measurement_service: MeasurementService,
    reservation: MultiSessionReservation,
    constructor: SessionConstructor[Any],
    type_id: str,
    *,
    resource: str,
    pin_parameter: str,
) -> Iterator[Any]:
    """Open (AUTO: attach or create) the session of the reserved pin of instrument type ``type_id``.

    Leaving the block detaches from a session someone else created (TestStand Setup) and closes
    one this measurement created. A service that cannot be reached or a resource it refuses ends
    the RPC with a message naming the ``resource`` ("log file", "results database").
    """
    client_type = constructor.client_type
    service = client_type.SERVICE_DISPLAY_NAME
    name = next(
        (i.resource_name for i in reservation.session_info if i.instrument_type_id == type_id), ""
    )
    with ExitStack() as stack:
        try:
            session_info = stack.enter_context(reservation.initialize_session(constructor, type_id))
        except ValueError as error:  # the pin is not a pin of this instrument type
            fail(
                measurement_service,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{error} Select a pin connected to the {type_id} instrument "
                f"(the {resource}) of the pin map for {pin_parameter}.",
            )
        except ServiceNotFoundError as error:
            fail(
                measurement_service,
                grpc.StatusCode.FAILED_PRECONDITION,
                f"Cannot use the {resource} {name!r}: {error}",
            )
        except grpc.RpcError as error:
            if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                fail(
                    measurement_service,
                    grpc.StatusCode.UNAVAILABLE,
                    f"Cannot reach the {service} to open the {resource} {name!r}: "
                    f"{error.details()}. Start it with `python -m {client_type.SERVICE_MODULE}`.",
                )
            fail(
                measurement_service,
                error.code(),
                f"The {service} refused the {resource} {name!r} (the name of the "
                f"{type_id} instrument in the pin map): {error.details()}",
            )
        yield session_info.session


@contextmanager
def open_shared_log(
    measurement_service: MeasurementService, reservation: MultiSessionReservation
) -> Iterator[JsonLoggerClient]:
    """Open (AUTO) the session of the reserved logger pin (see :func:`open_shared_session`)."""
    with open_shared_session(
        measurement_service,
        reservation,
        JsonLoggerSessionConstructor(),
        JSON_LOGGER_INSTRUMENT_TYPE,
        resource="log file",
        pin_parameter="json_logger_pin",
    ) as log:
        yield log


@contextmanager
def open_results_database(
    measurement_service: MeasurementService,
    reservation: MultiSessionReservation,
    results_database_pin: str,
) -> Iterator[ResultsDatabaseClient | None]:
    """Open (AUTO) the results database session of the reserved pin; None when no pin is given."""
    if not results_database_pin:
        yield None
        return
    with open_shared_session(
        measurement_service,
        reservation,
        ResultsDatabaseSessionConstructor(),
        RESULTS_DATABASE_INSTRUMENT_TYPE,
        resource="results database",
        pin_parameter="results_database_pin",
    ) as database:
        yield database


def record_rows(
    measurement_service: MeasurementService,
    database: ResultsDatabaseClient | None,
    rows: Sequence[ResultRow],
) -> None:
    """Record ``rows`` (named after the plug-in) in the shared transaction.

    Under TestStand the session was opened by Setup, and Cleanup commits (or rolls back) the whole
    run. Run on its own, the measurement created the session and owns its transaction, so it
    commits here: closing without a commit would roll its rows back.
    """
    if database is None:
        return
    step = measurement_service.service_info.display_name
    try:
        database.record_results([dataclasses.replace(row, step_name=step) for row in rows])
        if database.new_session_initialized:
            database.commit()
    except grpc.RpcError as error:
        fail(
            measurement_service,
            error.code(),
            f"Could not record the results in {database.resource_name!r}: {error.details()}",
        )


def log_record(
    measurement_service: MeasurementService,
    log: JsonLoggerClient,
    configurations: Mapping[str, object],
    outputs: Mapping[str, object],
) -> None:
    """Append one record (named after the plug-in) to the shared log."""
    try:
        log.log_data(measurement_service.service_info.display_name, configurations, outputs)
    except grpc.RpcError as error:
        fail(
            measurement_service,
            error.code(),
            f"Could not write the measurement record to {log.resource_name!r}: {error.details()}",
        )
