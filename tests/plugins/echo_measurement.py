"""A minimal measurement plug-in that echoes its configurations: a fixture for the client tests."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from pathlib import Path

import ni_measurement_plugin_sdk_service as nims

SERVICE_CLASS = "tests.Echo_Python"


class Function(enum.Enum):
    """An enum configuration, with the zero member the SDK requires."""

    NONE = 0
    DC_VOLTS = 1
    AC_VOLTS = 2


measurement_service = nims.MeasurementService(
    service_config_path=Path(__file__).with_name("Echo.serviceconfig"), ui_file_paths=[]
)


@measurement_service.register_measurement
@measurement_service.configuration(
    "pins", nims.DataType.IOResourceArray1D, ["P1"], instrument_type="niDMM"
)
@measurement_service.configuration(
    "function", nims.DataType.Enum, Function.DC_VOLTS, enum_type=Function
)
@measurement_service.configuration("x", nims.DataType.Double, 1.5)
@measurement_service.output("function_out", nims.DataType.Enum, enum_type=Function)
@measurement_service.output("doubled", nims.DataType.DoubleArray1D)
@measurement_service.output("pins_out", nims.DataType.StringArray1D)
@measurement_service.output("pin_map_id", nims.DataType.String)
def measure(
    pins: Iterable[str], function: Function, x: float
) -> tuple[Function, list[float], list[str], str]:
    """Echo the configurations; fail on a negative x to exercise error reporting."""
    if x < 0:
        raise ValueError("x must not be negative")
    pin_map_id = measurement_service.context.pin_map_context.pin_map_id
    return function, [x, 2 * x], list(pins), pin_map_id
