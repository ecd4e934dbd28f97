"""NI-DMM's attributes as the simulation describes them: ids, defaults, read-only rows, coercions.

:data:`ATTRIBUTES` is every attribute NI's ``nidmm`` client declares (see :mod:`.catalog`), with
the rows of :data:`DESCRIBED_ATTRIBUTES` on top: the defaults NI-DMM documents or its simulated
driver reports, and which attributes are read-only. Rows are data; the only behaviour here is
:data:`COERCIONS`, how the driver rounds a written value, and :func:`checked_values`, which
applies every check of a write to several values before any is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import nidmm.session

from local_ni_platform.device_server.attributes import (
    AttributeSpec,
    AttributeStore,
    AttributeType,
    AttributeValue,
    ivi_inherent_attributes,
)
from local_ni_platform.device_server.catalog import driver_catalog
from local_ni_platform.device_server.dmm_models import DC_VOLTS
from local_ni_platform.device_server.errors import INVALID_ATTRIBUTE, INVALID_VALUE, DriverError

# Attribute ids (NI-DMM's NIDMM_ATTR_*).
IO_RESOURCE_DESCRIPTOR = 1050304
SUPPORTED_INSTRUMENT_MODELS = 1050327
OPERATION_MODE = 1150014
WAVEFORM_RATE = 1150018
WAVEFORM_POINTS = 1150019
TEMP_RTD_TYPE = 1150120
TEMP_RTD_A = 1150121
TEMP_RTD_B = 1150122
TEMP_RTD_C = 1150123
TEMP_THERMISTOR_TYPE = 1150124
TEMP_THERMISTOR_A = 1150125
TEMP_THERMISTOR_B = 1150126
TEMP_THERMISTOR_C = 1150127
FUNCTION = 1250001
RANGE = 1250002
RESOLUTION_DIGITS = 1250003
TRIGGER_SOURCE = 1250004
TRIGGER_DELAY = 1250005
RESOLUTION_ABSOLUTE = 1250008
TEMP_TRANSDUCER_TYPE = 1250201
TEMP_TC_TYPE = 1250231
TEMP_TC_REF_JUNC_TYPE = 1250232
TEMP_TC_FIXED_REF_JUNC = 1250233
TEMP_RTD_RES = 1250242
SAMPLE_COUNT = 1250301
SAMPLE_TRIGGER = 1250302
SAMPLE_INTERVAL = 1250303
TRIGGER_COUNT = 1250304
AUTO_RANGE_VALUE = 1250331
POWERLINE_FREQ = 1250333

MEASUREMENT_ATTRIBUTES = frozenset({FUNCTION, RANGE, RESOLUTION_DIGITS, RESOLUTION_ABSOLUTE})
"""Set together by the configure calls; writing one re-coerces the others."""

# Values.
AUTO_RANGE_ON = -1.0
AUTO_RANGE_OFF = -2.0
AUTO_RANGE_ONCE = -3.0
AUTO_DELAY = -1.0
IVIDMM_MODE = 0
WAVEFORM_MODE = 1
SAMPLE_TRIGGER_INTERVAL = 10
MAX_WAVEFORM_RATE = 1_800_000.0
MIN_WAVEFORM_RATE = 10.0

_INT32, _REAL64, _STRING = AttributeType.INT32, AttributeType.REAL64, AttributeType.STRING


def _read_only(
    attribute_id: int, name: str, kind: AttributeType, default: AttributeValue
) -> AttributeSpec:
    return AttributeSpec(attribute_id, name, kind, default, writable=False)


DESCRIBED_ATTRIBUTES = (
    *ivi_inherent_attributes(channel_count=1),
    _read_only(IO_RESOURCE_DESCRIPTOR, "io_resource_descriptor", _STRING, ""),
    _read_only(1050305, "logical_name", _STRING, ""),
    _read_only(SUPPORTED_INSTRUMENT_MODELS, "supported_instrument_models", _STRING, ""),
    _read_only(1050503, "specific_driver_major_version", _INT32, 0),
    _read_only(1050504, "specific_driver_minor_version", _INT32, 0),
    _read_only(1050510, "instrument_firmware_revision", _STRING, "Simulated"),
    _read_only(1050513, "specific_driver_vendor", _STRING, "National Instruments"),
    _read_only(1050514, "specific_driver_description", _STRING, "Simulated NI-DMM"),
    _read_only(1050551, "specific_driver_revision", _STRING, "Simulated"),
    _read_only(1150044, "freq_voltage_auto_range", _REAL64, 0.0),
    _read_only(1150054, "serial_number", _STRING, "0"),
    _read_only(1150061, "instrument_product_id", _INT32, 0),
    # The measurement, set together through the configure calls (see dmm.DmmSession).
    AttributeSpec(FUNCTION, "function", _INT32, DC_VOLTS),
    AttributeSpec(RANGE, "range", _REAL64, AUTO_RANGE_ON),
    AttributeSpec(RESOLUTION_DIGITS, "resolution_digits", _REAL64, 5.5),
    AttributeSpec(RESOLUTION_ABSOLUTE, "resolution_absolute", _REAL64, 5e-05),
    _read_only(AUTO_RANGE_VALUE, "auto_range_value", _REAL64, 10.0),
    AttributeSpec(POWERLINE_FREQ, "powerline_freq", _REAL64, 60.0, minimum=0.0),
    # Multi-point acquisition and triggers (0 counts mean "until aborted").
    AttributeSpec(TRIGGER_COUNT, "trigger_count", _INT32, 1, minimum=0),
    AttributeSpec(SAMPLE_COUNT, "sample_count", _INT32, 1, minimum=0),
    AttributeSpec(SAMPLE_INTERVAL, "sample_interval", _REAL64, AUTO_DELAY, minimum=AUTO_DELAY),
    AttributeSpec(TRIGGER_DELAY, "trigger_delay", _REAL64, AUTO_DELAY, minimum=-2.0),
    # Waveform acquisition: 1.8 MS/s is the default and the largest rate.
    AttributeSpec(OPERATION_MODE, "operation_mode", _INT32, IVIDMM_MODE),
    AttributeSpec(WAVEFORM_RATE, "waveform_rate", _REAL64, MAX_WAVEFORM_RATE),
    AttributeSpec(WAVEFORM_POINTS, "waveform_points", _INT32, 500, minimum=1),
    # Temperature transducers: NI-DMM's defaults (J thermocouple at a 25 °C fixed reference,
    # Pt3851 100 Ω RTD with its Callendar-Van Dusen coefficients, 44006 thermistor).
    AttributeSpec(TEMP_TRANSDUCER_TYPE, "temp_transducer_type", _INT32, 1),
    AttributeSpec(TEMP_TC_TYPE, "temp_tc_type", _INT32, 6),
    AttributeSpec(TEMP_TC_REF_JUNC_TYPE, "temp_tc_ref_junc_type", _INT32, 2),
    AttributeSpec(TEMP_TC_FIXED_REF_JUNC, "temp_tc_fixed_ref_junc", _REAL64, 25.0),
    AttributeSpec(TEMP_RTD_TYPE, "temp_rtd_type", _INT32, 2),
    AttributeSpec(TEMP_RTD_RES, "temp_rtd_res", _REAL64, 100.0, minimum=0.0),
    AttributeSpec(TEMP_RTD_A, "temp_rtd_a", _REAL64, 3.9083e-3),
    AttributeSpec(TEMP_RTD_B, "temp_rtd_b", _REAL64, -5.775e-7),
    AttributeSpec(TEMP_RTD_C, "temp_rtd_c", _REAL64, -4.183e-12),
    AttributeSpec(TEMP_THERMISTOR_TYPE, "temp_thermistor_type", _INT32, 2),
    AttributeSpec(TEMP_THERMISTOR_A, "temp_thermistor_a", _REAL64, 1.032e-3),
    AttributeSpec(TEMP_THERMISTOR_B, "temp_thermistor_b", _REAL64, 2.387e-4),
    AttributeSpec(TEMP_THERMISTOR_C, "temp_thermistor_c", _REAL64, 1.580e-7),
)
"""The attributes the simulation gives meaning to; :data:`ATTRIBUTES` adds the rest of NI's."""

ATTRIBUTES = driver_catalog(nidmm.session._SessionBase, DESCRIBED_ATTRIBUTES)
"""Every attribute NI's ``nidmm`` client declares (see :mod:`.catalog`)."""

SPECS: Mapping[int, AttributeSpec] = {spec.attribute_id: spec for spec in ATTRIBUTES}


def coerce_waveform_rate(value: object) -> float:
    """The closest rate 1.8 MS/s divides into a whole number of samples (10 S/s to 1.8 MS/s).

    Raises:
        DriverError: not a number, or outside 10 S/s to 1.8 MS/s.
    """
    if not isinstance(value, (int, float)) or not MIN_WAVEFORM_RATE <= value <= MAX_WAVEFORM_RATE:
        raise DriverError(INVALID_VALUE, f"Waveform rate {value!r} is not 10 to 1800000 S/s.")
    return MAX_WAVEFORM_RATE / max(round(MAX_WAVEFORM_RATE / value), 1)


COERCIONS: Mapping[int, Callable[[object], AttributeValue]] = {
    WAVEFORM_RATE: coerce_waveform_rate,
}
"""How the driver rounds a value written to these attributes, before the usual checks."""


def checked_values(values: Iterable[tuple[int, object]]) -> list[tuple[int, AttributeValue]]:
    """``values`` (attribute id, value) as the driver would store them, all checked first.

    Each value is coerced (:data:`COERCIONS`) and written to a scratch store of the defaults,
    which applies the IVI checks; nothing of the session is touched.

    Raises:
        DriverError: unknown or read-only attribute, or an invalid value.
    """
    scratch = AttributeStore(ATTRIBUTES, ("",))
    checked: list[tuple[int, AttributeValue]] = []
    for attribute_id, value in values:
        spec = SPECS.get(attribute_id)
        if spec is None:
            raise DriverError(INVALID_ATTRIBUTE, f"Attribute ID: {attribute_id}")
        coerce = COERCIONS.get(attribute_id)
        scratch.set(("",), attribute_id, spec.type, coerce(value) if coerce else value)
        checked.append((attribute_id, scratch.value("", attribute_id)))
    return checked
