"""Channel names of a simulated NI-DCPower session: parsing resource names and channel strings.

Two kinds of session, as in NI-DCPower:

- Independent channels (``InitializeWithIndependentChannels``): channels are fully qualified,
  ``Dev1/0``. The resource name lists instruments (``Dev1`` means all its channels) or channels
  (``Dev1/0-3``, ``Dev1/0:3``, ``Dev1/0,Dev2/1``). An instrument keeps the spelling it first
  has in the resource name; names match without regard to case or spaces (``" dev1 / 0 - 1 "``).
  A repeated instrument prefix, as NI's client builds from resource ``Dev1`` and channels
  ``Dev1/5``, names ``Dev1/5``; ``Dev1/0/0`` is NI's device-not-found error.
- Without independent channels (``InitializeWithChannels``, deprecated): one instrument, channels
  named by number (``"0"``, ``"2-3"``).

Channel strings in calls accept the same forms; bare numbers stand for channels of the only
instrument, and an instrument name alone for all its channels (the ``instruments`` repeated
capability). Parsing is linear in the string's length: a range is checked by its ends against the
model's channel count before it is expanded, so ``"DCPower1/0-1000000"`` fails at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from local_ni_platform.device_server.errors import (
    DEVICE_NOT_FOUND,
    DUPLICATE_CHANNEL_STRING,
    INVALID_VALUE,
    RESOURCE_NOT_FOUND,
    UNKNOWN_CHANNEL_NAME,
    DriverError,
)

_NUMBERS = re.compile(r"([0-9]+)(?:\s*[-:]\s*([0-9]+))?")
_MAX_DIGITS = 9
"""Longer numbers are beyond any channel (and ``int()`` of them is never attempted)."""


@dataclass
class ChannelTable:
    """The channels of one session, in session order, and how calls may name them."""

    independent: bool
    channels_per_instrument: int
    names: list[str] = field(default_factory=list)
    _by_key: dict[tuple[str, int], str] = field(default_factory=dict)
    _instruments: dict[str, list[str]] = field(default_factory=dict)
    """Lower-case instrument name → its channels in this session."""

    @classmethod
    def independent_channels(cls, resource_name: str, channels_per_instrument: int) -> ChannelTable:
        """The channels a resource name of an independent-channels session opens.

        Raises:
            DriverError: empty or malformed name (-1074118656); ``Dev1/0/0`` (-1074097793); a
                channel the instrument does not have (-1074135008); a channel named twice.
        """
        table = cls(True, channels_per_instrument)
        spelling: dict[str, str] = {}
        for token in resource_name.split(","):
            instrument, channel = _split_resource_token(token, channels_per_instrument)
            instrument = spelling.setdefault(instrument.lower(), instrument)
            table._add(instrument, _checked_numbers(channel, token, channels_per_instrument))
        return table

    @classmethod
    def numbered_channels(
        cls, resource_name: str, channels: str, channels_per_instrument: int
    ) -> ChannelTable:
        """The channels of a session without independent channels: ``"0"``, ``"1"``, ….

        Raises:
            DriverError: not one instrument name (-1074118656); a channel the instrument does
                not have (-1074135008); a channel named twice.
        """
        instrument = resource_name.strip()
        if not instrument or "/" in instrument or "," in instrument:
            raise DriverError(RESOURCE_NOT_FOUND, f"Invalid Identifier: {instrument}")
        table = cls(False, channels_per_instrument)
        tokens = channels.split(",") if channels.strip() else [f"0-{channels_per_instrument - 1}"]
        for token in tokens:
            table._add(instrument, _checked_numbers(token, token, channels_per_instrument))
        return table

    def _add(self, instrument: str, numbers: range) -> None:
        for number in numbers:
            key = (instrument.lower(), number)
            if key in self._by_key:
                raise DriverError(DUPLICATE_CHANNEL_STRING, f"Channel: {instrument}/{number}")
            name = f"{instrument}/{number}" if self.independent else str(number)
            self._by_key[key] = name
            self._instruments.setdefault(instrument.lower(), []).append(name)
            self.names.append(name)

    def resolve(self, channel_string: str) -> list[str]:
        """The session's channels named by ``channel_string`` ("" means all), in that order.

        Raises:
            DriverError: a name that is not a channel or instrument of this session.
        """
        if not channel_string.strip():
            return list(self.names)
        resolved: list[str] = []
        for token in channel_string.split(","):
            instrument, separator, channel = token.strip().rpartition("/")
            if not separator:
                whole = self._instruments.get(channel.strip().lower())
                if whole is not None:
                    resolved.extend(whole)
                    continue
                if len(self._instruments) != 1:
                    raise _unknown_channel(token)
                instrument = next(iter(self._instruments))
            numbers = _numbers(channel)
            if numbers is None or _highest(numbers) >= self.channels_per_instrument:
                raise _unknown_channel(token)
            for number in numbers:
                name = self._by_key.get((instrument.strip().lower(), number))
                if name is None:
                    raise _unknown_channel(token)
                resolved.append(name)
        return resolved

    def names_at(self, indices: str) -> str:
        """Comma-separated names of the channels at zero-based ``indices`` (``"0,1"``, ``"0-3"``).

        Raises:
            DriverError: malformed or out-of-range index.
        """
        names: list[str] = []
        for token in indices.split(","):
            numbers = _numbers(token)
            if numbers is None:
                raise _unknown_channel(indices)
            highest = _highest(numbers)
            if highest >= len(self.names):
                raise DriverError(INVALID_VALUE, f"Channel index {highest} is out of range.")
            names.extend(self.names[index] for index in numbers)
        return ",".join(names)

    def is_whole_session(self, channels: list[str]) -> bool:
        """Whether ``channels`` are all of the session's channels (in any order)."""
        return set(channels) == set(self.names)


def _split_resource_token(token: str, channels_per_instrument: int) -> tuple[str, str]:
    """``"Dev1/0-3"`` → ``("Dev1", "0-3")``; ``"Dev1"`` → all its channels.

    Raises:
        DriverError: empty or malformed token; ``Dev1/0/0``.
    """
    parts = [part.strip() for part in token.split("/")]
    if len(parts) == 3 and parts[0].lower() == parts[1].lower():
        parts = parts[1:]  # NI's client joined resource "Dev1" and channel "Dev1/5"
    if len(parts) == 3 and parts[0] and _numbers(parts[1]) is not None:
        raise DriverError(DEVICE_NOT_FOUND, f"Resource name: {token.strip()}")
    if len(parts) == 1:
        parts.append(f"0-{channels_per_instrument - 1}")
    if len(parts) != 2 or not parts[0]:
        raise DriverError(RESOURCE_NOT_FOUND, f"Invalid Identifier: {token.strip()}")
    return parts[0], parts[1]


def _checked_numbers(channel: str, token: str, channels_per_instrument: int) -> range:
    numbers = _numbers(channel)
    if numbers is None:
        raise DriverError(RESOURCE_NOT_FOUND, f"Invalid Identifier: {token.strip()}")
    if _highest(numbers) >= channels_per_instrument:
        raise DriverError(
            UNKNOWN_CHANNEL_NAME,
            f"Channel name: {token.strip()}\nThe instrument has {channels_per_instrument} "
            f"channels: 0-{channels_per_instrument - 1}.",
        )
    return numbers


def _numbers(text: str) -> range | None:
    """``"2"`` → 2, ``"0-2"``/``"0:2"`` → 0, 1, 2 (``"2-0"`` descending); None if malformed.

    A lazy ``range``: nothing is expanded, so callers check :func:`_highest` first. A number of
    more than :data:`_MAX_DIGITS` digits stands for one beyond every channel.
    """
    match = _NUMBERS.fullmatch(text.strip())
    if match is None:
        return None
    start = _number(match.group(1))
    end = start if match.group(2) is None else _number(match.group(2))
    step = 1 if end >= start else -1
    return range(start, end + step, step)


def _number(digits: str) -> int:
    significant = digits.lstrip("0") or "0"
    return int(significant) if len(significant) <= _MAX_DIGITS else 10**_MAX_DIGITS


def _highest(numbers: range) -> int:
    """The largest number of a non-empty range, without expanding it."""
    return max(numbers[0], numbers[-1])


def _unknown_channel(token: str) -> DriverError:
    return DriverError(UNKNOWN_CHANNEL_NAME, f"Channel name: {token.strip()}")
