"""NI-DCPower with Logger: source and measure a DC voltage, then log one record to the shared file.

Every channel of the selected pins (and sites) sources ``voltage_level``; once the outputs have
settled the plug-in measures voltage and current, asks each channel whether it is in compliance
(at its current limit), resets the channels, and appends one record, the configurations and the
outputs, to the log file that the pin map's ``JsonLoggerService`` instrument names.

The instrument pins and the logger pin are reserved together (``_plugin_host.reserve``); the
logger session is opened first, so an unreachable logger or a refused log path fails before the
instrument is touched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from typing import Any, NamedTuple

import grpc
import ni_measurement_plugin_sdk_service as nims
import nidcpower
from ni.measurementlink.sessionmanagement.v1.client import MultiSessionReservation

from logger_client import JSON_LOGGER_INSTRUMENT_TYPE
from measurements._plugin_host import (
    SOURCE_SETTLE_TIMEOUT_SECONDS,
    WAIT_SLICE_SECONDS,
    fail,
    log_record,
    open_results_database,
    open_shared_log,
    record_rows,
    reserve,
)
from measurements.nidcpower_with_logger import MEASUI_PATH, SERVICE_CONFIG_PATH
from results_client import RESULTS_DATABASE_INSTRUMENT_TYPE, ResultRow

_logger = logging.getLogger(__name__)

NIDCPOWER_WAIT_FOR_EVENT_TIMEOUT_ERROR_CODE = -1074116059
NIDCPOWER_TIMEOUT_EXCEEDED_ERROR_CODE = -1074097933
NIDCPOWER_TIMEOUT_ERROR_CODES = frozenset(
    {NIDCPOWER_WAIT_FOR_EVENT_TIMEOUT_ERROR_CODE, NIDCPOWER_TIMEOUT_EXCEEDED_ERROR_CODE}
)
"""The only driver errors that mean "not yet" while waiting for the outputs to settle."""

measurement_service = nims.MeasurementService(
    service_config_path=SERVICE_CONFIG_PATH, ui_file_paths=[MEASUI_PATH]
)


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
    """Source and measure a DC voltage on every reserved channel; log one record."""
    pins = list(nidcpower_pins)
    _logger.info("Measuring: pins=%s voltage_level=%g", pins, voltage_level)
    cancelled = threading.Event()
    measurement_service.context.add_cancel_callback(cancelled.set)

    with (
        reserve(measurement_service, [*pins, json_logger_pin, results_database_pin]) as reservation,
        open_shared_log(measurement_service, reservation) as log,
        open_results_database(measurement_service, reservation, results_database_pin) as database,
    ):
        results = _source_and_measure(
            reservation,
            cancelled,
            voltage_level=voltage_level,
            voltage_level_range=voltage_level_range,
            current_limit=current_limit,
            current_limit_range=current_limit_range,
            source_delay=source_delay,
        )
        outputs = (
            [result.site for result in results],
            [result.pin for result in results],
            [result.voltage for result in results],
            [result.current for result in results],
            [result.in_compliance for result in results],
        )
        log_record(
            measurement_service,
            log,
            {
                "nidcpower_pins": pins,
                "json_logger_pin": json_logger_pin,
                "voltage_level": voltage_level,
                "voltage_level_range": voltage_level_range,
                "current_limit": current_limit,
                "current_limit_range": current_limit_range,
                "source_delay": source_delay,
            },
            dict(
                zip(
                    (
                        "measurement_sites",
                        "measurement_pin_names",
                        "voltage_measurements",
                        "current_measurements",
                        "in_compliance",
                    ),
                    outputs,
                    strict=True,
                )
            ),
        )
        record_rows(
            measurement_service,
            database,
            [
                row
                for result in results
                for row in (
                    ResultRow(f"{result.pin} voltage", result.voltage, unit="V", site=result.site),
                    ResultRow(
                        f"{result.pin} current",
                        result.current,
                        unit="A",
                        high_limit=current_limit,
                        site=result.site,
                    ),
                )
            ],
        )
    _logger.info("Measured: %s", results)
    return outputs


def _source_and_measure(
    reservation: MultiSessionReservation,
    cancelled: threading.Event,
    *,
    voltage_level: float,
    voltage_level_range: float,
    current_limit: float,
    current_limit_range: float,
    source_delay: float,
) -> list[ChannelResult]:
    """Drive every reserved NI-DCPower session; return one result per channel, in pin order."""
    with ExitStack() as stack:
        try:
            session_infos: Sequence[Any] = stack.enter_context(
                reservation.initialize_nidcpower_sessions()
            )
        except ValueError as error:  # no NI-DCPower pin selected
            fail(
                measurement_service,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{error} Select pins connected to NI-DCPower channels for nidcpower_pins.",
            )
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
            with ExitStack() as sourcing:
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
