"""The simulated NI-DMM models: their ranges per function and what NI's simulated driver reports.

One row per model (:data:`MODELS`); ``DriverSetup=Model:<m>; BoardType:<b>`` in the option string
picks the row and the bus in ``instrument_model`` (``'NI PXIe-4082'``). The ranges are
representative of each family (300 V models, 1000 V 7½-digit models, LC on the x2 models), not a
datasheet: a range coerces up to the next row entry. NI's system tests pin a few of them: a 4082
accepts 2 mF for capacitance, its largest DC-volts range is 300 V, and it accepts waveform
acquisitions.

Values NI's *simulated* driver reports instead of hardware data are constants here, named as
such: the calibration records (1940-03-01 00:00 at 25 °C for the 408x; zeros for the 407x and
4065, as NI's test comments say), the recommended calibration interval, the device temperature,
and where auto-ranging settles (the 408x report their largest range, see :class:`AutoRange`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

# Measurement functions (NI-DMM's NIDMM_VAL_*).
DC_VOLTS = 1
AC_VOLTS = 2
DC_CURRENT = 3
AC_CURRENT = 4
TWO_WIRE_RES = 5
FOUR_WIRE_RES = 101
FREQ = 104
PERIOD = 105
TEMPERATURE = 108
AC_VOLTS_DC_COUPLED = 1001
DIODE = 1002
WAVEFORM_VOLTAGE = 1003
WAVEFORM_CURRENT = 1004
CAPACITANCE = 1005
INDUCTANCE = 1006

WAVEFORM_FUNCTIONS = frozenset({WAVEFORM_VOLTAGE, WAVEFORM_CURRENT})
LC_FUNCTIONS = frozenset({CAPACITANCE, INDUCTANCE})


@dataclass(frozen=True)
class Signal:
    """What the simulated DMM's input carries for one function."""

    name: str
    simulated_input: float


SIGNALS: Mapping[int, Signal] = {
    DC_VOLTS: Signal("DC volts", 2.5),
    AC_VOLTS: Signal("AC volts", 1.0),
    DC_CURRENT: Signal("DC current", 0.005),
    AC_CURRENT: Signal("AC current", 0.005),
    TWO_WIRE_RES: Signal("2-wire resistance", 1000.0),
    FOUR_WIRE_RES: Signal("4-wire resistance", 1000.0),
    FREQ: Signal("frequency", 1000.0),
    PERIOD: Signal("period", 1e-3),
    TEMPERATURE: Signal("temperature", 25.0),
    AC_VOLTS_DC_COUPLED: Signal("AC volts, DC coupled", 1.0),
    DIODE: Signal("diode", 0.6),
    WAVEFORM_VOLTAGE: Signal("waveform voltage", 2.5),
    WAVEFORM_CURRENT: Signal("waveform current", 0.005),
    CAPACITANCE: Signal("capacitance", 1e-7),
    INDUCTANCE: Signal("inductance", 1e-3),
}


class AutoRange(enum.Enum):
    """Where auto-ranging settles on a simulated model."""

    INPUT = "input"
    """The smallest range that holds the simulated input (2.5 V → 10 V)."""
    MAXIMUM = "maximum"
    """The function's largest range: NI's simulated 408x report it (300 V on a 4082)."""


@dataclass(frozen=True)
class CalibrationRecord:
    """The last calibration a simulated model reports (NI's simulated values, not real data)."""

    month: int
    day: int
    year: int
    hour: int
    minute: int
    temperature: float


SIMULATED_408X_CALIBRATION = CalibrationRecord(3, 1, 1940, 0, 0, 25.0)
"""NI's simulated 408x report 1940-03-01 00:00 at 25 °C."""
SIMULATED_407X_CALIBRATION = CalibrationRecord(0, 0, 0, 0, 0, 0.0)
"""NI's simulated 407x and 4065 report zeros."""

EXT_CAL_INTERVAL_MONTHS = 24
"""Recommended external calibration interval NI's simulated driver reports (730 days)."""

SIMULATED_DEVICE_TEMPERATURE = 25.0
"""Board temperature in °C a simulated DMM reports (NI's tests accept 20-50 °C)."""


@dataclass(frozen=True)
class DmmModel:
    """One NI-DMM model: its ranges per function and its simulated reports."""

    name: str
    ranges: Mapping[int, tuple[float, ...]]
    max_digits: float
    auto_range: AutoRange
    self_cal_supported: bool
    calibration: CalibrationRecord


_DCV_300 = (0.1, 1.0, 10.0, 100.0, 300.0)
_DCV_1000 = (0.1, 1.0, 10.0, 100.0, 1000.0)
_ACV_300 = (0.05, 0.5, 5.0, 50.0, 300.0)
_ACV_700 = (0.05, 0.5, 5.0, 50.0, 700.0)
_CURRENT_3A = (0.01, 0.1, 1.0, 3.0)
_DCI_PRECISION = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 3.0)
_ACI_PRECISION = (1e-4, 1e-3, 1e-2, 0.1, 1.0, 3.0)
_RES_2W = (100.0, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8)
_RES_4W = (100.0, 1e3, 1e4, 1e5)
_RES_4W_PRECISION = (100.0, 1e3, 1e4, 1e5, 1e6, 1e7)
_CAPACITANCE = (3e-10, 3e-9, 3e-8, 3e-7, 3e-6, 3e-5, 3e-4, 1e-2)
_INDUCTANCE = (1e-5, 1e-4, 1e-3, 1e-2, 5e-2)


_Ranges = tuple[float, ...]


def _family(
    dc_volts: tuple[float, ...],
    ac_volts: tuple[float, ...],
    dc_current: tuple[float, ...],
    ac_current: tuple[float, ...],
    four_wire: tuple[float, ...],
    *,
    lc: bool,
) -> dict[int, tuple[float, ...]]:
    """The functions of a 407x/408x: waveforms share the DC ranges; LC only on the x2 models."""
    ranges = {
        DC_VOLTS: dc_volts,
        AC_VOLTS: ac_volts,
        DC_CURRENT: dc_current,
        AC_CURRENT: ac_current,
        TWO_WIRE_RES: _RES_2W,
        FOUR_WIRE_RES: four_wire,
        FREQ: (300e3,),
        PERIOD: (1.0,),
        TEMPERATURE: (1000.0,),
        AC_VOLTS_DC_COUPLED: ac_volts,
        DIODE: (10.0,),
        WAVEFORM_VOLTAGE: dc_volts,
        WAVEFORM_CURRENT: dc_current,
    }
    if lc:
        ranges |= {CAPACITANCE: _CAPACITANCE, INDUCTANCE: _INDUCTANCE}
    return ranges


_300V: tuple[_Ranges, _Ranges, _Ranges, _Ranges, _Ranges] = (
    _DCV_300,
    _ACV_300,
    _CURRENT_3A,
    _CURRENT_3A,
    _RES_4W,
)
"""DC volts, AC volts, DC current, AC current, 4-wire resistance of the 300 V models."""
_PRECISION: tuple[_Ranges, _Ranges, _Ranges, _Ranges, _Ranges] = (
    _DCV_1000,
    _ACV_700,
    _DCI_PRECISION,
    _ACI_PRECISION,
    _RES_4W_PRECISION,
)
"""The same for the 7½-digit, 1000 V models (4071, 4081)."""


def _model(
    name: str,
    ranges: dict[int, tuple[float, ...]],
    max_digits: float,
    *,
    nis_408x: bool,
    self_cal: bool = True,
) -> DmmModel:
    return DmmModel(
        name,
        ranges,
        max_digits,
        AutoRange.MAXIMUM if nis_408x else AutoRange.INPUT,
        self_cal,
        SIMULATED_408X_CALIBRATION if nis_408x else SIMULATED_407X_CALIBRATION,
    )


MODELS: Mapping[str, DmmModel] = {
    model.name: model
    for model in (
        _model(
            "4065",
            {
                DC_VOLTS: _DCV_300,
                AC_VOLTS: (0.2, 2.0, 20.0, 300.0),
                DC_CURRENT: _CURRENT_3A,
                AC_CURRENT: _CURRENT_3A,
                TWO_WIRE_RES: _RES_2W,
                FOUR_WIRE_RES: _RES_4W,
                DIODE: (10.0,),
            },
            6.5,
            nis_408x=False,
            self_cal=False,
        ),
        _model("4070", _family(*_300V, lc=False), 6.5, nis_408x=False),
        _model("4071", _family(*_PRECISION, lc=False), 7.5, nis_408x=False),
        _model("4072", _family(*_300V, lc=True), 6.5, nis_408x=False),
        _model("4080", _family(*_300V, lc=False), 6.5, nis_408x=True),
        _model("4081", _family(*_PRECISION, lc=False), 7.5, nis_408x=True),
        _model("4082", _family(*_300V, lc=True), 6.5, nis_408x=True),
    )
}

DEFAULT_MODEL = "4081"
DEFAULT_BOARD_TYPE = "PXI"
