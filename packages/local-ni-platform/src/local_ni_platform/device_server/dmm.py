"""A simulated NI-DMM session: a fixed input per measurement function, read with small noise.

The model:

- ``DriverSetup=Model:<m>; BoardType:<b>`` picks one of :data:`~.dmm_models.MODELS` (default
  PXI-4081): its ranges per function, its largest resolution, and what NI's simulated driver
  reports for it (calibration records, where auto-ranging settles).
- Each function measures a fixed simulated input (:data:`~.dmm_models.SIGNALS`, e.g. 2.5 V).
- The configure calls and the ``function``/``range``/``resolution_*`` attributes coerce like the
  driver (:mod:`.dmm_measurement`): writing ``function`` alone keeps an auto range and takes a
  fixed one to the new function's ranges.
- A reading is the input plus Gaussian noise of one resolution step, rounded to the resolution;
  the noise generator is seeded from the resource name, so a session's readings are
  reproducible. An input beyond the range reads NaN (over-range), which NI's examples test with
  ``math.isnan``.
- Acquisitions follow :mod:`.dmm_acquisition`: points are measured on their programmed schedule
  (at once unless a trigger delay, sample interval or waveform rate spaces them) and fetched in
  order; ``read*`` is initiate plus fetch.
- Calibration, self-test and temperature calls report NI's simulated constants
  (:mod:`.dmm_models`); cable compensation measures (0, 0).
- An attribute configuration export is the session's writable attributes in
  :mod:`.configuration`'s format; an import restores them, all or nothing.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from local_ni_platform.device_server import dmm_attributes as attrs
from local_ni_platform.device_server.attributes import (
    DRIVER_SETUP,
    INSTRUMENT_MODEL,
    AttributeStore,
    AttributeType,
    AttributeValue,
)
from local_ni_platform.device_server.configuration import (
    decode_configuration,
    encode_configuration,
)
from local_ni_platform.device_server.dmm_acquisition import (
    IMMEDIATE_WAITER,
    Acquisitions,
    AcquisitionStatus,
    Schedule,
    Waiter,
    deadline_after,
)
from local_ni_platform.device_server.dmm_attributes import ATTRIBUTES, checked_values
from local_ni_platform.device_server.dmm_measurement import (
    coerce_measurement,
    digits_for,
    resolution_absolute,
)
from local_ni_platform.device_server.dmm_models import (
    DC_VOLTS,
    DEFAULT_BOARD_TYPE,
    DEFAULT_MODEL,
    EXT_CAL_INTERVAL_MONTHS,
    LC_FUNCTIONS,
    MODELS,
    SIGNALS,
    SIMULATED_DEVICE_TEMPERATURE,
    WAVEFORM_FUNCTIONS,
    CalibrationRecord,
)
from local_ni_platform.device_server.driver_setup import parse_driver_setup
from local_ni_platform.device_server.errors import (
    CABLE_COMP_NOT_ALLOWED,
    FEATURE_NOT_SUPPORTED,
    INVALID_VALUE,
    RESOURCE_NOT_FOUND,
    UNKNOWN_CHANNEL_NAME,
    DriverError,
)
from local_ni_platform.device_server.instrument import SimulatedSession

__all__ = ["ATTRIBUTES", "DmmSession", "resolution_absolute"]

CAL_TYPES = frozenset({0, 1})
DRIVER_NAME = "NI-DMM"
"""NI-DMM's calibration areas: 0 self-calibration, 1 external calibration."""

_SESSION = ("",)
"""NI-DMM has no channels: every attribute lives on the one session-wide key."""

_DERIVED = frozenset({attrs.RESOLUTION_ABSOLUTE})
"""Writable attributes a configuration export leaves out: they follow from the others."""


class DmmSession(SimulatedSession):
    """One simulated NI-DMM session."""

    def __init__(self, resource_name: str, option_string: str = "") -> None:
        """Open the DMM named ``resource_name`` (any non-empty name is a simulated DMM).

        Raises:
            DriverError: empty resource name; unknown model or board type in the options.
        """
        super().__init__(resource_name=resource_name, option_string=option_string)
        if not resource_name.strip():
            raise DriverError(RESOURCE_NOT_FOUND, "Invalid Identifier: ")
        self.setup = parse_driver_setup(
            option_string,
            MODELS,
            default_model=DEFAULT_MODEL,
            default_board_type=DEFAULT_BOARD_TYPE,
        )
        self.model = self.setup.model.name
        self._attributes = AttributeStore(ATTRIBUTES, _SESSION)
        self._random = random.Random(zlib.crc32(resource_name.encode("utf-8")))
        self._acquisitions = Acquisitions(self._condition, self._check_open)
        with self._condition:
            self._restore_defaults()

    # --- configuration --------------------------------------------------------------------------

    def configure_measurement_digits(self, function: int, range_: float, digits: float) -> None:
        """Configure function, range and resolution in digits, coercing like the driver.

        Raises:
            DriverError: a waveform or a function the model lacks, a range beyond the largest,
                or too many digits.
        """
        with self._locked():
            _check_not_waveform(function)
            self._configure(function, range_, digits, mode=attrs.IVIDMM_MODE)

    def configure_measurement_absolute(
        self, function: int, range_: float, resolution: float
    ) -> None:
        """Configure with an absolute resolution: the fewest digits that reach it.

        Raises:
            DriverError: as :meth:`configure_measurement_digits`; a resolution that is not > 0.
        """
        with self._locked():
            _check_not_waveform(function)
            in_use = self._value(attrs.AUTO_RANGE_VALUE)
            digits = digits_for(self.setup.model, function, range_, resolution, in_use)
            self._configure(function, range_, digits, mode=attrs.IVIDMM_MODE)

    def configure_waveform_acquisition(
        self, function: int, range_: float, rate: float, points: int
    ) -> None:
        """Configure a waveform acquisition of ``points`` points at ``rate`` (coerced) S/s.

        Raises:
            DriverError: not a waveform function, or an invalid range, rate or point count.
        """
        with self._locked():
            if function not in WAVEFORM_FUNCTIONS:
                raise DriverError(INVALID_VALUE, f"Function {function} is not a waveform.")
            timing = checked_values([(attrs.WAVEFORM_RATE, rate), (attrs.WAVEFORM_POINTS, points)])
            digits = self._value(attrs.RESOLUTION_DIGITS)
            self._configure(function, range_, digits, mode=attrs.WAVEFORM_MODE)
            self._store(timing)

    def configure(self, values: Iterable[tuple[int, object]], channel_string: str = "") -> None:
        """Set several attributes at once, all or none (the ``Configure…`` calls that only store).

        Raises:
            DriverError: an invalid value, or a channel (NI-DMM has none); nothing is stored.
        """
        if channel_string:
            raise DriverError(UNKNOWN_CHANNEL_NAME, f"Channel name: {channel_string}")
        with self._locked():
            self._store(checked_values(values))

    def get_attribute(self, attribute_id: int, expected: AttributeType) -> AttributeValue:
        """The attribute's value.

        Raises:
            DriverError: unknown attribute or wrong type.
        """
        with self._locked():
            return self._attributes.get(_SESSION, attribute_id, expected)

    def set_attribute(self, attribute_id: int, expected: AttributeType, value: object) -> None:
        """Set an attribute; the measurement attributes are coerced as by the configure calls.

        Raises:
            DriverError: unknown attribute, wrong type, read-only or invalid value.
        """
        with self._locked():
            self._attributes.spec(attribute_id, expected)  # known, and of the RPC's type
            if attribute_id not in attrs.MEASUREMENT_ATTRIBUTES:
                self._store(checked_values([(attribute_id, value)]))
                return
            ((_, number),) = checked_values([(attribute_id, value)])  # type and enum checks
            function = int(self._value(attrs.FUNCTION))
            range_, digits = self._value(attrs.RANGE), self._value(attrs.RESOLUTION_DIGITS)
            if attribute_id == attrs.FUNCTION:
                self._configure(int(number), range_, digits, function_changed=True)
            elif attribute_id == attrs.RANGE:
                self._configure(function, float(number), digits)
            elif attribute_id == attrs.RESOLUTION_DIGITS:
                self._configure(function, range_, float(number))
            else:
                in_use = self._value(attrs.AUTO_RANGE_VALUE)
                digits = digits_for(self.setup.model, function, range_, float(number), in_use)
                self._configure(function, range_, digits)

    def reset(self) -> None:
        """Abort and restore the default configuration (``Reset``, ``ResetWithDefaults``)."""
        with self._locked():
            self._restore_defaults()

    # --- acquisition -----------------------------------------------------------------------------

    def initiate(self) -> None:
        """Start an acquisition of the configured points (replacing a running one)."""
        with self._locked():
            self._initiate()

    def abort(self) -> None:
        """Stop the acquisition, if any; unfetched points are dropped (``Abort``, ``Disable``)."""
        with self._locked():
            self._acquisitions.stop()

    def send_software_trigger(self) -> None:
        """Accepted: a simulated DMM's triggers fire by themselves (see :mod:`.dmm_acquisition`)."""
        with self._locked():
            pass

    def read_status(self) -> tuple[int, AcquisitionStatus]:
        """The backlog (points measured, not fetched) and the acquisition's state."""
        with self._locked():
            return self._acquisitions.status()

    def fetch(
        self, count: int, maximum_time_ms: int, waiter: Waiter = IMMEDIATE_WAITER
    ) -> list[float]:
        """The next ``count`` points of the running acquisition, waiting for them if due later.

        ``maximum_time_ms`` is -1 (as long as the points take) or 0-86400000 ms.

        Raises:
            DriverError, WaitAbandonedError, WaitBudgetExhaustedError: see
                :meth:`.dmm_acquisition.Acquisitions.take`.
        """
        with self._locked():
            self._acquisitions.take(count, maximum_time_ms, waiter)
            return [self._reading() for _ in range(count)]

    def read(
        self, count: int, maximum_time_ms: int, waiter: Waiter = IMMEDIATE_WAITER
    ) -> list[float]:
        """Initiate, then fetch ``count`` points (``Read``, ``ReadMultiPoint``, ``ReadWaveform``).

        Raises:
            DriverError: see :meth:`fetch`.
        """
        deadline_after(maximum_time_ms)  # invalid arguments fail before anything starts
        with self._locked():
            self._initiate()
            return self.fetch(count, maximum_time_ms, waiter)

    # --- calibration, self test and cable compensation (NI's simulated values) -----------------

    def self_test(self) -> tuple[int, str]:
        """Passes: ``(0, message)``."""
        with self._locked():
            return 0, "Self test passed (simulated device)."

    def self_calibration_supported(self) -> bool:
        """Whether the model self-calibrates (all but the NI 4065)."""
        with self._locked():
            return self.setup.model.self_cal_supported

    def self_calibrate(self) -> None:
        """Succeeds at once (and aborts) on models that self-calibrate.

        Raises:
            DriverError: the model does not self-calibrate.
        """
        with self._locked():
            if not self.setup.model.self_cal_supported:
                raise DriverError(FEATURE_NOT_SUPPORTED, f"The NI {self.model} has no self-cal.")
            self._acquisitions.stop()

    def last_calibration(self, cal_type: int) -> CalibrationRecord:
        """The model's simulated calibration record (the same for either calibration type).

        Raises:
            DriverError: ``cal_type`` is not 0 (self) or 1 (external).
        """
        with self._locked():
            if cal_type not in CAL_TYPES:
                raise DriverError(INVALID_VALUE, f"Calibration type {cal_type} is not 0 or 1.")
            return self.setup.model.calibration

    def ext_cal_recommended_interval_months(self) -> int:
        """NI's simulated recommendation (24 months)."""
        with self._locked():
            return EXT_CAL_INTERVAL_MONTHS

    def device_temperature(self) -> float:
        """The simulated board temperature in °C."""
        with self._locked():
            return SIMULATED_DEVICE_TEMPERATURE

    def cable_compensation(self) -> tuple[float, float]:
        """``(0, 0)`` for open or short: a simulated DMM has no cable to compensate.

        Raises:
            DriverError: the function is not capacitance or inductance.
        """
        with self._locked():
            if int(self._value(attrs.FUNCTION)) not in LC_FUNCTIONS:
                raise DriverError(CABLE_COMP_NOT_ALLOWED)
            return 0.0, 0.0

    # --- attribute configuration export/import --------------------------------------------------

    def export_configuration(self) -> bytes:
        """The writable attributes, in :mod:`.configuration`'s format."""
        with self._locked():
            values = {
                spec.attribute_id: self._attributes.value("", spec.attribute_id)
                for spec in ATTRIBUTES
                if spec.writable and spec.attribute_id not in _DERIVED
            }
            return encode_configuration(DRIVER_NAME, self.model, {"": values})

    def import_configuration(self, blob: bytes) -> None:
        """Restore an export: defaults first, then its values; all or nothing.

        Raises:
            DriverError: not an export of this simulator, or values this model refuses
                (-1074135024, invalid value).
        """
        channels = decode_configuration(blob, DRIVER_NAME)
        if set(channels) != {""}:
            raise DriverError(INVALID_VALUE, "The configuration was exported for channels.")
        values = channels[""]
        with self._locked():
            before = self._attributes.snapshot()
            try:
                self._restore_defaults()
                self._store(checked_values(values.items()))
                function = int(self._value(attrs.FUNCTION))
                range_, digits = self._value(attrs.RANGE), self._value(attrs.RESOLUTION_DIGITS)
                self._configure(function, range_, digits)
            except DriverError as error:
                self._attributes.restore(before)
                raise DriverError(
                    INVALID_VALUE, f"The configuration does not apply: {error.description}"
                ) from None

    # --- internals (callers hold the lock) ------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the session's lock; the session must be open."""
        with self._condition:
            self._check_open()
            yield

    def _value(self, attribute_id: int) -> float:
        """A numeric attribute's value."""
        return float(self._attributes.value("", attribute_id))

    def _restore_defaults(self) -> None:
        """Drop the acquisition; every attribute to its default; the default measurement."""
        self._acquisitions.stop()
        self._attributes.reset(_SESSION)
        self._store(
            [
                (INSTRUMENT_MODEL, self.setup.instrument_model),
                (DRIVER_SETUP, self.setup.text),
                (attrs.IO_RESOURCE_DESCRIPTOR, self.resource_name),
                (attrs.SUPPORTED_INSTRUMENT_MODELS, ",".join(MODELS)),
            ]
        )
        self._configure(DC_VOLTS, attrs.AUTO_RANGE_ON, 5.5)

    def _configure(
        self,
        function: int,
        range_: float,
        digits: float,
        *,
        function_changed: bool = False,
        mode: int | None = None,
    ) -> None:
        """Coerce the measurement (see :mod:`.dmm_measurement`) and store it, with ``mode``."""
        measurement = coerce_measurement(
            self.setup.model,
            function,
            range_,
            digits,
            range_in_use=self._value(attrs.AUTO_RANGE_VALUE),
            function_changed=function_changed,
        )
        self._store(
            [
                (attrs.FUNCTION, measurement.function),
                (attrs.RANGE, measurement.range),
                (attrs.RESOLUTION_DIGITS, measurement.digits),
                (attrs.AUTO_RANGE_VALUE, measurement.effective_range),
                (attrs.RESOLUTION_ABSOLUTE, measurement.resolution),
            ]
        )
        if mode is not None:
            self._attributes.force(_SESSION, attrs.OPERATION_MODE, mode)

    def _store(self, values: Iterable[tuple[int, AttributeValue]]) -> None:
        for attribute_id, value in values:
            self._attributes.force(_SESSION, attribute_id, value)

    def _initiate(self) -> None:
        """Start the programmed acquisition now (see :mod:`.dmm_acquisition`)."""
        self._acquisitions.start(Schedule.programmed(self._value))

    def _reading(self) -> float:
        """One noisy reading of the configured function, NaN if over range."""
        signal = SIGNALS[int(self._value(attrs.FUNCTION))]
        resolution = self._value(attrs.RESOLUTION_ABSOLUTE)
        if abs(signal.simulated_input) > self._value(attrs.AUTO_RANGE_VALUE):
            return math.nan
        noisy = signal.simulated_input + self._random.gauss(0.0, resolution)
        return round(noisy / resolution) * resolution


def _check_not_waveform(function: int) -> None:
    if function in WAVEFORM_FUNCTIONS:
        raise DriverError(INVALID_VALUE, "Configure waveforms with ConfigureWaveformAcquisition.")
