"""What a simulated NI-DCPower LCR meter (PXIe-4190) measures: the programmed stimulus, the DC
bias, and the response of an ideal resistor of :data:`LCR_LOAD_OHMS` to them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LCR_LOAD_OHMS = 1_000.0
"""The simulated device under test: an ideal 1 kΩ resistor (Z = 1000 + 0j)."""

LCR_MODE = 1062
STIMULUS_VOLTAGE = 1063
BIAS_VOLTAGE = 1066
BIAS_CURRENT = 1067


@dataclass(frozen=True)
class LcrSettings:
    """The LCR attributes of one channel that shape its measurement."""

    stimulus_function: int
    frequency: float
    voltage_amplitude: float
    current_amplitude: float
    bias_source: int
    bias_voltage: float
    bias_current: float


@dataclass(frozen=True)
class LcrMeasurement:
    """One LCR measurement, field by field as NI's ``NILCRMeasurement`` carries it."""

    vdc: float
    idc: float
    stimulus_frequency: float
    ac_voltage: complex
    ac_current: complex
    z: complex


def measure_lcr(settings: LcrSettings) -> LcrMeasurement:
    """The measurement of the ideal resistor under ``settings``."""
    if settings.stimulus_function == STIMULUS_VOLTAGE:
        ac_voltage = complex(settings.voltage_amplitude, 0.0)
        ac_current = ac_voltage / LCR_LOAD_OHMS
    else:
        ac_current = complex(settings.current_amplitude, 0.0)
        ac_voltage = ac_current * LCR_LOAD_OHMS
    vdc = idc = 0.0
    if settings.bias_source == BIAS_VOLTAGE:
        vdc, idc = settings.bias_voltage, settings.bias_voltage / LCR_LOAD_OHMS
    elif settings.bias_source == BIAS_CURRENT:
        vdc, idc = settings.bias_current * LCR_LOAD_OHMS, settings.bias_current
    return LcrMeasurement(
        vdc=vdc,
        idc=idc,
        stimulus_frequency=settings.frequency,
        ac_voltage=ac_voltage,
        ac_current=ac_current,
        z=complex(LCR_LOAD_OHMS, 0.0),
    )


def phase_degrees(value: complex) -> float:
    """The phase of ``value`` in degrees."""
    return math.degrees(math.atan2(value.imag, value.real))
