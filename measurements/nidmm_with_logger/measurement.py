"""NI-DMM with Logger: take one reading, then log one record to the shared file (and, when a
results database pin is given, record the reading there; when a hardware lock pin is given, take
the reading only while holding that lock).

``measure`` shows NI's session sequence as NI's examples do: it reserves the DMM pin, the logger
pin and the optional results database pin in one call, opens the log file's session (NI's AUTO
behaviour: attach to the session a TestStand Setup step registered, else create one), then the
results database's, then the NI-DMM session, so an unreachable logger or a refused log path fails
before the instrument is touched. With a hardware lock pin (a DMM that two test sockets share),
the lock's session comes before the DMM's: under TestStand the step joins the hold its socket's
Setup registered; run alone it takes the lock, without waiting, and releases it. The record holds
the configurations (with the function actually measured, and the hold's fencing token) and the
real outputs, ``absolute_resolution`` included. Run alone, the plug-in created the database
session and commits its row; under TestStand, Cleanup commits the run.

A refused reservation and the session clients' typed errors become clear gRPC statuses in
``measure``'s own ``except`` clauses (:mod:`measurements.failures`), once everything is
released; NI-DMM errors are reported here.
"""

from __future__ import annotations

import contextlib
import logging
import math
from enum import Enum
from typing import Any

import grpc
import ni_measurement_plugin_sdk_service as nims
import nidmm

from lock_client import HARDWARE_LOCK_INSTRUMENT_TYPE, HardwareLockSessionConstructor
from logger_client import JSON_LOGGER_INSTRUMENT_TYPE, JsonLoggerSessionConstructor
from measurements._plugin_host import fail, reservation_timeout
from measurements.failures import (
    fail_if_no_session_of_type,
    reservation_failed,
    session_failed,
)
from measurements.nidmm_with_logger import MEASUI_PATH, SERVICE_CONFIG_PATH
from results_client import (
    RESULTS_DATABASE_INSTRUMENT_TYPE,
    ResultRow,
    ResultsDatabaseSessionConstructor,
)
from session_core.client_errors import ServiceNotFoundError, SessionClientError

_logger = logging.getLogger(__name__)

measurement_service = nims.MeasurementService(
    service_config_path=SERVICE_CONFIG_PATH, ui_file_paths=[MEASUI_PATH]
)


class Function(Enum):
    """The NI-DMM measurement functions, plus the zero value NI's SDK requires of an enum.

    ``UNSPECIFIED`` (0) measures DC volts. The waveform functions are left out: this plug-in takes
    one reading (``read()``), which they do not support.
    """

    UNSPECIFIED = 0
    DC_VOLTS = nidmm.Function.DC_VOLTS.value
    AC_VOLTS = nidmm.Function.AC_VOLTS.value
    DC_CURRENT = nidmm.Function.DC_CURRENT.value
    AC_CURRENT = nidmm.Function.AC_CURRENT.value
    TWO_WIRE_RES = nidmm.Function.TWO_WIRE_RES.value
    FOUR_WIRE_RES = nidmm.Function.FOUR_WIRE_RES.value
    FREQ = nidmm.Function.FREQ.value
    PERIOD = nidmm.Function.PERIOD.value
    TEMPERATURE = nidmm.Function.TEMPERATURE.value
    AC_VOLTS_DC_COUPLED = nidmm.Function.AC_VOLTS_DC_COUPLED.value
    DIODE = nidmm.Function.DIODE.value
    CAPACITANCE = nidmm.Function.CAPACITANCE.value
    INDUCTANCE = nidmm.Function.INDUCTANCE.value

    def to_nidmm(self) -> Any:
        """The ``nidmm.Function`` to measure (DC volts for ``UNSPECIFIED``)."""
        return nidmm.Function(self.value or Function.DC_VOLTS.value)


_UNITS = {"VOLTS": "V", "CURRENT": "A", "OHMS": "Ohm", "FREQ": "Hz", "PERIOD": "s"}
"""Units of a reading, by a word in the NI-DMM function's name."""

PIN_HINTS = {
    nims.session_management.INSTRUMENT_TYPE_NI_DMM: (
        "Select one pin connected to an NI-DMM for nidmm_pin."
    ),
}
"""What to select instead when no pin of this plug-in's instrument was reserved (the log file's and
the results database's hints are ``measurements.failures.SHARED_SESSION_HINTS``)."""


@measurement_service.register_measurement
@measurement_service.configuration(
    "nidmm_pin",
    nims.DataType.IOResource,
    "DMMPin",
    instrument_type=nims.session_management.INSTRUMENT_TYPE_NI_DMM,
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
@measurement_service.configuration(
    "hardware_lock_pin",
    nims.DataType.IOResource,
    "",
    instrument_type=HARDWARE_LOCK_INSTRUMENT_TYPE,
)
@measurement_service.configuration(
    "measurement_type", nims.DataType.Enum, Function.DC_VOLTS, enum_type=Function
)
@measurement_service.configuration("range", nims.DataType.Double, 10.0)
@measurement_service.configuration("resolution_digits", nims.DataType.Double, 5.5)
@measurement_service.output("measured_value", nims.DataType.Double)
@measurement_service.output("signal_out_of_range", nims.DataType.Boolean)
@measurement_service.output("absolute_resolution", nims.DataType.Double)
def measure(
    nidmm_pin: str,
    json_logger_pin: str,
    results_database_pin: str,
    hardware_lock_pin: str,
    measurement_type: Function,
    measurement_range: float,
    resolution_digits: float,
) -> tuple[float, bool, float]:
    """Take one NI-DMM reading; log one record (and record the reading)."""
    function = measurement_type.to_nidmm()
    step_name = measurement_service.service_info.display_name
    pins = [
        pin for pin in (nidmm_pin, json_logger_pin, results_database_pin, hardware_lock_pin) if pin
    ]
    _logger.info(
        "Measuring: pins=%s function=%s range=%g digits=%g",
        pins,
        function.name,
        measurement_range,
        resolution_digits,
    )
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
            (
                reservation.initialize_session(
                    # wait=0: a step never waits for a lock while holding reservations that the
                    # holder's own steps need; run alone while a socket holds it, it fails at once
                    HardwareLockSessionConstructor(
                        wait=0,
                        holder=step_name,
                        discovery_client=measurement_service.discovery_client,
                        grpc_channel_pool=measurement_service.channel_pool,
                    ),
                    HARDWARE_LOCK_INSTRUMENT_TYPE,
                )
                if hardware_lock_pin
                else contextlib.nullcontext()
            ) as lock_info,
            reservation.initialize_nidmm_session() as session_info,
        ):
            session = session_info.session
            try:
                session.configure_measurement_digits(function, measurement_range, resolution_digits)
                measured_value = float(session.read())
                absolute_resolution = float(session.resolution_absolute)
            except nidmm.errors.Error as error:
                fail(measurement_service, grpc.StatusCode.UNKNOWN, f"NI-DMM: {error}")
            signal_out_of_range = math.isnan(measured_value) or math.isinf(measured_value)

            configurations = {
                "nidmm_pin": nidmm_pin,
                "json_logger_pin": json_logger_pin,
                "measurement_type": function.name,
                "range": measurement_range,
                "resolution_digits": resolution_digits,
            }
            if lock_info is not None:  # the hold it measured under: the guide's fencing token
                configurations["hardware_lock_pin"] = hardware_lock_pin
                configurations["fencing_token"] = lock_info.session.fencing_token
            outputs = {
                "measured_value": measured_value,
                "signal_out_of_range": signal_out_of_range,
                "absolute_resolution": absolute_resolution,
            }
            log = log_info.session
            log.log_data(step_name, configurations, outputs)
            if database_info is not None and not signal_out_of_range:
                database = database_info.session
                unit = next((u for key, u in _UNITS.items() if key in function.name), "")
                row = ResultRow(
                    f"{nidmm_pin} {function.name}", measured_value, unit=unit, step_name=step_name
                )
                database.record_results([row])
                database.commit_if_created()  # run alone; under TestStand, Cleanup commits
    except (SessionClientError, ServiceNotFoundError) as error:
        session_failed(measurement_service, error)  # the sessions are closed, the pins released
    except ValueError as error:
        fail_if_no_session_of_type(measurement_service, error, PIN_HINTS)
        raise
    _logger.info(
        "Measured: value=%g out_of_range=%s resolution=%g",
        measured_value,
        signal_out_of_range,
        absolute_resolution,
    )
    return measured_value, signal_out_of_range, absolute_resolution
