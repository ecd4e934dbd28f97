"""A simulated NI-DMM session: a fixed input per measurement function, read with small noise.

The model:

- Each function measures a fixed simulated input (:data:`FUNCTIONS`, e.g. 2.5 V for DC volts).
- ``configure_measurement_digits(function, range, digits)`` coerces like the driver: ``range`` up
  to the function's next valid range (``-1`` auto-ranges, ``-3`` auto-ranges once, ``-2`` keeps the
  current range); ``digits`` up to the next of 3.5, 4.5, 5.5, 6.5, 7.5.
- ``resolution_absolute = range / (2 · 10^floor(digits))``: an N½-digit reading has 2·10^N counts
  across the range, so DC volts on the 10 V range at 5.5 digits resolves 10 / 200000 = 5e-05 V,
  the value NI reports.
- ``read()`` returns the input plus Gaussian noise of one resolution step, rounded to the
  resolution; the noise generator is seeded from the resource name, so a session's readings are
  reproducible. An input beyond the range reads NaN (over-range), which NI's examples test with
  ``math.isnan``.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass

import nidmm.session

from local_ni_platform.device_server.attributes import (
    DRIVER_SETUP,
    INSTRUMENT_MODEL,
    AttributeSpec,
    AttributeStore,
    AttributeType,
    AttributeValue,
    ivi_inherent_attributes,
)
from local_ni_platform.device_server.catalog import driver_catalog
from local_ni_platform.device_server.errors import INVALID_VALUE, RESOURCE_NOT_FOUND, DriverError
from local_ni_platform.device_server.instrument import SimulatedSession

DEFAULT_MODEL = "4081"

# Attribute ids (NI-DMM's NIDMM_ATTR_*).
FUNCTION = 1250001
RANGE = 1250002
RESOLUTION_DIGITS = 1250003
RESOLUTION_ABSOLUTE = 1250008
AUTO_RANGE_VALUE = 1250331

AUTO_RANGE_ON = -1.0
AUTO_RANGE_OFF = -2.0
AUTO_RANGE_ONCE = -3.0
TIME_LIMIT_AUTO = -1
MAX_TIME_LIMIT_MS = 86_400_000
DIGITS = (3.5, 4.5, 5.5, 6.5, 7.5)

DC_VOLTS = 1


@dataclass(frozen=True)
class FunctionModel:
    """A measurement function: the simulated input and the instrument's ranges for it."""

    name: str
    simulated_input: float
    ranges: tuple[float, ...]


FUNCTIONS: dict[int, FunctionModel] = {
    DC_VOLTS: FunctionModel("DC volts", 2.5, (0.1, 1.0, 10.0, 100.0, 1000.0)),
    2: FunctionModel("AC volts", 1.0, (0.05, 0.5, 5.0, 50.0, 700.0)),
    3: FunctionModel("DC current", 0.005, (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 3.0)),
    4: FunctionModel("AC current", 0.005, (1e-4, 1e-3, 1e-2, 0.1, 1.0, 3.0)),
    5: FunctionModel("2-wire resistance", 1000.0, (100.0, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8)),
    101: FunctionModel("4-wire resistance", 1000.0, (100.0, 1e3, 1e4, 1e5, 1e6, 1e7)),
    104: FunctionModel("frequency", 1000.0, (300e3,)),
    105: FunctionModel("period", 1e-3, (1.0,)),
    108: FunctionModel("temperature", 25.0, (1000.0,)),
    1001: FunctionModel("AC volts, DC coupled", 1.0, (0.05, 0.5, 5.0, 50.0, 700.0)),
    1002: FunctionModel("diode", 0.6, (10.0,)),
    1005: FunctionModel("capacitance", 1e-7, (3e-10, 3e-9, 3e-8, 3e-7, 3e-6, 3e-5, 3e-4)),
    1006: FunctionModel("inductance", 1e-3, (1e-5, 1e-4, 1e-3, 1e-2, 5e-2)),
}
"""Simulated functions (NI-DMM's waveform functions are not simulated)."""

DESCRIBED_ATTRIBUTES = (
    *ivi_inherent_attributes(channel_count=1),
    AttributeSpec(
        FUNCTION, "function", AttributeType.INT32, DC_VOLTS, allowed=frozenset(FUNCTIONS)
    ),
    AttributeSpec(RANGE, "range", AttributeType.REAL64, 10.0),
    AttributeSpec(RESOLUTION_DIGITS, "resolution_digits", AttributeType.REAL64, 5.5),
    AttributeSpec(
        RESOLUTION_ABSOLUTE, "resolution_absolute", AttributeType.REAL64, 5e-05, writable=False
    ),
    AttributeSpec(AUTO_RANGE_VALUE, "auto_range_value", AttributeType.REAL64, 10.0, writable=False),
)
"""The attributes the simulation gives meaning to; :data:`ATTRIBUTES` adds the rest of NI's."""

ATTRIBUTES = driver_catalog(nidmm.session._SessionBase, DESCRIBED_ATTRIBUTES)
"""Every attribute NI's ``nidmm`` client declares (see :mod:`.catalog`)."""

_SESSION = ("",)
"""NI-DMM has no channels: every attribute lives on the one session-wide key."""


def resolution_absolute(range_: float, digits: float) -> float:
    """Smallest step of a reading: ``range / (2 · 10^floor(digits))`` (10 V, 5.5 → 5e-05)."""
    return range_ / (2 * 10.0 ** math.floor(digits))


class DmmSession(SimulatedSession):
    """One simulated NI-DMM session."""

    def __init__(self, resource_name: str, option_string: str = "") -> None:
        """Open the DMM named ``resource_name`` (any non-empty name is a simulated DMM).

        Raises:
            DriverError: empty resource name.
        """
        super().__init__(
            resource_name=resource_name, option_string=option_string, default_model=DEFAULT_MODEL
        )
        if not resource_name.strip():
            raise DriverError(RESOURCE_NOT_FOUND, "Invalid Identifier: ")
        self._attributes = AttributeStore(ATTRIBUTES, _SESSION)
        self._random = random.Random(zlib.crc32(resource_name.encode("utf-8")))
        self._effective_range = 10.0
        self._apply_identity()

    def configure_measurement_digits(self, function: int, range_: float, digits: float) -> None:
        """Configure function, range and resolution in digits, coercing like the driver.

        Raises:
            DriverError: unsimulated function, range beyond the largest, or digits above 7.5.
        """
        with self._condition:
            self._check_open()
            self._configure(function, range_, digits)

    def read(self, maximum_time_ms: int) -> float:
        """One reading of the configured function; ``maximum_time_ms`` is -1 (auto) or 0-86400000.

        Raises:
            DriverError: invalid maximum time.
        """
        if maximum_time_ms != TIME_LIMIT_AUTO and not 0 <= maximum_time_ms <= MAX_TIME_LIMIT_MS:
            raise DriverError(INVALID_VALUE, f"Maximum time {maximum_time_ms} ms is not valid.")
        with self._condition:
            self._check_open()
            model = FUNCTIONS[int(self._attributes.value("", FUNCTION))]
            resolution = float(self._attributes.value("", RESOLUTION_ABSOLUTE))
            if abs(model.simulated_input) > self._effective_range:
                return math.nan
            noisy = model.simulated_input + self._random.gauss(0.0, resolution)
            return round(noisy / resolution) * resolution

    def get_attribute(self, attribute_id: int, expected: AttributeType) -> AttributeValue:
        """The attribute's value.

        Raises:
            DriverError: unknown attribute or wrong type.
        """
        with self._condition:
            self._check_open()
            return self._attributes.get(_SESSION, attribute_id, expected)

    def set_attribute(self, attribute_id: int, expected: AttributeType, value: object) -> None:
        """Set an attribute; function, range and digits are coerced as by the configure call.

        Raises:
            DriverError: unknown attribute, wrong type, read-only or invalid value.
        """
        with self._condition:
            self._check_open()
            store = self._attributes
            if attribute_id not in (FUNCTION, RANGE, RESOLUTION_DIGITS):
                store.set(_SESSION, attribute_id, expected, value)
                return
            store.spec(attribute_id, expected)
            settings = {
                key: float(store.value("", key)) for key in (FUNCTION, RANGE, RESOLUTION_DIGITS)
            }
            if not isinstance(value, (int, float)):
                raise DriverError(INVALID_VALUE, f"{value!r} is not a number.")
            settings[attribute_id] = float(value)
            self._configure(int(settings[FUNCTION]), settings[RANGE], settings[RESOLUTION_DIGITS])

    def reset(self) -> None:
        """Restore the default configuration."""
        with self._condition:
            self._check_open()
            self._attributes.reset(_SESSION)
            self._effective_range = 10.0
            self._apply_identity()

    def _configure(self, function: int, range_: float, digits: float) -> None:
        """Validate and coerce, then store the settings and the derived attributes."""
        model = FUNCTIONS.get(function)
        if model is None:
            raise DriverError(INVALID_VALUE, f"Measurement function {function} is not simulated.")
        if range_ in (AUTO_RANGE_ON, AUTO_RANGE_ONCE):
            effective = _coerce_range(model, abs(model.simulated_input), fallback_to_max=True)
        elif range_ == AUTO_RANGE_OFF:
            effective = _coerce_range(model, self._effective_range, fallback_to_max=True)
        elif range_ >= 0 and math.isfinite(range_):
            effective = _coerce_range(model, range_, fallback_to_max=False)
        else:
            raise DriverError(INVALID_VALUE, f"Range {range_!r} is not valid.")
        if not math.isfinite(digits) or digits > DIGITS[-1]:
            raise DriverError(INVALID_VALUE, f"Resolution of {digits!r} digits is not valid.")
        coerced_digits = next(value for value in DIGITS if value >= digits)
        stored_range = AUTO_RANGE_ON if range_ == AUTO_RANGE_ON else effective
        force = self._attributes.force
        force(_SESSION, FUNCTION, function)
        force(_SESSION, RANGE, stored_range)
        force(_SESSION, RESOLUTION_DIGITS, coerced_digits)
        force(_SESSION, AUTO_RANGE_VALUE, effective)
        force(_SESSION, RESOLUTION_ABSOLUTE, resolution_absolute(effective, coerced_digits))
        self._effective_range = effective

    def _apply_identity(self) -> None:
        """Set the driver-computed, read-only identity attributes."""
        self._attributes.force(_SESSION, INSTRUMENT_MODEL, f"NI PXI-{self.model}")
        self._attributes.force(_SESSION, DRIVER_SETUP, self.option_string)


def _coerce_range(model: FunctionModel, wanted: float, *, fallback_to_max: bool) -> float:
    """The smallest valid range that covers ``wanted``.

    Raises:
        DriverError: ``wanted`` is beyond the largest range (unless ``fallback_to_max``).
    """
    for value in model.ranges:
        if value >= wanted:
            return value
    if fallback_to_max:
        return model.ranges[-1]
    raise DriverError(
        INVALID_VALUE,
        f"Range {wanted:g} exceeds the largest {model.name} range {model.ranges[-1]:g}.",
    )
