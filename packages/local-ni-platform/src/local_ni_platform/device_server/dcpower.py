"""A simulated NI-DCPower session: SMU channels sourcing into a fixed resistive load.

The model, chosen so that NI's own acceptance expectations hold (5 V with a 10 mA limit measures
5 V and 0.1 mA):

- Every channel drives :data:`LOAD_RESISTANCE_OHMS` (50 kΩ) unless the session is created with
  another load.
- DC voltage: the channel sources ``voltage_level``; the current is ``V / R``. If that exceeds
  ``current_limit`` the channel is in compliance: the current is clamped at ±limit and the voltage
  becomes ``limit · R``.
- DC current: the channel sources ``current_level``; the voltage is ``I · R``, clamped at
  ±``voltage_limit`` (then in compliance, current ``limit / R``).
- Output disabled: 0 V, 0 A, not in compliance.
- Measuring does not require ``initiate`` (the real driver commits implicitly); it reports the
  channel's current configuration.
- ``initiate`` schedules every event (source complete, measure complete, …) of its channels at
  ``now + source_delay``; ``wait_for_event`` waits for that moment in real time and consumes the
  event, or fails after ``timeout`` seconds with NI-DCPower's timeout error -1074116059 (an event
  not generated since the last wait or initiate is never pending). ``abort`` and ``reset`` clear
  pending events. A wait also ends when its caller cancels or its deadline passes, and only a
  wait that must sleep takes a slot of the device server's wait budget
  (:mod:`local_ni_platform.waits`).
- At ``initiate``/``commit``, a level or limit beyond its range is an invalid-value error.

Channels come from the resource name, with as many channels per instrument as the session's
model has (:mod:`.dcpower_models`; ``Model:4162`` gives 12); :mod:`.dcpower_channels` parses
resource names and channel strings in time linear in their length. A session opened without
independent channels (``InitializeWithChannels``) names its channels by number and refuses a
subset of them where NI-DCPower does. Channels are not reserved across sessions.

Beyond sourcing and measuring: ``fetch_multiple`` returns the present measurement ``count``
times; the limit queries answer with the model's numbers; advanced sequences are kept as
bookkeeping (:mod:`.dcpower_sequences`); an LCR model (PXIe-4190) measures an ideal resistor
(:mod:`.dcpower_lcr`); calibration answers are the constants NI's simulated driver gives
(:data:`CALIBRATION_DATE`, 25 °C). NI's simulated SMU reports 10 µA whatever it sources; this one
keeps its resistive load so that compliance behaves as on a bench.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass

import nidcpower.session

from local_ni_platform.device_server.attributes import (
    CHANNEL_COUNT,
    DRIVER_SETUP,
    INSTRUMENT_MODEL,
    AttributeSpec,
    AttributeStore,
    AttributeType,
    AttributeValue,
    ivi_inherent_attributes,
)
from local_ni_platform.device_server.catalog import driver_catalog
from local_ni_platform.device_server.configuration import (
    decode_configuration,
    encode_configuration,
)
from local_ni_platform.device_server.dcpower_channels import ChannelTable
from local_ni_platform.device_server.dcpower_lcr import (
    LCR_MODE,
    LcrMeasurement,
    LcrSettings,
    measure_lcr,
)
from local_ni_platform.device_server.dcpower_models import (
    DEFAULT_BOARD_TYPE,
    DEFAULT_MODEL,
    MODELS,
)
from local_ni_platform.device_server.dcpower_sequences import ChannelSequences
from local_ni_platform.device_server.driver_setup import (
    parse_driver_setup,
    simulation_requested,
)
from local_ni_platform.device_server.errors import (
    ALL_CHANNELS_REQUIRED,
    CHANNEL_NAME_NOT_ALLOWED,
    DCPOWER_EVENT_TIMEOUT,
    INVALID_VALUE,
    NOT_SUPPORTED_BY_DEVICE,
    RESOURCE_NOT_FOUND,
    SINGLE_CHANNEL_REQUIRED,
    DriverError,
    WaitAbandonedError,
    WaitDeadlineExceededError,
)
from local_ni_platform.device_server.instrument import SimulatedSession
from local_ni_platform.waits import (
    DEFAULT_CANCEL_CHECK_INTERVAL,
    UNBOUNDED,
    Caller,
    WaitBudget,
    deadline_passed,
    sleep_for,
)

LOAD_RESISTANCE_OHMS = 50_000.0
"""Simulated load on every channel: 5 V → 0.1 mA, inside NI's default 10 mA limit."""


# Attribute ids (NI-DCPower's NIDCPOWER_ATTR_*).
OUTPUT_FUNCTION = 1150008
SOURCE_MODE = 1150054
MEASURE_WHEN = 1150057
OUTPUT_ENABLED = 1250006
VOLTAGE_LEVEL = 1250001
VOLTAGE_LEVEL_RANGE = 1150005
CURRENT_LIMIT = 1250005
CURRENT_LIMIT_RANGE = 1150004
CURRENT_LEVEL = 1150009
CURRENT_LEVEL_RANGE = 1150011
VOLTAGE_LIMIT = 1150010
VOLTAGE_LIMIT_RANGE = 1150012
SOURCE_DELAY = 1150051
POWER_LINE_FREQUENCY = 1150020
MEASURE_RECORD_LENGTH = 1150063
MEASURE_RECORD_DELTA_TIME = 1150065
APERTURE_TIME = 1150058
APERTURE_TIME_UNITS = 1150059
ACTIVE_ADVANCED_SEQUENCE = 1150074
ACTIVE_ADVANCED_SEQUENCE_STEP = 1150075
INSTRUMENT_MODE = 1150208
LCR_STIMULUS_FUNCTION = 1150209
LCR_FREQUENCY = 1150210
LCR_VOLTAGE_AMPLITUDE = 1150211
LCR_CURRENT_AMPLITUDE = 1150212
LCR_DC_BIAS_SOURCE = 1150213
LCR_DC_BIAS_VOLTAGE_LEVEL = 1150214
LCR_DC_BIAS_CURRENT_LEVEL = 1150215

DRIVER_NAME = "NI-DCPower"

LIMIT_QUERIES = {
    "max_current_limit": ("max_voltage", "max_current"),
    "max_voltage_level": ("max_current", "max_voltage"),
    "min_current_limit": ("max_voltage", "min_current_limit"),
}
"""``query_<which>(level)``: the model's bound on ``level`` and the model's answer (both
:class:`~.dcpower_models.SmuModel` fields)."""
_TIMING_ATTRIBUTES = frozenset({APERTURE_TIME, APERTURE_TIME_UNITS, POWER_LINE_FREQUENCY})
_SEQUENCE_ATTRIBUTES = (ACTIVE_ADVANCED_SEQUENCE, ACTIVE_ADVANCED_SEQUENCE_STEP)
"""Not exported: they name sequences, which a configuration does not carry."""

INSTRUMENT_ATTRIBUTES = frozenset({1050510, 1050511, 1050512, 1150073, 1150105, 1150152})
"""Attributes of the instrument rather than of a channel (firmware revision, manufacturer,
model, self-calibration persistence, interlock input, serial number)."""

# Attribute values and function parameters.
DC_VOLTAGE = 1006
DC_CURRENT = 1007
SINGLE_POINT = 1020
SEQUENCE = 1021
EVENTS = frozenset({1030, 1031, 1032, 1033, 1051, 1052})
"""SOURCE_COMPLETE, MEASURE_COMPLETE, SEQUENCE_ITERATION_COMPLETE, SEQUENCE_ENGINE_DONE,
PULSE_COMPLETE, READY_FOR_PULSE_TRIGGER."""
MEASURE_CURRENT = 0
MEASURE_VOLTAGE = 1
SECONDS = 1028
SMU_PS = 1061
CONSTANT_VOLTAGE = 0
CONSTANT_CURRENT = 1
CALIBRATION_DATE = (1940, 3, 1, 0, 0)
"""What NI's simulated drivers report as every calibration's date (year, month, day, h, min)."""
CALIBRATION_TEMPERATURE = 25.0
EXTERNAL_CALIBRATION_INTERVAL_MONTHS = 12

DESCRIBED_ATTRIBUTES = (
    *ivi_inherent_attributes(channel_count=0),
    AttributeSpec(
        OUTPUT_FUNCTION,
        "output_function",
        AttributeType.INT32,
        DC_VOLTAGE,
        allowed=frozenset({DC_VOLTAGE, DC_CURRENT}),
    ),
    AttributeSpec(
        SOURCE_MODE,
        "source_mode",
        AttributeType.INT32,
        SINGLE_POINT,
        allowed=frozenset({SINGLE_POINT, SEQUENCE}),
    ),
    AttributeSpec(
        MEASURE_WHEN,
        "measure_when",
        AttributeType.INT32,
        1026,
        allowed=frozenset({1025, 1026, 1027}),
    ),
    AttributeSpec(OUTPUT_ENABLED, "output_enabled", AttributeType.BOOLEAN, True),
    AttributeSpec(VOLTAGE_LEVEL, "voltage_level", AttributeType.REAL64, 0.0),
    AttributeSpec(
        VOLTAGE_LEVEL_RANGE, "voltage_level_range", AttributeType.REAL64, 6.0, minimum=0.0
    ),
    AttributeSpec(CURRENT_LIMIT, "current_limit", AttributeType.REAL64, 0.01, minimum=0.0),
    AttributeSpec(
        CURRENT_LIMIT_RANGE, "current_limit_range", AttributeType.REAL64, 0.01, minimum=0.0
    ),
    AttributeSpec(CURRENT_LEVEL, "current_level", AttributeType.REAL64, 0.0),
    AttributeSpec(
        CURRENT_LEVEL_RANGE, "current_level_range", AttributeType.REAL64, 0.01, minimum=0.0
    ),
    AttributeSpec(VOLTAGE_LIMIT, "voltage_limit", AttributeType.REAL64, 6.0, minimum=0.0),
    AttributeSpec(
        VOLTAGE_LIMIT_RANGE, "voltage_limit_range", AttributeType.REAL64, 6.0, minimum=0.0
    ),
    AttributeSpec(SOURCE_DELAY, "source_delay", AttributeType.REAL64, 0.0, minimum=0.0),
    AttributeSpec(APERTURE_TIME, "aperture_time", AttributeType.REAL64, 0.01666, minimum=0.0),
    AttributeSpec(
        POWER_LINE_FREQUENCY, "power_line_frequency", AttributeType.REAL64, 60.0, minimum=1.0
    ),
    AttributeSpec(
        MEASURE_RECORD_LENGTH, "measure_record_length", AttributeType.INT32, 1, minimum=1
    ),
    AttributeSpec(
        MEASURE_RECORD_DELTA_TIME,
        "measure_record_delta_time",
        AttributeType.REAL64,
        0.01666,
        writable=False,
    ),
    AttributeSpec(APERTURE_TIME_UNITS, "aperture_time_units", AttributeType.INT32, SECONDS),
    AttributeSpec(ACTIVE_ADVANCED_SEQUENCE, "active_advanced_sequence", AttributeType.STRING, ""),
    AttributeSpec(
        ACTIVE_ADVANCED_SEQUENCE_STEP, "active_advanced_sequence_step", AttributeType.INT64, 0
    ),
    AttributeSpec(INSTRUMENT_MODE, "instrument_mode", AttributeType.INT32, SMU_PS),
    AttributeSpec(LCR_STIMULUS_FUNCTION, "lcr_stimulus_function", AttributeType.INT32, 1063),
    AttributeSpec(LCR_FREQUENCY, "lcr_frequency", AttributeType.REAL64, 1_000.0, minimum=0.0),
    AttributeSpec(LCR_VOLTAGE_AMPLITUDE, "lcr_voltage_amplitude", AttributeType.REAL64, 0.7),
    AttributeSpec(LCR_CURRENT_AMPLITUDE, "lcr_current_amplitude", AttributeType.REAL64, 0.7e-3),
    AttributeSpec(LCR_DC_BIAS_SOURCE, "lcr_dc_bias_source", AttributeType.INT32, 1065),
    AttributeSpec(
        LCR_DC_BIAS_VOLTAGE_LEVEL, "lcr_dc_bias_voltage_level", AttributeType.REAL64, 0.0
    ),
    AttributeSpec(
        LCR_DC_BIAS_CURRENT_LEVEL, "lcr_dc_bias_current_level", AttributeType.REAL64, 0.0
    ),
)
"""The attributes the simulation gives meaning to; :data:`ATTRIBUTES` adds the rest of NI's."""

READ_ONLY_ATTRIBUTES = (
    1050302, 1050304, 1050305, 1050327, 1050510, 1050513, 1050514, 1050551, 1150001, 1150002,
    1150056, 1150105, 1150152, 1150205,
)  # fmt: skip
"""What NI documents as read-only beyond the rows above (driver identity, power source, fetch
backlog, record delta time, interlock, serial number, power allocation)."""

ATTRIBUTES = driver_catalog(
    nidcpower.session._SessionBase, DESCRIBED_ATTRIBUTES, read_only=READ_ONLY_ATTRIBUTES
)
"""Every attribute NI's ``nidcpower`` client declares (see :mod:`.catalog`)."""


@dataclass(frozen=True)
class Measurement:
    """What a channel measures."""

    voltage: float
    current: float
    in_compliance: bool


class DCPowerSession(SimulatedSession):
    """One simulated NI-DCPower session (independent channels)."""

    def __init__(
        self,
        resource_name: str,
        option_string: str = "",
        *,
        load_resistance: float = LOAD_RESISTANCE_OHMS,
        channels: str | None = None,
    ) -> None:
        """Open the channels named by ``resource_name``.

        ``channels`` is None for an independent-channels session; otherwise the session is one
        without independent channels (NI's deprecated ``InitializeWithChannels``) over those
        channel numbers ("" for all), opened only when the options ask for simulation.

        Raises:
            DriverError: unknown model; empty or malformed resource name; a channel the model
                lacks or named twice; a session without independent channels not simulated.
        """
        super().__init__(resource_name=resource_name, option_string=option_string)
        self.setup = parse_driver_setup(
            option_string,
            MODELS,
            default_model=DEFAULT_MODEL,
            default_board_type=DEFAULT_BOARD_TYPE,
        )
        self.smu = self.setup.model
        per_instrument = self.smu.channels
        if channels is None:
            self.channels = ChannelTable.independent_channels(resource_name, per_instrument)
        elif simulation_requested(option_string):
            self.channels = ChannelTable.numbered_channels(resource_name, channels, per_instrument)
        else:  # NI's driver finds no such hardware here
            raise DriverError(RESOURCE_NOT_FOUND, f"Invalid Identifier: {resource_name}")
        self.channel_names: tuple[str, ...] = tuple(self.channels.names)
        self.load_resistance = load_resistance
        self._attributes = AttributeStore(ATTRIBUTES, self.channel_names)
        self._events: dict[str, dict[int, float]] = {name: {} for name in self.channel_names}
        self._sequences = {name: ChannelSequences() for name in self.channel_names}
        self._apply_identity(self.channel_names)

    # --- channels -----------------------------------------------------------------------------

    def resolve_channels(self, channel_string: str) -> list[str]:
        """The session's channels named by ``channel_string`` ("" means all), in order.

        Raises:
            DriverError: a name that is not a channel or instrument of this session.
        """
        return self.channels.resolve(channel_string)

    def _whole_session(self, channel_string: str) -> list[str]:
        """Like :meth:`resolve_channels`, but a session without independent channels takes only
        all of its channels (NI-DCPower's -1074118494 otherwise).
        """
        channels = self.channels.resolve(channel_string)
        if not self.channels.independent and not self.channels.is_whole_session(channels):
            raise DriverError(ALL_CHANNELS_REQUIRED, f"Channel string: {channel_string}")
        return channels

    def channel_names_at(self, indices: str) -> str:
        """Comma-separated names of the channels at zero-based ``indices`` (``"0,1"``, ``"0-3"``).

        Raises:
            DriverError: malformed or out-of-range index.
        """
        return self.channels.names_at(indices)

    def channel_name(self, index: int) -> str:
        """The name of the channel at one-based ``index`` (NI-DCPower's ``GetChannelName``).

        Raises:
            DriverError: out-of-range index.
        """
        if not 1 <= index <= len(self.channel_names):
            raise DriverError(INVALID_VALUE, f"Channel index {index} is out of range (1-based).")
        return self.channel_names[index - 1]

    # --- attributes ---------------------------------------------------------------------------

    def get_attribute(
        self, channel_string: str, attribute_id: int, expected: AttributeType
    ) -> AttributeValue:
        """The attribute's value on the named channels (which must agree).

        Raises:
            DriverError: unknown channel or attribute, wrong type, or differing values.
        """
        with self._condition:
            self._check_open()
            channels = self._attribute_channels(channel_string, attribute_id)
            return self._attributes.get(channels, attribute_id, expected)

    def set_attribute(
        self, channel_string: str, attribute_id: int, expected: AttributeType, value: object
    ) -> None:
        """Set the attribute on the named channels.

        Raises:
            DriverError: unknown channel or attribute, wrong type, read-only or invalid value.
        """
        with self._condition:
            self._check_open()
            channels = self._attribute_channels(channel_string, attribute_id)
            if attribute_id == ACTIVE_ADVANCED_SEQUENCE:
                self._attributes.spec(attribute_id, expected)
                for channel in channels:
                    self._sequences[channel].activate(str(value))
            self._attributes.set(channels, attribute_id, expected, value)
            if attribute_id in _TIMING_ATTRIBUTES:
                self._update_record_delta_time(channels)

    def configure(self, values: Iterable[tuple[int, object]], channel_string: str = "") -> None:
        """Set several attributes on the channels, all or none (NI's ``Configure*`` calls).

        Raises:
            DriverError: unknown channel or attribute, or an invalid value; nothing is set.
        """
        with self._condition:
            self._check_open()
            before = self._attributes.snapshot()
            try:
                for attribute_id, value in values:
                    spec = self._attributes.spec_of(attribute_id)
                    self.set_attribute(channel_string, attribute_id, spec.type, value)
            except DriverError:
                self._attributes.restore(before)
                raise

    def _update_record_delta_time(self, channels: Iterable[str]) -> None:
        """A record's points are one aperture apart (in seconds, or power-line cycles)."""
        value = self._attributes.value
        for channel in channels:
            aperture = float(value(channel, APERTURE_TIME))
            if value(channel, APERTURE_TIME_UNITS) != SECONDS:
                aperture /= float(value(channel, POWER_LINE_FREQUENCY))
            self._attributes.force([channel], MEASURE_RECORD_DELTA_TIME, aperture)

    def _attribute_channels(self, channel_string: str, attribute_id: int) -> list[str]:
        """The channels an attribute call names; instrument attributes take no channel name in a
        session without independent channels (-1074134971).
        """
        if (
            attribute_id in INSTRUMENT_ATTRIBUTES
            and not self.channels.independent
            and channel_string.strip()
        ):
            raise DriverError(CHANNEL_NAME_NOT_ALLOWED, f"Channel name: {channel_string}")
        return self.resolve_channels(channel_string)

    # --- acquisition --------------------------------------------------------------------------

    def initiate(self, channel_string: str) -> None:
        """Start sourcing: validate, then schedule every event at ``now + source_delay``."""
        with self._condition:
            self._check_open()
            channels = self._whole_session(channel_string)
            self._validate_ranges(channels)
            now = time.monotonic()
            for channel in channels:
                delay = float(self._attributes.value(channel, SOURCE_DELAY))
                self._events[channel] = dict.fromkeys(EVENTS, now + delay)
            self._condition.notify_all()

    def commit(self, channel_string: str) -> None:
        """Apply (validate) the configuration without generating events."""
        with self._condition:
            self._check_open()
            self._validate_ranges(self._whole_session(channel_string))

    def abort(self, channel_string: str) -> None:
        """Stop generation: pending events are dropped; the output keeps its level."""
        with self._condition:
            self._check_open()
            self._clear_events(self._whole_session(channel_string))

    def _clear_events(self, channels: Iterable[str]) -> None:
        """Drop pending events and wake waiters (callers hold the lock)."""
        for channel in channels:
            self._events[channel] = {}
        self._condition.notify_all()

    def reset(self, channel_string: str) -> None:
        """Abort and restore the default configuration of the named channels."""
        with self._condition:
            self._check_open()
            channels = self._whole_session(channel_string)
            self._clear_events(channels)
            self._attributes.reset(channels)
            self._apply_identity(channels)
            for channel in channels:
                self._sequences[channel] = ChannelSequences()

    def wait_for_event(
        self,
        channel_string: str,
        event_id: int,
        timeout: float,
        *,
        caller: Caller = UNBOUNDED,
        budget: WaitBudget | None = None,
        cancel_check_interval: float = DEFAULT_CANCEL_CHECK_INTERVAL,
    ) -> None:
        """Wait until ``event_id`` occurred on every named channel and consume it.

        ``timeout`` is in seconds; a negative timeout waits without limit. ``caller`` (the RPC's
        context) ends the wait when it cancels or its deadline passes: its termination callback
        wakes the waiter, no sleep lasts past its deadline, and it is re-checked at least every
        ``cancel_check_interval`` seconds. Only a call that must sleep takes a slot of
        ``budget``.

        Raises:
            DriverError: unknown event; the timeout elapsed (-1074116059); the session closed.
            WaitAbandonedError: the caller cancelled (:class:`WaitDeadlineExceededError`: its
                deadline passed).
            WaitBudgetExhaustedError: the call would sleep but ``budget`` is full.
        """
        if event_id not in EVENTS:
            raise DriverError(INVALID_VALUE, f"Event ID {event_id} is not an NI-DCPower event.")
        deadline = None if timeout < 0 else time.monotonic() + timeout
        with self._condition:
            self._check_open()
            channels = self._whole_session(channel_string)
            if self._consume_event(channels, event_id, timeout, deadline) is None:
                return
        with budget.slot() if budget is not None else nullcontext():
            # The RPC's end (cancel, deadline, server stop) wakes this waiter at once.
            caller.add_callback(self._wake_waiters)
            with self._condition:
                while True:
                    self._check_open()
                    wake = self._consume_event(channels, event_id, timeout, deadline)
                    if wake is None:
                        return
                    if deadline_passed(caller):
                        raise WaitDeadlineExceededError(
                            f"The caller's deadline passed while waiting for event {event_id} "
                            f"on {','.join(channels)}."
                        )
                    if not caller.is_active():
                        raise WaitAbandonedError(
                            f"The caller cancelled while waiting for event {event_id} on "
                            f"{','.join(channels)}."
                        )
                    self._condition.wait(sleep_for(caller, wake, cancel_check_interval))

    def _consume_event(
        self, channels: list[str], event_id: int, timeout: float, deadline: float | None
    ) -> float | None:
        """Consume the event if it occurred on every channel (None); else when to look again.

        The returned time is :func:`time.monotonic`-based and may be ``inf`` (nothing pending,
        no timeout). Callers hold the lock.

        Raises:
            DriverError: the timeout elapsed (-1074116059).
        """
        now = time.monotonic()
        due = [self._events[channel].get(event_id) for channel in channels]
        latest = max((at for at in due if at is not None), default=now)
        if None not in due and latest <= now:
            for channel in channels:
                self._events[channel].pop(event_id, None)
            return None
        if deadline is not None and now >= deadline:
            raise DriverError(
                DCPOWER_EVENT_TIMEOUT,
                f"Event {event_id} on {','.join(channels)} within {timeout:g} s.",
            )
        wake = math.inf if None in due else latest
        return wake if deadline is None else min(wake, deadline)

    def _wake_waiters(self) -> None:
        with self._condition:
            self._condition.notify_all()

    def measure_multiple(self, channel_string: str) -> list[Measurement]:
        """One measurement per named channel, in order."""
        with self._condition:
            self._check_open()
            return [self._measure(channel) for channel in self.resolve_channels(channel_string)]

    def measure(self, channel_string: str, measurement_type: int) -> float:
        """Voltage (1) or current (0) of one channel.

        Raises:
            DriverError: not exactly one channel, or an unknown measurement type.
        """
        with self._condition:
            self._check_open()
            channels = self.resolve_channels(channel_string)
            if len(channels) != 1:
                raise DriverError(INVALID_VALUE, "Measure needs exactly one channel.")
            measurement = self._measure(channels[0])
        if measurement_type == MEASURE_VOLTAGE:
            return measurement.voltage
        if measurement_type == MEASURE_CURRENT:
            return measurement.current
        raise DriverError(INVALID_VALUE, f"Measurement type {measurement_type} is not valid.")

    def query_in_compliance(self, channel_string: str) -> bool:
        """Whether any named channel is at its limit."""
        return any(
            measurement.in_compliance for measurement in self.measure_multiple(channel_string)
        )

    def fetch_multiple(self, channel_string: str, count: int) -> list[Measurement]:
        """``count`` measurements of one channel, each of its present configuration.

        Raises:
            DriverError: not exactly one channel, or a negative count.
        """
        with self._condition:
            self._check_open()
            channel = self._one_channel(channel_string)
            if count < 0:
                raise DriverError(INVALID_VALUE, f"Count {count} is not valid.")
            return [self._measure(channel)] * count

    def query_output_state(self, channel_string: str, output_state: int) -> bool:
        """Whether the channel regulates voltage (0) or current (1) now.

        Raises:
            DriverError: not exactly one channel, or an unknown state.
        """
        with self._condition:
            self._check_open()
            channel = self._one_channel(channel_string)
            measurement = self._measure(channel)
            sources_voltage = self._attributes.value(channel, OUTPUT_FUNCTION) == DC_VOLTAGE
        if output_state not in (CONSTANT_VOLTAGE, CONSTANT_CURRENT):
            return False  # INHIBITED: the simulated outputs are never inhibited
        regulates_voltage = sources_voltage != measurement.in_compliance
        return regulates_voltage == (output_state == CONSTANT_VOLTAGE)

    def query_limit(self, channel_string: str, which: str, level: float) -> float:
        """The model's answer to ``query_<which>`` (see :data:`LIMIT_QUERIES`) for ``level``.

        Raises:
            DriverError: not exactly one channel, or a level beyond the model.
        """
        with self._condition:
            self._check_open()
            self._one_channel(channel_string)
        bound, answer = LIMIT_QUERIES[which]
        if level > getattr(self.smu, bound):
            raise DriverError(INVALID_VALUE, f"{level:g} is beyond the PXIe-{self.smu.number}.")
        return float(getattr(self.smu, answer))

    def configure_aperture_time(
        self, channel_string: str, aperture_time: float, units: int
    ) -> None:
        """Set the aperture time and its units together.

        Raises:
            DriverError: unknown channel, negative time or unknown units.
        """
        with self._condition:
            self._check_open()
            channels = self.resolve_channels(channel_string)
            self._attributes.set(channels, APERTURE_TIME_UNITS, AttributeType.INT32, units)
            self._attributes.set(channels, APERTURE_TIME, AttributeType.REAL64, aperture_time)
            self._update_record_delta_time(channels)

    def set_sequence(self, channel_string: str, values: list[float], delays: list[float]) -> None:
        """Accept a simple sequence (the simulation keeps no sequence output).

        Raises:
            DriverError: unknown channel, or as many delays as values were not given.
        """
        with self._condition:
            self._check_open()
            self.resolve_channels(channel_string)
            if delays and len(delays) != len(values):
                raise DriverError(INVALID_VALUE, "Give one source delay per value, or none.")

    def disable(self) -> None:
        """Stop generation and disable every output."""
        with self._condition:
            self._check_open()
            self._clear_events(self.channel_names)
            self._attributes.force(self.channel_names, OUTPUT_ENABLED, False)

    def send_software_edge_trigger(self, channel_string: str) -> None:
        """Accept a software trigger on the channels (the simulation acts at once anyway).

        Raises:
            DriverError: several channels in a session without independent channels.
        """
        with self._condition:
            self._check_open()
            channels = self.resolve_channels(channel_string)
            if not self.channels.independent and len(self.channel_names) > 1:
                raise DriverError(SINGLE_CHANNEL_REQUIRED, f"Channels: {','.join(channels)}")

    def export_configuration(self) -> bytes:
        """Every channel's writable attributes, in :mod:`.configuration`'s format."""
        with self._condition:
            self._check_open()
            values = self._attributes.writable_values(excluded=_SEQUENCE_ATTRIBUTES)
            return encode_configuration(DRIVER_NAME, self.smu.number, values)

    def import_configuration(self, configuration: bytes) -> None:
        """Restore an export of a session with the same channels; all or nothing.

        Raises:
            DriverError: not such an export, or values a client could not set.
        """
        values = decode_configuration(configuration, DRIVER_NAME)
        with self._condition:
            self._check_open()
            self._attributes.apply(values)
            self._update_record_delta_time(self.channel_names)

    # --- advanced sequences -------------------------------------------------------------------

    def create_advanced_sequence(
        self, channel_string: str, name: str, attribute_ids: list[int], *, make_active: bool
    ) -> None:
        """Create a sequence on each named channel.

        Raises:
            DriverError: unknown channel or attribute, or an empty name.
        """
        with self._condition:
            self._check_open()
            channels = self.resolve_channels(channel_string)
            for attribute_id in attribute_ids:
                self._attributes.spec_of(attribute_id)
            for channel in channels:
                self._sequences[channel].create(name, tuple(attribute_ids), make_active=make_active)
                self._sync_sequence_attributes(channel)

    def create_advanced_sequence_step(
        self, channel_string: str, *, make_active: bool, commit: bool = False
    ) -> None:
        """Add a step to the active sequence of each named channel.

        Raises:
            DriverError: no active sequence; a commit step on a model without them.
        """
        with self._condition:
            self._check_open()
            channels = self.resolve_channels(channel_string)
            if commit and not self.smu.commit_steps:
                raise DriverError(NOT_SUPPORTED_BY_DEVICE, f"PXIe-{self.smu.number}: commit step")
            for channel in channels:
                step = self._sequences[channel].add_step(commit=commit)
                if make_active:
                    self._attributes.force([channel], ACTIVE_ADVANCED_SEQUENCE_STEP, step)

    def delete_advanced_sequence(self, channel_string: str, name: str) -> None:
        """Delete the sequence on each named channel.

        Raises:
            DriverError: no such sequence.
        """
        with self._condition:
            self._check_open()
            for channel in self.resolve_channels(channel_string):
                self._sequences[channel].delete(name)
                self._sync_sequence_attributes(channel)

    def _sync_sequence_attributes(self, channel: str) -> None:
        self._attributes.force([channel], ACTIVE_ADVANCED_SEQUENCE, self._sequences[channel].active)

    # --- LCR ----------------------------------------------------------------------------------

    def measure_lcr(self, channel_string: str, count: int | None = None) -> list[LcrMeasurement]:
        """One LCR measurement per named channel, or ``count`` of one channel.

        Raises:
            DriverError: not an LCR model, or a channel not in LCR mode.
        """
        with self._condition:
            self._check_open()
            self._require_lcr()
            channels = (
                self.resolve_channels(channel_string)
                if count is None
                else [self._one_channel(channel_string)] * count
            )
            return [measure_lcr(self._lcr_settings(channel)) for channel in channels]

    def lcr_compensate(self, channel_string: str) -> None:
        """Accept an LCR compensation (the ideal simulated fixture needs none).

        Raises:
            DriverError: not an LCR model, or an unknown channel.
        """
        with self._condition:
            self._check_open()
            self._require_lcr()
            self.resolve_channels(channel_string)

    def _require_lcr(self) -> None:
        if not self.smu.lcr:
            raise DriverError(NOT_SUPPORTED_BY_DEVICE, f"PXIe-{self.smu.number} has no LCR meter.")

    def _lcr_settings(self, channel: str) -> LcrSettings:
        value = self._attributes.value
        if value(channel, INSTRUMENT_MODE) != LCR_MODE:
            raise DriverError(INVALID_VALUE, f"{channel} is not in LCR mode (instrument_mode).")
        return LcrSettings(
            stimulus_function=int(value(channel, LCR_STIMULUS_FUNCTION)),
            frequency=float(value(channel, LCR_FREQUENCY)),
            voltage_amplitude=float(value(channel, LCR_VOLTAGE_AMPLITUDE)),
            current_amplitude=float(value(channel, LCR_CURRENT_AMPLITUDE)),
            bias_source=int(value(channel, LCR_DC_BIAS_SOURCE)),
            bias_voltage=float(value(channel, LCR_DC_BIAS_VOLTAGE_LEVEL)),
            bias_current=float(value(channel, LCR_DC_BIAS_CURRENT_LEVEL)),
        )

    def _one_channel(self, channel_string: str) -> str:
        channels = self.resolve_channels(channel_string)
        if len(channels) != 1:
            raise DriverError(INVALID_VALUE, "The call needs exactly one channel.")
        return channels[0]

    # --- simulation ---------------------------------------------------------------------------

    def _measure(self, channel: str) -> Measurement:
        """Solve the channel's output into the load (see the module docstring)."""
        value = self._attributes.value
        if not value(channel, OUTPUT_ENABLED):
            return Measurement(0.0, 0.0, in_compliance=False)
        load = self.load_resistance
        if value(channel, OUTPUT_FUNCTION) == DC_CURRENT:
            current = float(value(channel, CURRENT_LEVEL))
            voltage_limit = float(value(channel, VOLTAGE_LIMIT))
            voltage = current * load
            if abs(voltage) > voltage_limit:
                voltage = math.copysign(voltage_limit, current)
                return Measurement(voltage, voltage / load, in_compliance=True)
            return Measurement(voltage, current, in_compliance=False)
        voltage = float(value(channel, VOLTAGE_LEVEL))
        current_limit = float(value(channel, CURRENT_LIMIT))
        current = voltage / load
        if abs(current) > current_limit:
            current = math.copysign(current_limit, voltage)
            return Measurement(current * load, current, in_compliance=True)
        return Measurement(voltage, current, in_compliance=False)

    def _validate_ranges(self, channels: Iterable[str]) -> None:
        """Reject levels and limits beyond their ranges, as the driver does when it commits."""
        value = self._attributes.value
        for channel in channels:
            if value(channel, OUTPUT_FUNCTION) == DC_CURRENT:
                pairs = ((CURRENT_LEVEL, CURRENT_LEVEL_RANGE), (VOLTAGE_LIMIT, VOLTAGE_LIMIT_RANGE))
            else:
                pairs = ((VOLTAGE_LEVEL, VOLTAGE_LEVEL_RANGE), (CURRENT_LIMIT, CURRENT_LIMIT_RANGE))
            for setting, range_ in pairs:
                level, limit = float(value(channel, setting)), float(value(channel, range_))
                if abs(level) > limit:
                    raise DriverError(
                        INVALID_VALUE,
                        f"{_name(setting)} {level:g} exceeds {_name(range_)} {limit:g} "
                        f"on {channel}.",
                    )

    def _apply_identity(self, channels: Iterable[str]) -> None:
        """Set the driver-computed, read-only attributes."""
        channels = list(channels)
        force = self._attributes.force
        force(channels, CHANNEL_COUNT, len(self.channel_names))
        force(channels, INSTRUMENT_MODEL, self.setup.instrument_model)
        force(channels, DRIVER_SETUP, self.option_string)


def _name(attribute_id: int) -> str:
    return next(spec.name for spec in ATTRIBUTES if spec.attribute_id == attribute_id)
