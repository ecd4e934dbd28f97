"""How NI-DMM coerces a measurement configuration (function, range, resolution) on one model.

Pure functions over a :class:`~.dmm_models.DmmModel`:

- ``range`` goes up to the function's next valid range; ``-1`` (auto) and ``-3`` (auto once)
  settle where the model auto-ranges (:class:`~.dmm_models.AutoRange`); ``-2`` (auto off) keeps
  the range in use. A range beyond the largest is refused, unless the function changes (writing
  ``function`` alone), which takes the largest instead.
- ``digits`` go up to the next of 3.5 … 7.5, at most the model's largest.
- ``resolution_absolute = range / (2 · 10^floor(digits))``: an N½-digit reading has 2·10^N counts
  across the range, so DC volts on the 10 V range at 5.5 digits resolves 10 / 200000 = 5e-05 V,
  the value NI reports. An absolute resolution asks for the fewest digits that reach it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from local_ni_platform.device_server.dmm_attributes import (
    AUTO_RANGE_OFF,
    AUTO_RANGE_ON,
    AUTO_RANGE_ONCE,
)
from local_ni_platform.device_server.dmm_models import SIGNALS, AutoRange, DmmModel
from local_ni_platform.device_server.errors import INVALID_VALUE, DriverError

DIGITS = (3.5, 4.5, 5.5, 6.5, 7.5)


@dataclass(frozen=True)
class Measurement:
    """A coerced configuration and what follows from it."""

    function: int
    range: float
    """As stored: -1 while auto-ranging, else the range in use."""
    digits: float
    effective_range: float
    """The range in use (``auto_range_value``)."""

    @property
    def resolution(self) -> float:
        """``resolution_absolute``."""
        return resolution_absolute(self.effective_range, self.digits)


def resolution_absolute(range_: float, digits: float) -> float:
    """Smallest step of a reading: ``range / (2 · 10^floor(digits))`` (10 V, 5.5 → 5e-05)."""
    return range_ / (2 * 10.0 ** math.floor(digits))


def coerce_measurement(
    model: DmmModel,
    function: int,
    range_: float,
    digits: float,
    *,
    range_in_use: float,
    function_changed: bool = False,
) -> Measurement:
    """The configuration the driver keeps for the requested one.

    ``range_in_use`` is what ``-2`` (auto off) keeps.

    Raises:
        DriverError: a function the model lacks, an invalid or too large range, or digits
            beyond the model's.
    """
    effective = effective_range(
        model, function, range_, range_in_use=range_in_use, fallback_to_max=function_changed
    )
    if not math.isfinite(digits) or digits > model.max_digits:
        raise DriverError(
            INVALID_VALUE, f"Resolution of {digits!r} digits is beyond the NI {model.name}."
        )
    coerced = next(value for value in DIGITS if value >= digits)
    stored = AUTO_RANGE_ON if range_ == AUTO_RANGE_ON else effective
    return Measurement(function, stored, coerced, effective)


def effective_range(
    model: DmmModel, function: int, range_: float, *, range_in_use: float, fallback_to_max: bool
) -> float:
    """The range the model measures ``function`` on for ``range_`` (or an auto-range setting).

    Raises:
        DriverError: see :func:`coerce_measurement`.
    """
    ranges = model.ranges.get(function)
    signal = SIGNALS.get(function)
    if ranges is None or signal is None:
        raise DriverError(
            INVALID_VALUE, f"The NI {model.name} does not measure function {function}."
        )
    if range_ in (AUTO_RANGE_ON, AUTO_RANGE_ONCE):
        if model.auto_range is AutoRange.MAXIMUM:
            return ranges[-1]
        return _covering(ranges, abs(signal.simulated_input), signal.name, fallback_to_max=True)
    if range_ == AUTO_RANGE_OFF:
        return _covering(ranges, range_in_use, signal.name, fallback_to_max=True)
    if range_ >= 0 and math.isfinite(range_):
        return _covering(ranges, range_, signal.name, fallback_to_max=fallback_to_max)
    raise DriverError(INVALID_VALUE, f"Range {range_!r} is not valid.")


def digits_for(
    model: DmmModel, function: int, range_: float, resolution: float, range_in_use: float
) -> float:
    """The fewest digits that resolve ``resolution`` on the range ``range_`` coerces to; else
    the model's most.

    Raises:
        DriverError: see :func:`effective_range`; ``resolution`` is not a positive number.
    """
    effective = effective_range(
        model, function, range_, range_in_use=range_in_use, fallback_to_max=False
    )
    if not (math.isfinite(resolution) and resolution > 0):
        raise DriverError(INVALID_VALUE, f"Resolution {resolution!r} is not valid.")
    for digits in DIGITS:
        if digits > model.max_digits:
            break
        if resolution_absolute(effective, digits) <= resolution * (1 + 1e-9):
            return digits
    return model.max_digits


def _covering(
    ranges: tuple[float, ...], wanted: float, name: str, *, fallback_to_max: bool
) -> float:
    """The smallest range that covers ``wanted`` (else the largest, if ``fallback_to_max``).

    Raises:
        DriverError: ``wanted`` is beyond the largest range and not ``fallback_to_max``.
    """
    for value in ranges:
        if value >= wanted:
            return value
    if fallback_to_max:
        return ranges[-1]
    raise DriverError(
        INVALID_VALUE, f"Range {wanted:g} exceeds the largest {name} range {ranges[-1]:g}."
    )
