"""What the measurement plug-ins share: hosting, the reservation timeout and how a measurement
fails.

Hosting (:func:`run_plugin`): the plug-in's ``MeasurementService`` is hosted until SIGINT,
SIGTERM or (in a terminal) Enter; it prints one ready line,
``<display name> ready: <service class> at <host:port>``, so scripts and tests know when it serves
(:mod:`measurements.plugin_info`). It never calls ``input()``, so a plug-in started by
the NI Discovery Service, a script or a test keeps running with its standard input closed.

Reservations: a measurement reserves every pin it needs, the instrument pins *and* the log file's
and the results database's pins, in one all-or-nothing
``measurement_service.context.reserve_sessions(pins, timeout=reservation_timeout(...))`` call, so
it never holds an instrument while waiting for the log file (or the other way round) and a failed
reservation holds nothing. The timeout is :data:`RESERVATION_TIMEOUT_SECONDS`, bounded by the
caller's gRPC deadline (:func:`reservation_timeout`).

Failures: :func:`fail` ends the RPC with a status code and a message;
:mod:`measurements.failures` turns a refused reservation and the session clients' typed errors
into such statuses.
"""

from __future__ import annotations

import logging
import math
import sys
from contextlib import ExitStack
from typing import TYPE_CHECKING, NoReturn

import grpc

from measurements.plugin_info import ready_prefix
from service_cli.logs import configure_logging
from session_core.hosting import StopRequests, announce_ready

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


# -- hosting ---------------------------------------------------------------------------------


def run_plugin(measurement_service: MeasurementService, *, verbose: int = 0) -> int:
    """Host the plug-in until a stop is requested; return the process exit code.

    NI's SDK registers it with the NI Discovery Service: NI's on Windows, the local NI platform's
    elsewhere (the environment's activation ``.pth`` points NI's discovery client there).
    """
    info = measurement_service.service_info
    configure_logging(verbose, program=info.service_class.rsplit(".", 1)[-1])
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
