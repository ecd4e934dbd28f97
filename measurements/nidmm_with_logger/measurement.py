"""NI-DMM with Logger: take one reading, then log one record to the shared file.

The DMM pin and the logger pin are reserved together (``_plugin_host.reserve``); the logger
session is opened first, so an unreachable logger or a refused log path fails before the
instrument is touched. The record holds the configurations (with the function actually measured)
and the real outputs, ``absolute_resolution`` included.
"""

from __future__ import annotations

import logging
import math
from contextlib import ExitStack
from enum import Enum
from typing import Any

import grpc
import ni_measurement_plugin_sdk_service as nims
import nidmm

from logger_client import JSON_LOGGER_INSTRUMENT_TYPE
from measurements._plugin_host import (
    fail,
    log_record,
    open_results_database,
    open_shared_log,
    record_rows,
    reserve,
)
from measurements.nidmm_with_logger import MEASUI_PATH, SERVICE_CONFIG_PATH
from results_client import RESULTS_DATABASE_INSTRUMENT_TYPE, ResultRow

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
    measurement_type: Function,
    measurement_range: float,
    resolution_digits: float,
) -> tuple[float, bool, float]:
    """Take one NI-DMM reading; log one record."""
    function = measurement_type.to_nidmm()
    _logger.info(
        "Measuring: pin=%s function=%s range=%g digits=%g",
        nidmm_pin,
        function.name,
        measurement_range,
        resolution_digits,
    )
    with (
        reserve(
            measurement_service, [nidmm_pin, json_logger_pin, results_database_pin]
        ) as reservation,
        open_shared_log(measurement_service, reservation) as log,
        open_results_database(measurement_service, reservation, results_database_pin) as database,
    ):
        with ExitStack() as stack:
            try:
                session_info = stack.enter_context(reservation.initialize_nidmm_session())
            except ValueError as error:  # not exactly one NI-DMM session reserved
                fail(
                    measurement_service,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"{error} Select one pin connected to an NI-DMM for nidmm_pin.",
                )
            session = session_info.session
            try:
                session.configure_measurement_digits(function, measurement_range, resolution_digits)
                measured_value = float(session.read())
                absolute_resolution = float(session.resolution_absolute)
            except nidmm.errors.Error as error:
                fail(measurement_service, grpc.StatusCode.UNKNOWN, f"NI-DMM: {error}")
        signal_out_of_range = math.isnan(measured_value) or math.isinf(measured_value)
        log_record(
            measurement_service,
            log,
            {
                "nidmm_pin": nidmm_pin,
                "json_logger_pin": json_logger_pin,
                "measurement_type": function.name,
                "range": measurement_range,
                "resolution_digits": resolution_digits,
            },
            {
                "measured_value": measured_value,
                "signal_out_of_range": signal_out_of_range,
                "absolute_resolution": absolute_resolution,
            },
        )
        if not signal_out_of_range:
            unit = next((u for key, u in _UNITS.items() if key in function.name), "")
            record_rows(
                measurement_service,
                database,
                [ResultRow(f"{nidmm_pin} {function.name}", measured_value, unit=unit)],
            )
    _logger.info(
        "Measured: value=%g out_of_range=%s resolution=%g",
        measured_value,
        signal_out_of_range,
        absolute_resolution,
    )
    return measured_value, signal_out_of_range, absolute_resolution
