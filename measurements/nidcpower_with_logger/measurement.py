"""NI-DCPower with Logger: source and measure a DC voltage, then log one record to the shared file
(and, when a results database pin is given, record the readings there).

Every channel of the selected pins (and sites) sources ``voltage_level``; once the outputs have
settled the plug-in measures voltage and current, asks each channel whether it is in compliance
(at its current limit), resets the channels, and appends one record, the configurations and the
outputs, to the log file that the pin map's ``JsonLoggerService`` instrument names.

``measure`` shows NI's session sequence as NI's examples do: it reserves the instrument pins, the
logger pin and the optional results database pin in one call, opens the log file's session (NI's
AUTO behaviour: attach to the session a TestStand Setup step registered, else create one), then
the results database's, then the NI-DCPower sessions, so an unreachable logger or a refused log
path fails before the instrument is touched. Run alone, the plug-in created the database session
and commits its rows; under TestStand, Cleanup commits the run.

A refused reservation and the session clients' typed errors become clear gRPC statuses in
``measure``'s own ``except`` clauses (:mod:`measurements.failures`), once everything is
released; NI-DCPower errors, cancellation and the caller's deadline are reported here.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import grpc
import ni_measurement_plugin_sdk_service as nims
import nidcpower

from logger_client import JSON_LOGGER_INSTRUMENT_TYPE, JsonLoggerSessionConstructor
from measurements._plugin_host import (
    SOURCE_SETTLE_TIMEOUT_SECONDS,
    WAIT_SLICE_SECONDS,
    fail,
    reservation_timeout,
)
from measurements.failures import (
    fail_if_no_session_of_type,
    reservation_failed,
    session_failed,
)
from measurements.nidcpower_with_logger import MEASUI_PATH, SERVICE_CONFIG_PATH
from results_client import (
    RESULTS_DATABASE_INSTRUMENT_TYPE,
    ResultRow,
    ResultsDatabaseSessionConstructor,
)
from session_core.client_errors import ServiceNotFoundError, SessionClientError

_logger = logging.getLogger(__name__)

NIDCPOWER_WAIT_FOR_EVENT_TIMEOUT_ERROR_CODE = -1074116059
NIDCPOWER_TIMEOUT_EXCEEDED_ERROR_CODE = -1074097933
NIDCPOWER_TIMEOUT_ERROR_CODES = frozenset(
    {NIDCPOWER_WAIT_FOR_EVENT_TIMEOUT_ERROR_CODE, NIDCPOWER_TIMEOUT_EXCEEDED_ERROR_CODE}
)
"""The only driver errors that mean "not yet" while waiting for the outputs to settle."""

PIN_HINTS = {
    nims.session_management.INSTRUMENT_TYPE_NI_DCPOWER: (
        "Select pins connected to NI-DCPower channels for nidcpower_pins."
    ),
}
"""What to select instead when no pin of this plug-in's instrument was reserved (the log file's and
the results database's hints are ``measurements.failures.SHARED_SESSION_HINTS``)."""

measurement_service = nims.MeasurementService(
    service_config_path=SERVICE_CONFIG_PATH, ui_file_paths=[MEASUI_PATH]
)


OUTPUT_NAMES = (
    "measurement_sites",
    "measurement_pin_names",
    "voltage_measurements",
    "current_measurements",
    "in_compliance",
)
"""The outputs in the order ``measure`` returns them: the keys of the record's outputs."""


class ChannelResult(NamedTuple):
    """What one channel measured."""

    site: int
    pin: str
    voltage: float
    current: float
    in_compliance: bool


@measurement_service.register_measurement
@measurement_service.configuration(
    "nidcpower_pins",
    nims.DataType.IOResourceArray1D,
    ["DCPowerPin"],
    instrument_type=nims.session_management.INSTRUMENT_TYPE_NI_DCPOWER,
)
@measurement_service.configuration(
    "json_logger_pin",
    nims.DataType.IOResource,
    "LoggerPin",
    instrument_type=JSON_LOGGER_INSTRUMENT_TYPE,
)
@measurement_service.configuration(
    "results_database_pin",
    nims.DataType.IOResource,
    "",
    instrument_type=RESULTS_DATABASE_INSTRUMENT_TYPE,
)
@measurement_service.configuration("voltage_level", nims.DataType.Double, 6.0)
@measurement_service.configuration("voltage_level_range", nims.DataType.Double, 6.0)
@measurement_service.configuration("current_limit", nims.DataType.Double, 0.01)
@measurement_service.configuration("current_limit_range", nims.DataType.Double, 0.01)
@measurement_service.configuration("source_delay", nims.DataType.Double, 0.0)
@measurement_service.output("measurement_sites", nims.DataType.Int32Array1D)
@measurement_service.output("measurement_pin_names", nims.DataType.StringArray1D)
@measurement_service.output("voltage_measurements", nims.DataType.DoubleArray1D)
@measurement_service.output("current_measurements", nims.DataType.DoubleArray1D)
@measurement_service.output("in_compliance", nims.DataType.BooleanArray1D)
def measure(
    nidcpower_pins: Iterable[str],
    json_logger_pin: str,
    results_database_pin: str,
    voltage_level: float,
    voltage_level_range: float,
    current_limit: float,
    current_limit_range: float,
    source_delay: float,
) -> tuple[list[int], list[str], list[float], list[float], list[bool]]:
    """Source and measure a DC voltage on every reserved channel; log one record (and record
    the readings).
    """
    dcpower_pins = list(nidcpower_pins)
    step_name = measurement_service.service_info.display_name
    pins = [pin for pin in (*dcpower_pins, json_logger_pin, results_database_pin) if pin]
    _logger.info("Measuring: pins=%s voltage_level=%g", pins, voltage_level)
    cancelled = threading.Event()
    measurement_service.context.add_cancel_callback(cancelled.set)

    timeout = reservation_timeout(measurement_service)
    try:
        reservation = measurement_service.context.reserve_sessions(pins, timeout=timeout)
    except (grpc.RpcError, ValueError) as error:
        reservation_failed(measurement_service, pins, timeout, error)
    try:
        with (
            reservation,
            reservation.initialize_session(
                # found and reached as NI's own sessions are, through the plug-in's discovery
                # client and channel pool: a warm step reuses its connection to the service
                JsonLoggerSessionConstructor(
                    discovery_client=measurement_service.discovery_client,
                    grpc_channel_pool=measurement_service.channel_pool,
                ),
                JSON_LOGGER_INSTRUMENT_TYPE,
            ) as log_info,
            (
                reservation.initialize_session(
                    ResultsDatabaseSessionConstructor(
                        discovery_client=measurement_service.discovery_client,
                        grpc_channel_pool=measurement_service.channel_pool,
                    ),
                    RESULTS_DATABASE_INSTRUMENT_TYPE,
                )
                if results_database_pin
                else contextlib.nullcontext()
            ) as database_info,
            reservation.initialize_nidcpower_sessions() as session_infos,
        ):
            results = _source_and_measure(
                session_infos,
                cancelled,
                voltage_level=voltage_level,
                voltage_level_range=voltage_level_range,
                current_limit=current_limit,
                current_limit_range=current_limit_range,
                source_delay=source_delay,
            )
            measured = (
                [result.site for result in results],
                [result.pin for result in results],
                [result.voltage for result in results],
                [result.current for result in results],
                [result.in_compliance for result in results],
            )
            configurations = {
                "nidcpower_pins": dcpower_pins,
                "json_logger_pin": json_logger_pin,
                "voltage_level": voltage_level,
                "voltage_level_range": voltage_level_range,
                "current_limit": current_limit,
                "current_limit_range": current_limit_range,
                "source_delay": source_delay,
            }
            outputs = dict(zip(OUTPUT_NAMES, measured, strict=True))
            log = log_info.session
            log.log_data(step_name, configurations, outputs)
            if database_info is not None:
                database = database_info.session
                database.record_results(
                    row
                    for result in results
                    for row in (
                        ResultRow(
                            f"{result.pin} voltage",
                            result.voltage,
                            unit="V",
                            step_name=step_name,
                            site=result.site,
                        ),
                        ResultRow(
                            f"{result.pin} current",
                            result.current,
                            unit="A",
                            high_limit=current_limit,
                            step_name=step_name,
                            site=result.site,
                        ),
                    )
                )
                database.commit_if_created()  # run alone; under TestStand, Cleanup commits
    except (SessionClientError, ServiceNotFoundError) as error:
        session_failed(measurement_service, error)  # the sessions are closed, the pins released
    except ValueError as error:
        fail_if_no_session_of_type(measurement_service, error, PIN_HINTS)
        raise
    _logger.info("Measured: %s", results)
    return measured


def _source_and_measure(
    session_infos: Sequence[Any],
    cancelled: threading.Event,
    *,
    voltage_level: float,
    voltage_level_range: float,
    current_limit: float,
    current_limit_range: float,
    source_delay: float,
) -> list[ChannelResult]:
    """Drive every reserved NI-DCPower session; return one result per channel, in pin order."""
    try:
        for info in session_infos:
            channels = info.session.channels[info.channel_list]
            channels.source_mode = nidcpower.SourceMode.SINGLE_POINT
            channels.output_function = nidcpower.OutputFunction.DC_VOLTAGE
            channels.current_limit = current_limit
            channels.voltage_level_range = voltage_level_range
            channels.current_limit_range = current_limit_range
            channels.source_delay = source_delay
            channels.voltage_level = voltage_level
        results: list[ChannelResult] = []
        with contextlib.ExitStack() as sourcing:
            # initiate() returns a context manager that aborts the channels on exit.
            for info in session_infos:
                sourcing.enter_context(info.session.channels[info.channel_list].initiate())
            for info in session_infos:
                _wait_for_source_complete(
                    info.session.channels[info.channel_list],
                    cancelled,
                    timeout=source_delay + SOURCE_SETTLE_TIMEOUT_SECONDS,
                )
            for info in session_infos:
                measured = info.session.channels[info.channel_list].measure_multiple()
                for measurement, mapping in zip(measured, info.channel_mappings, strict=True):
                    in_compliance = info.session.channels[mapping.channel].query_in_compliance()
                    results.append(
                        ChannelResult(
                            site=mapping.site,
                            pin=mapping.pin_or_relay_name,
                            voltage=measurement.voltage,
                            current=measurement.current,
                            in_compliance=bool(in_compliance),
                        )
                    )
            for info in session_infos:
                info.session.channels[info.channel_list].reset()
    except nidcpower.errors.Error as error:
        fail(measurement_service, grpc.StatusCode.UNKNOWN, f"NI-DCPower: {error}")
    return results


def _wait_for_source_complete(channels: Any, cancelled: threading.Event, *, timeout: float) -> None:
    """Wait until the outputs have settled, in short slices.

    NI-DCPower cannot cancel a wait, so the plug-in waits :data:`WAIT_SLICE_SECONDS` at a time and
    checks in between whether the client cancelled or its gRPC deadline passed. Only NI's two
    timeout errors mean "not yet"; any other driver error ends the wait at once.
    """
    context = measurement_service.context
    started = time.monotonic()
    remaining = context.time_remaining
    rpc_deadline = float("inf") if remaining is None else started + remaining
    give_up = started + timeout
    while True:
        if cancelled.is_set():
            fail(measurement_service, grpc.StatusCode.CANCELLED, "The client cancelled.")
        now = time.monotonic()
        if now >= rpc_deadline:
            fail(
                measurement_service,
                grpc.StatusCode.DEADLINE_EXCEEDED,
                "The caller's deadline passed while waiting for the outputs to settle.",
            )
        if now >= give_up:
            fail(
                measurement_service,
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"The outputs did not settle (source complete) within {timeout:g} s.",
            )
        try:
            channels.wait_for_event(nidcpower.Event.SOURCE_COMPLETE, timeout=WAIT_SLICE_SECONDS)
            return
        except nidcpower.errors.DriverError as error:
            if error.code not in NIDCPOWER_TIMEOUT_ERROR_CODES:
                raise
