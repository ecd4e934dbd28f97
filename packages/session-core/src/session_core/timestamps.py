"""Times on the wire and back, in one place: ``google.protobuf.Timestamp`` <-> UTC ``datetime``.

A naive ``datetime`` is taken as UTC; a received timestamp outside ``datetime``'s range is the
caller's mistake (:class:`session_core.errors.InvalidArgumentError`), never a crash.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from google.protobuf.timestamp_pb2 import Timestamp

from session_core.errors import InvalidArgumentError


def to_timestamp(moment: datetime | None = None) -> Timestamp:
    """``moment`` (default: now, this machine's clock) as a wire timestamp."""
    stamp = Timestamp()
    if moment is None:
        stamp.seconds, stamp.nanos = divmod(time.time_ns(), 1_000_000_000)
    else:
        stamp.FromDatetime(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
    return stamp


def from_timestamp(stamp: Timestamp, *, field: str = "timestamp") -> datetime:
    """A received timestamp as a UTC ``datetime``; ``INVALID_ARGUMENT`` when out of range."""
    try:
        return stamp.ToDatetime(tzinfo=timezone.utc)
    except (ValueError, OverflowError) as error:
        raise InvalidArgumentError(f"{field} out of range: {error}") from None
