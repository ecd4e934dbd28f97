"""DUT Supply with Connection: set the device's output over the shared instrument connection, read
its identity and the output back, then log one record to the shared file.

``measure`` shows NI's session sequence as NI's examples do: it reserves the device's pin and the
logger pin in one call, opens the log file's session, then the device's connection (NI's AUTO
behaviour for both: attach to the session a TestStand Setup step registered, else open one and
close it when the step ends). The device takes one client at a time: through the Instrument
Connection Service every step shares its one connection, and a query is one exchange, so another
step's question never takes this step's answer.

A refused reservation and the session clients' typed errors (a device that cannot be reached, or
answers late) become clear gRPC statuses in ``measure``'s own ``except`` clauses
(:mod:`measurements.failures`), once everything is released.
"""

from __future__ import annotations

import logging

import grpc
import ni_measurement_plugin_sdk_service as nims

from connection_client import (
    INSTRUMENT_CONNECTION_INSTRUMENT_TYPE,
    InstrumentConnectionSessionConstructor,
    NotTextError,
)
from logger_client import JSON_LOGGER_INSTRUMENT_TYPE, JsonLoggerSessionConstructor
from measurements._plugin_host import fail, reservation_timeout
from measurements.dut_supply_with_connection import MEASUI_PATH, SERVICE_CONFIG_PATH
from measurements.failures import (
    fail_if_no_session_of_type,
    reservation_failed,
    session_failed,
)
from session_core.client_errors import ServiceNotFoundError, SessionClientError

_logger = logging.getLogger(__name__)

measurement_service = nims.MeasurementService(
    service_config_path=SERVICE_CONFIG_PATH, ui_file_paths=[MEASUI_PATH]
)


PIN_HINTS = {
    INSTRUMENT_CONNECTION_INSTRUMENT_TYPE: (
        "Select a pin connected to the InstrumentConnectionService instrument (the device, named "
        "by its VISA resource string) of the pin map for dut_pin."
    ),
}
"""What to select instead when no pin of the device was reserved."""


@measurement_service.register_measurement
@measurement_service.configuration(
    "dut_pin",
    nims.DataType.IOResource,
    "DutPin",
    instrument_type=INSTRUMENT_CONNECTION_INSTRUMENT_TYPE,
)
@measurement_service.configuration(
    "json_logger_pin",
    nims.DataType.IOResource,
    "LoggerPin",
    instrument_type=JSON_LOGGER_INSTRUMENT_TYPE,
)
@measurement_service.configuration("voltage_level", nims.DataType.Double, 2.5)
@measurement_service.output("identity", nims.DataType.String)
@measurement_service.output("measured_voltage", nims.DataType.Double)
def measure(dut_pin: str, json_logger_pin: str, voltage_level: float) -> tuple[str, float]:
    """Set the device's output to ``voltage_level``, read it back; log one record."""
    step_name = measurement_service.service_info.display_name
    pins = [pin for pin in (dut_pin, json_logger_pin) if pin]
    _logger.info("Measuring: pins=%s voltage_level=%g", pins, voltage_level)
    timeout = reservation_timeout(measurement_service)
    try:
        reservation = measurement_service.context.reserve_sessions(pins, timeout=timeout)
    except (grpc.RpcError, ValueError) as error:
        reservation_failed(measurement_service, pins, timeout, error)
    try:
        with (
            reservation,
            reservation.initialize_session(
                JsonLoggerSessionConstructor(
                    discovery_client=measurement_service.discovery_client,
                    grpc_channel_pool=measurement_service.channel_pool,
                ),
                JSON_LOGGER_INSTRUMENT_TYPE,
            ) as log_info,
            reservation.initialize_session(
                InstrumentConnectionSessionConstructor(
                    discovery_client=measurement_service.discovery_client,
                    grpc_channel_pool=measurement_service.channel_pool,
                ),
                INSTRUMENT_CONNECTION_INSTRUMENT_TYPE,
            ) as dut_info,
        ):
            dut = dut_info.session
            dut.write(f"SOUR:VOLT {voltage_level:g}")
            identity, reading = dut.query_many(["*IDN?", "MEAS:VOLT?"])  # one exchange
            try:
                measured_voltage = float(reading)
            except ValueError:
                fail(
                    measurement_service,
                    grpc.StatusCode.UNKNOWN,
                    f"{dut.device} answered MEAS:VOLT? with {reading!r}, not a number",
                )
            log_info.session.log_data(
                step_name,
                {
                    "dut_pin": dut_pin,
                    "json_logger_pin": json_logger_pin,
                    "voltage_level": voltage_level,
                },
                {"identity": identity, "measured_voltage": measured_voltage},
            )
    except (SessionClientError, ServiceNotFoundError) as error:
        session_failed(measurement_service, error)  # the sessions are closed, the pins released
    except NotTextError as error:
        fail(measurement_service, grpc.StatusCode.UNKNOWN, str(error))
    except ValueError as error:
        fail_if_no_session_of_type(measurement_service, error, PIN_HINTS)
        raise
    _logger.info("Measured: identity=%s voltage=%g", identity, measured_voltage)
    return identity, measured_voltage
