"""Times on the wire and back, in one place: ``google.protobuf.Timestamp`` <-> UTC ``datetime``.

A naive ``datetime`` is taken as UTC; a received timestamp outside ``datetime``'s range is the
caller's mistake (:class:`session_core.errors.InvalidArgumentError`), never a crash.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from google.protobuf.timestamp_pb2 import Timestamp

from session_core.errors import InvalidArgumentError

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_timestamp(moment: datetime | None = None) -> Timestamp:
    """``moment`` (default: now, this machine's clock) as a wire timestamp."""
    if moment is None:
        seconds, nanos = divmod(time.time_ns(), 1_000_000_000)
        return Timestamp(seconds=seconds, nanos=nanos)
    # what Timestamp.FromDatetime computes, at a third of its cost (rows are sent by the thousand)
    delta = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)) - _EPOCH
    return Timestamp(seconds=delta.days * 86_400 + delta.seconds, nanos=delta.microseconds * 1000)


_SMALLEST = int((datetime.min.replace(tzinfo=timezone.utc) - _EPOCH).total_seconds())
_LARGEST = int((datetime.max.replace(tzinfo=timezone.utc) - _EPOCH).total_seconds())


def from_timestamp(stamp: Timestamp, *, field: str = "timestamp") -> datetime:
    """A received timestamp as a UTC ``datetime``; ``INVALID_ARGUMENT`` when out of range.

    What ``Timestamp.ToDatetime`` computes (nanoseconds truncated to microseconds), at a quarter
    of its cost: rows are received by the thousand.
    """
    seconds, nanos = stamp.seconds, stamp.nanos
    if _SMALLEST <= seconds < _LARGEST and 0 <= nanos < 1_000_000_000:
        return _EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)
    try:  # protobuf's own conversion, for its message on what is out of range
        return stamp.ToDatetime(tzinfo=timezone.utc)
    except (ValueError, OverflowError) as error:
        raise InvalidArgumentError(f"{field} out of range: {error}") from None
