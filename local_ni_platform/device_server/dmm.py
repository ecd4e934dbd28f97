"""A simulated NI-DMM session: a fixed input per measurement function, read with small noise.

The model:

- ``DriverSetup=Model:<m>; BoardType:<b>`` picks one of :data:`~.dmm_models.MODELS` (default
  PXI-4081): its ranges per function, its largest resolution, and what NI's simulated driver
  reports for it (calibration records, where auto-ranging settles).
- Each function measures a fixed simulated input (:data:`~.dmm_models.SIGNALS`, e.g. 2.5 V).
- ``configure_measurement_digits(function, range, digits)`` coerces like the driver: ``range`` up
  to the function's next valid range (``-1`` auto-ranges, ``-3`` auto-ranges once, ``-2`` keeps the
  current range); ``digits`` up to the next of 3.5 … 7.5. Writing ``function`` alone keeps an
  auto range and coerces a fixed one to the new function's ranges.
- ``resolution_absolute = range / (2 · 10^floor(digits))``: an N½-digit reading has 2·10^N counts
  across the range, so DC volts on the 10 V range at 5.5 digits resolves 10 / 200000 = 5e-05 V,
  the value NI reports.
- A reading is the input plus Gaussian noise of one resolution step, rounded to the resolution;
  the noise generator is seeded from the resource name, so a session's readings are
  reproducible. An input beyond the range reads NaN (over-range), which NI's examples test with
  ``math.isnan``.
- Acquisitions (``initiate``/``fetch``/``read_status``/``abort``) follow
  :mod:`.dmm_acquisition`: points are measured on their programmed schedule (at once unless a
  trigger delay, sample interval or waveform rate spaces them) and fetched in order. A fetch
  waits, in real time, only for points that will arrive; for points that never will it fails at
  once with "Max Time exceeded". ``read*`` is initiate plus fetch.
"""

from __future__ import annotations

import math
import random
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from local_ni_platform.device_server import dmm_attributes as attrs
from local_ni_platform.device_server.attributes import (
    DRIVER_SETUP,
    INSTRUMENT_MODEL,
    AttributeStore,
    AttributeType,
    AttributeValue,
)
from local_ni_platform.device_server.dmm_acquisition import (
    IMMEDIATE_WAITER,
    Acquisition,
    AcquisitionStatus,
    Schedule,
    Waiter,
)
from local_ni_platform.device_server.dmm_attributes import ATTRIBUTES
from local_ni_platform.device_server.dmm_configuration import (
    decode_configuration,
    encode_configuration,
)
from local_ni_platform.device_server.dmm_errors import (
    CABLE_COMP_NOT_ALLOWED,
    DATA_NOT_AVAILABLE,
    FEATURE_NOT_SUPPORTED,
    MAX_TIME_EXCEEDED,
    dmm_error,
)
from local_ni_platform.device_server.dmm_models import (
    DC_VOLTS,
    EXT_CAL_INTERVAL_MONTHS,
    LC_FUNCTIONS,
    MODELS,
    SIGNALS,
    SIMULATED_DEVICE_TEMPERATURE,
    WAVEFORM_FUNCTIONS,
    AutoRange,
    CalibrationRecord,
    DmmModel,
    parse_driver_setup,
)
from local_ni_platform.device_server.errors import (
    INVALID_ATTRIBUTE,
    INVALID_VALUE,
    RESOURCE_NOT_FOUND,
    DriverError,
    WaitAbandonedError,
    WaitDeadlineExceededError,
)
from local_ni_platform.device_server.instrument import SimulatedSession
from local_ni_platform.waits import deadline_passed, sleep_for

__all__ = ["ATTRIBUTES", "DmmSession", "resolution_absolute"]

TIME_LIMIT_AUTO = -1
MAX_TIME_LIMIT_MS = 86_400_000
DIGITS = (3.5, 4.5, 5.5, 6.5, 7.5)
CAL_TYPES = frozenset({0, 1})
"""NI-DMM's calibration areas: 0 self-calibration, 1 external calibration."""

_SESSION = ("",)
"""NI-DMM has no channels: every attribute lives on the one session-wide key."""

_DERIVED = frozenset({attrs.RESOLUTION_ABSOLUTE})
"""Writable attributes a configuration export leaves out: they follow from the others."""


def resolution_absolute(range_: float, digits: float) -> float:
    """Smallest step of a reading: ``range / (2 · 10^floor(digits))`` (10 V, 5.5 → 5e-05)."""
    return range_ / (2 * 10.0 ** math.floor(digits))


class DmmSession(SimulatedSession):
    """One simulated NI-DMM session."""

    def __init__(self, resource_name: str, option_string: str = "") -> None:
        """Open the DMM named ``resource_name`` (any non-empty name is a simulated DMM).

        Raises:
            DriverError: empty resource name; unknown model or board type in the options.
        """
        super().__init__(resource_name=resource_name, option_string=option_string, default_model="")
        if not resource_name.strip():
            raise DriverError(RESOURCE_NOT_FOUND, "Invalid Identifier: ")
        self.setup = parse_driver_setup(option_string)
        self.model = self.setup.model.name
        self._attributes = AttributeStore(ATTRIBUTES, _SESSION)
        self._random = random.Random(zlib.crc32(resource_name.encode("utf-8")))
        self._effective_range = 0.0
        self._acquisition: Acquisition | None = None
        with self._condition:
            self._restore_defaults()

    @property
    def _model(self) -> DmmModel:
        return self.setup.model

    # --- configuration --------------------------------------------------------------------------

    def configure_measurement_digits(self, function: int, range_: float, digits: float) -> None:
        """Configure function, range and resolution in digits, coercing like the driver.

        Raises:
            DriverError: a function the model lacks, a range beyond the largest, or too many
                digits.
        """
        with self._locked():
            _check_not_waveform(function)
            self._configure(function, range_, digits)
            self._attributes.force(_SESSION, attrs.OPERATION_MODE, attrs.IVIDMM_MODE)

    def configure_measurement_absolute(
        self, function: int, range_: float, resolution: float
    ) -> None:
        """Configure with an absolute resolution: the fewest digits that resolve it (at most the
        model's largest).

        Raises:
            DriverError: as :meth:`configure_measurement_digits`; a resolution that is not > 0.
        """
        with self._locked():
            _check_not_waveform(function)
            effective = self._coerced_range(function, range_, fallback_to_max=False)
            self._configure(function, range_, self._digits_for(effective, resolution))
            self._attributes.force(_SESSION, attrs.OPERATION_MODE, attrs.IVIDMM_MODE)

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
            values = [(attrs.WAVEFORM_RATE, rate), (attrs.WAVEFORM_POINTS, points)]
            checked = self._checked(values)
            digits = float(self._attributes.value("", attrs.RESOLUTION_DIGITS))
            self._configure(function, range_, digits)
            self._store([*checked, (attrs.OPERATION_MODE, attrs.WAVEFORM_MODE)])

    def configure(self, values: Iterable[tuple[int, object]]) -> None:
        """Set several attributes at once, all or none (the ``Configure…`` calls that only store).

        Raises:
            DriverError: an invalid value; then nothing is stored.
        """
        with self._locked():
            self._store(self._checked(values))

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
            store = self._attributes
            spec = store.spec(attribute_id, expected)
            if attribute_id not in attrs.MEASUREMENT_ATTRIBUTES:
                coerce = attrs.COERCIONS.get(attribute_id)
                store.set(_SESSION, attribute_id, expected, coerce(value) if coerce else value)
                return
            if not isinstance(value, (int, float)):
                raise DriverError(INVALID_VALUE, f"{spec.name} cannot be {value!r}.")
            function = int(store.value("", attrs.FUNCTION))
            range_ = float(store.value("", attrs.RANGE))
            digits = float(store.value("", attrs.RESOLUTION_DIGITS))
            if attribute_id == attrs.FUNCTION:
                if int(value) not in (spec.allowed or ()):
                    raise DriverError(INVALID_VALUE, f"function cannot be {value!r}.")
                self._configure(int(value), range_, digits, coerce_range=True)
            elif attribute_id == attrs.RANGE:
                self._configure(function, float(value), digits)
            elif attribute_id == attrs.RESOLUTION_DIGITS:
                self._configure(function, range_, float(value))
            else:
                digits = self._digits_for(self._effective_range, float(value))
                self._configure(function, range_, digits)

    def reset(self) -> None:
        """Abort and restore the default configuration."""
        with self._locked():
            self._restore_defaults()

    # --- acquisition -----------------------------------------------------------------------------

    def initiate(self) -> None:
        """Start an acquisition of the configured points (replacing a running one)."""
        with self._locked():
            self._initiate()

    def abort(self) -> None:
        """Stop the acquisition, if any; unfetched points are dropped."""
        with self._locked():
            self._acquisition = None
            self._condition.notify_all()

    def send_software_trigger(self) -> None:
        """Accepted: a simulated DMM's triggers fire by themselves (see :mod:`.dmm_acquisition`)."""
        with self._locked():
            pass

    def read_status(self) -> tuple[int, AcquisitionStatus]:
        """The backlog (points measured, not fetched) and the acquisition's state."""
        with self._locked():
            if self._acquisition is None:
                return 0, AcquisitionStatus.NO_ACQUISITION_IN_PROGRESS
            now = time.monotonic()
            return self._acquisition.backlog(now), self._acquisition.status(now)

    def fetch(
        self, count: int, maximum_time_ms: int, waiter: Waiter = IMMEDIATE_WAITER
    ) -> list[float]:
        """The next ``count`` points of the running acquisition, waiting for them if due later.

        ``maximum_time_ms`` is -1 (as long as the points take) or 0-86400000 ms.

        Raises:
            DriverError: invalid arguments; no acquisition (-1074118641); the points will never
                arrive, or not within ``maximum_time_ms`` (-1074126845); the session closed.
            WaitAbandonedError: the caller cancelled or its deadline passed.
            WaitBudgetExhaustedError: the fetch would sleep but the wait budget is full.
        """
        if count < 0:
            raise DriverError(INVALID_VALUE, f"Cannot fetch {count} points.")
        deadline = _deadline(maximum_time_ms)
        with self._locked():
            acquisition = self._running()
            if self._wake_time(acquisition, count, deadline) is None:
                return self._take(acquisition, count)
        with waiter.budget.slot() if waiter.budget is not None else nullcontext():
            waiter.caller.add_callback(self._wake_waiters)  # the RPC's end wakes this fetch
            with self._locked():
                while True:
                    if self._acquisition is not acquisition:
                        raise dmm_error(DATA_NOT_AVAILABLE, "The acquisition was aborted.")
                    wake = self._wake_time(acquisition, count, deadline)
                    if wake is None:
                        return self._take(acquisition, count)
                    if deadline_passed(waiter.caller):
                        raise WaitDeadlineExceededError("The caller's deadline passed in fetch.")
                    if not waiter.caller.is_active():
                        raise WaitAbandonedError("The caller cancelled a fetch.")
                    self._condition.wait(
                        sleep_for(waiter.caller, wake, waiter.cancel_check_interval)
                    )
                    self._check_open()

    def read(
        self, count: int, maximum_time_ms: int, waiter: Waiter = IMMEDIATE_WAITER
    ) -> list[float]:
        """Initiate, then fetch ``count`` points (``Read``, ``ReadMultiPoint``, ``ReadWaveform``).

        Raises:
            DriverError: see :meth:`fetch`.
        """
        _deadline(maximum_time_ms)  # invalid arguments fail before anything starts
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
            return self._model.self_cal_supported

    def self_calibrate(self) -> None:
        """Succeeds at once on models that self-calibrate.

        Raises:
            DriverError: the model does not self-calibrate.
        """
        with self._locked():
            if not self._model.self_cal_supported:
                raise dmm_error(FEATURE_NOT_SUPPORTED, f"The NI {self.model} has no self-cal.")
            self._acquisition = None

    def last_calibration(self, cal_type: int) -> CalibrationRecord:
        """The model's simulated calibration record (the same for either calibration type).

        Raises:
            DriverError: ``cal_type`` is not 0 (self) or 1 (external).
        """
        with self._locked():
            if cal_type not in CAL_TYPES:
                raise DriverError(INVALID_VALUE, f"Calibration type {cal_type} is not 0 or 1.")
            return self._model.calibration

    def ext_cal_recommended_interval_months(self) -> int:
        """NI's simulated recommendation (24 months)."""
        with self._locked():
            return EXT_CAL_INTERVAL_MONTHS

    def device_temperature(self) -> float:
        """The simulated board temperature in °C."""
        with self._locked():
            return SIMULATED_DEVICE_TEMPERATURE

    def cable_compensation(self) -> tuple[float, float]:
        """``(0, 0)``: a simulated DMM has no cable to compensate.

        Raises:
            DriverError: the function is not capacitance or inductance.
        """
        with self._locked():
            if int(self._attributes.value("", attrs.FUNCTION)) not in LC_FUNCTIONS:
                raise dmm_error(CABLE_COMP_NOT_ALLOWED)
            return 0.0, 0.0

    # --- attribute configuration export/import --------------------------------------------------

    def export_configuration(self) -> bytes:
        """The writable attributes, in :mod:`.dmm_configuration`'s format."""
        with self._locked():
            values = {
                spec.attribute_id: self._attributes.value("", spec.attribute_id)
                for spec in ATTRIBUTES
                if spec.writable and spec.attribute_id not in _DERIVED
            }
            return encode_configuration(self.model, values)

    def import_configuration(self, blob: bytes) -> None:
        """Restore an export: defaults first, then its values; all or nothing.

        Raises:
            DriverError: not an export of this simulator, or values this model refuses
                (invalid value).
        """
        values = decode_configuration(blob)
        with self._locked():
            snapshot = {
                spec.attribute_id: self._attributes.value("", spec.attribute_id)
                for spec in ATTRIBUTES
            }
            try:
                self._restore_defaults()
                self._store(self._checked(values.items()))
                store = self._attributes
                self._configure(
                    int(store.value("", attrs.FUNCTION)),
                    float(store.value("", attrs.RANGE)),
                    float(store.value("", attrs.RESOLUTION_DIGITS)),
                )
            except DriverError as error:
                for attribute_id, value in snapshot.items():
                    self._attributes.force(_SESSION, attribute_id, value)
                self._effective_range = float(snapshot[attrs.AUTO_RANGE_VALUE])
                raise DriverError(
                    INVALID_VALUE, f"The configuration does not apply: {error.description}"
                ) from None

    def export_configuration_file(self, path: str) -> None:
        """Write :meth:`export_configuration` to ``path`` (on the server's machine).

        Raises:
            DriverError: the file cannot be written.
        """
        blob = self.export_configuration()
        try:
            Path(path).write_bytes(blob)
        except OSError as error:
            raise DriverError(INVALID_VALUE, f"Cannot write {path!r}: {error}") from None

    def import_configuration_file(self, path: str) -> None:
        """:meth:`import_configuration` of the file at ``path`` (on the server's machine).

        Raises:
            DriverError: the file cannot be read, or see :meth:`import_configuration`.
        """
        try:
            blob = Path(path).read_bytes()
        except OSError as error:
            raise DriverError(INVALID_VALUE, f"Cannot read {path!r}: {error}") from None
        self.import_configuration(blob)

    # --- internals (callers hold the lock) ------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the session's lock; the session must be open."""
        with self._condition:
            self._check_open()
            yield

    def _restore_defaults(self) -> None:
        """Drop the acquisition; every attribute to its default; the default measurement."""
        self._acquisition = None
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
        self._condition.notify_all()

    def _configure(
        self, function: int, range_: float, digits: float, *, coerce_range: bool = False
    ) -> None:
        """Validate and coerce the measurement, then store it and what follows from it.

        ``coerce_range``: a fixed range beyond the function's largest becomes the largest (a
        change of function) instead of being refused.
        """
        effective = self._coerced_range(function, range_, fallback_to_max=coerce_range)
        if not math.isfinite(digits) or digits > self._model.max_digits:
            raise DriverError(
                INVALID_VALUE, f"Resolution of {digits!r} digits is beyond the NI {self.model}."
            )
        coerced = next(value for value in DIGITS if value >= digits)
        self._store(
            [
                (attrs.FUNCTION, function),
                (attrs.RANGE, attrs.AUTO_RANGE_ON if range_ == attrs.AUTO_RANGE_ON else effective),
                (attrs.RESOLUTION_DIGITS, coerced),
                (attrs.AUTO_RANGE_VALUE, effective),
                (attrs.RESOLUTION_ABSOLUTE, resolution_absolute(effective, coerced)),
            ]
        )
        self._effective_range = effective

    def _coerced_range(self, function: int, range_: float, *, fallback_to_max: bool) -> float:
        """The range the model uses for ``range_`` (or an auto-range setting) of ``function``."""
        ranges = self._model.ranges.get(function)
        signal = SIGNALS.get(function)
        if ranges is None or signal is None:
            raise DriverError(
                INVALID_VALUE, f"The NI {self.model} does not measure function {function}."
            )
        if range_ in (attrs.AUTO_RANGE_ON, attrs.AUTO_RANGE_ONCE):
            if self._model.auto_range is AutoRange.MAXIMUM:
                return ranges[-1]
            return _coerce_range(ranges, abs(signal.simulated_input), signal.name, True)
        if range_ == attrs.AUTO_RANGE_OFF:
            return _coerce_range(ranges, self._effective_range, signal.name, True)
        if range_ >= 0 and math.isfinite(range_):
            return _coerce_range(ranges, range_, signal.name, fallback_to_max)
        raise DriverError(INVALID_VALUE, f"Range {range_!r} is not valid.")

    def _digits_for(self, effective_range: float, resolution: float) -> float:
        """The fewest digits that resolve ``resolution`` on the range; else the model's most."""
        if not (math.isfinite(resolution) and resolution > 0):
            raise DriverError(INVALID_VALUE, f"Resolution {resolution!r} is not valid.")
        for digits in DIGITS:
            if digits > self._model.max_digits:
                break
            if resolution_absolute(effective_range, digits) <= resolution * (1 + 1e-9):
                return digits
        return self._model.max_digits

    def _checked(self, values: Iterable[tuple[int, object]]) -> list[tuple[int, AttributeValue]]:
        """``values`` as the driver would store them, checked on a scratch copy of the defaults.

        Raises:
            DriverError: unknown or read-only attribute, or an invalid value.
        """
        scratch = AttributeStore(ATTRIBUTES, _SESSION)
        checked: list[tuple[int, AttributeValue]] = []
        for attribute_id, value in values:
            spec = attrs.SPECS.get(attribute_id)
            if spec is None:
                raise DriverError(INVALID_ATTRIBUTE, f"Attribute ID: {attribute_id}")
            coerce = attrs.COERCIONS.get(attribute_id)
            scratch.set(_SESSION, attribute_id, spec.type, coerce(value) if coerce else value)
            checked.append((attribute_id, scratch.value("", attribute_id)))
        return checked

    def _store(self, values: Iterable[tuple[int, AttributeValue]]) -> None:
        for attribute_id, value in values:
            self._attributes.force(_SESSION, attribute_id, value)

    def _initiate(self) -> None:
        """Start the configured acquisition now (see :mod:`.dmm_acquisition`)."""
        value = self._attributes.value
        if int(value("", attrs.OPERATION_MODE)) == attrs.WAVEFORM_MODE:
            points = int(value("", attrs.WAVEFORM_POINTS))
            period = 1.0 / float(value("", attrs.WAVEFORM_RATE))
        else:
            points = int(value("", attrs.SAMPLE_COUNT))
            interval = float(value("", attrs.SAMPLE_INTERVAL))
            by_interval = int(value("", attrs.SAMPLE_TRIGGER)) == attrs.SAMPLE_TRIGGER_INTERVAL
            period = interval if by_interval and interval > 0 else 0.0
        delay = max(float(value("", attrs.TRIGGER_DELAY)), 0.0)  # auto delay: none to simulate
        schedule = Schedule(int(value("", attrs.TRIGGER_COUNT)), points, delay, period)
        self._acquisition = Acquisition(schedule, time.monotonic())
        self._condition.notify_all()

    def _running(self) -> Acquisition:
        if self._acquisition is None:
            raise dmm_error(DATA_NOT_AVAILABLE, "Call initiate before fetching.")
        return self._acquisition

    def _wake_time(
        self, acquisition: Acquisition, count: int, deadline: float | None
    ) -> float | None:
        """None if the ``count`` points are measured; else when to look again.

        Raises:
            DriverError: the points will never all arrive, or ``deadline`` passed (-1074126845).
        """
        ready = acquisition.ready_at(count)
        total = acquisition.schedule.total
        if ready is None:
            left = 0 if total is None else total - acquisition.fetched
            raise dmm_error(MAX_TIME_EXCEEDED, f"{count} points asked for; {left} will arrive.")
        now = time.monotonic()
        if ready <= now:
            return None
        if deadline is not None and now >= deadline:
            raise dmm_error(MAX_TIME_EXCEEDED, f"{count} points did not arrive in time.")
        return ready if deadline is None else min(ready, deadline)

    def _take(self, acquisition: Acquisition, count: int) -> list[float]:
        acquisition.take(count)
        return [self._reading() for _ in range(count)]

    def _reading(self) -> float:
        """One noisy reading of the configured function, NaN if over range."""
        signal = SIGNALS[int(self._attributes.value("", attrs.FUNCTION))]
        resolution = float(self._attributes.value("", attrs.RESOLUTION_ABSOLUTE))
        if abs(signal.simulated_input) > self._effective_range:
            return math.nan
        noisy = signal.simulated_input + self._random.gauss(0.0, resolution)
        return round(noisy / resolution) * resolution

    def _wake_waiters(self) -> None:
        with self._condition:
            self._condition.notify_all()


def _check_not_waveform(function: int) -> None:
    if function in WAVEFORM_FUNCTIONS:
        raise DriverError(INVALID_VALUE, "Configure waveforms with ConfigureWaveformAcquisition.")


def _deadline(maximum_time_ms: int) -> float | None:
    """The :func:`time.monotonic` time ``maximum_time_ms`` from now; None for -1 (auto).

    Raises:
        DriverError: not -1 or 0-86400000.
    """
    if maximum_time_ms == TIME_LIMIT_AUTO:
        return None
    if not 0 <= maximum_time_ms <= MAX_TIME_LIMIT_MS:
        raise DriverError(INVALID_VALUE, f"Maximum time {maximum_time_ms} ms is not valid.")
    return time.monotonic() + maximum_time_ms / 1000.0


def _coerce_range(
    ranges: tuple[float, ...], wanted: float, name: str, fallback_to_max: bool
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
