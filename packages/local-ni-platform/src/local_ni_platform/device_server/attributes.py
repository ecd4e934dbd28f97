"""Typed, validated driver attributes, as IVI drivers expose them through ``Get/SetAttributeVi*``.

Both simulated drivers describe their attributes with :class:`AttributeSpec` and keep the values
in an :class:`AttributeStore`, which applies the IVI rules a client can observe: unknown ids,
wrong value types, read-only attributes and invalid values are driver errors with IVI's codes.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from local_ni_platform.device_server.errors import (
    ATTRIBUTE_NOT_WRITABLE,
    CHANNEL_NAME_REQUIRED,
    INVALID_ATTRIBUTE,
    INVALID_VALUE,
    TYPES_DO_NOT_MATCH,
    DriverError,
)

AttributeValue = int | float | bool | str


class AttributeType(enum.Enum):
    """The ``Vi*`` type of an attribute; it selects the RPC a client must use."""

    INT32 = "ViInt32"
    INT64 = "ViInt64"
    REAL64 = "ViReal64"
    BOOLEAN = "ViBoolean"
    STRING = "ViString"


@dataclass(frozen=True)
class AttributeSpec:
    """One attribute: its id, type, default and what values it accepts."""

    attribute_id: int
    name: str
    type: AttributeType
    default: AttributeValue
    writable: bool = True
    allowed: frozenset[int] | None = None
    """For enum-like ``ViInt32`` attributes: the only accepted values."""
    minimum: float | None = None
    """Smallest accepted number, if any (e.g. 0 for limits and delays)."""


class AttributeStore:
    """Attribute values of one session, per channel (a channel-less driver uses one key: "")."""

    def __init__(self, specs: Iterable[AttributeSpec], channels: Iterable[str]) -> None:
        """Give every channel the specs' defaults."""
        self._specs: Mapping[int, AttributeSpec] = {spec.attribute_id: spec for spec in specs}
        self._channels = list(channels)
        self._values: dict[str, dict[int, AttributeValue]] = {}
        self.reset(self._channels)

    def spec(self, attribute_id: int, expected: AttributeType) -> AttributeSpec:
        """The spec of ``attribute_id``, checked against the type of the RPC that names it.

        Raises:
            DriverError: unknown id, or the attribute has another type.
        """
        spec = self._specs.get(attribute_id)
        if spec is None:
            raise DriverError(INVALID_ATTRIBUTE, f"Attribute ID: {attribute_id}")
        if spec.type is not expected:
            raise DriverError(
                TYPES_DO_NOT_MATCH,
                f"Attribute {spec.name} ({attribute_id}) is a {spec.type.value}, "
                f"not a {expected.value}.",
            )
        return spec

    def spec_of(self, attribute_id: int) -> AttributeSpec:
        """The spec of ``attribute_id``, whatever its type.

        Raises:
            DriverError: unknown id.
        """
        spec = self._specs.get(attribute_id)
        if spec is None:
            raise DriverError(INVALID_ATTRIBUTE, f"Attribute ID: {attribute_id}")
        return spec

    def get(
        self, channels: Iterable[str], attribute_id: int, expected: AttributeType
    ) -> AttributeValue:
        """The value on ``channels``; they must agree, as one value is returned.

        Raises:
            DriverError: see :meth:`spec`; or the channels hold different values.
        """
        spec = self.spec(attribute_id, expected)
        values = {self._values[channel][attribute_id] for channel in channels}
        if len(values) > 1:
            raise DriverError(
                CHANNEL_NAME_REQUIRED,
                f"{spec.name} differs between the channels; specify one channel.",
            )
        (value,) = values
        return value

    def value(self, channel: str, attribute_id: int) -> AttributeValue:
        """The stored value, for the simulation itself (no type check)."""
        return self._values[channel][attribute_id]

    def set(
        self, channels: Iterable[str], attribute_id: int, expected: AttributeType, value: object
    ) -> None:
        """Validate ``value`` and store it on ``channels``.

        Raises:
            DriverError: see :meth:`spec`; read-only attribute; or an invalid value.
        """
        spec = self.spec(attribute_id, expected)
        if not spec.writable:
            raise DriverError(ATTRIBUTE_NOT_WRITABLE, f"Attribute: {spec.name} ({attribute_id})")
        checked = _validate(spec, value)
        for channel in channels:
            self._values[channel][attribute_id] = checked

    def force(self, channels: Iterable[str], attribute_id: int, value: AttributeValue) -> None:
        """Store ``value`` without the client-facing checks (driver-computed attributes)."""
        for channel in channels:
            self._values[channel][attribute_id] = value

    def writable_values(
        self, *, excluded: Iterable[int] = ()
    ) -> dict[str, dict[int, AttributeValue]]:
        """Every channel's writable values (for an attribute configuration export)."""
        skipped = set(excluded)
        return {
            channel: {
                attribute_id: value
                for attribute_id, value in by_id.items()
                if self._specs[attribute_id].writable and attribute_id not in skipped
            }
            for channel, by_id in self._values.items()
        }

    def snapshot(self) -> dict[str, dict[int, AttributeValue]]:
        """A copy of every value, for :meth:`restore` when a several-attribute change fails."""
        return {channel: dict(by_id) for channel, by_id in self._values.items()}

    def restore(self, snapshot: Mapping[str, Mapping[int, AttributeValue]]) -> None:
        """Put back the values of a :meth:`snapshot`."""
        self._values = {channel: dict(by_id) for channel, by_id in snapshot.items()}

    def apply(self, values: Mapping[str, Mapping[int, object]]) -> None:
        """Set ``values`` (channel → id → value) as a client would, all or nothing.

        Raises:
            DriverError: other channels than this store's, or a value a client could not set
                (-1074135024, invalid value); nothing is changed then.
        """
        if set(values) != set(self._values):
            raise DriverError(INVALID_VALUE, "The configuration was exported for other channels.")
        before = self.snapshot()
        try:
            for channel, by_id in values.items():
                for attribute_id, value in by_id.items():
                    spec = self.spec_of(attribute_id)
                    self.set([channel], attribute_id, spec.type, value)
        except DriverError as error:
            self.restore(before)
            raise DriverError(
                INVALID_VALUE, f"The configuration does not apply: {error.description}"
            ) from None

    def reset(self, channels: Iterable[str]) -> None:
        """Restore the defaults on ``channels``."""
        for channel in channels:
            self._values[channel] = {
                spec.attribute_id: spec.default for spec in self._specs.values()
            }


def _validate(spec: AttributeSpec, value: object) -> AttributeValue:
    """Coerce ``value`` to the spec's type and check its range, as the driver would."""
    invalid = DriverError(INVALID_VALUE, f"{spec.name} cannot be {value!r}.")
    if spec.type is AttributeType.BOOLEAN:
        return bool(value)
    if spec.type is AttributeType.STRING:
        return str(value)
    if not isinstance(value, (int, float)):
        raise invalid
    if spec.type in (AttributeType.INT32, AttributeType.INT64):
        number: int | float = int(value)
        if spec.allowed is not None and number not in spec.allowed:
            raise invalid
    else:
        number = float(value)
        if not math.isfinite(number):
            raise invalid
    if spec.minimum is not None and number < spec.minimum:
        raise invalid
    return number


# IVI-inherent attributes: the same ids in every NI driver.
CHANNEL_COUNT = 1050203
SIMULATE = 1050005
DRIVER_SETUP = 1050007
INSTRUMENT_MANUFACTURER = 1050511
INSTRUMENT_MODEL = 1050512


def ivi_inherent_attributes(*, channel_count: int) -> tuple[AttributeSpec, ...]:
    """The read-only IVI attributes both simulated drivers report."""
    return (
        AttributeSpec(
            CHANNEL_COUNT, "channel_count", AttributeType.INT32, channel_count, writable=False
        ),
        AttributeSpec(SIMULATE, "simulate", AttributeType.BOOLEAN, True, writable=False),
        AttributeSpec(DRIVER_SETUP, "driver_setup", AttributeType.STRING, "", writable=False),
        AttributeSpec(
            INSTRUMENT_MANUFACTURER,
            "instrument_manufacturer",
            AttributeType.STRING,
            "National Instruments",
            writable=False,
        ),
        AttributeSpec(
            INSTRUMENT_MODEL, "instrument_model", AttributeType.STRING, "", writable=False
        ),
    )
