"""session_core.timestamps: the fast conversions of times agree with protobuf's own."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from session_core.errors import InvalidArgumentError
from session_core.timestamps import from_timestamp, to_timestamp


@pytest.mark.parametrize(
    ("seconds", "nanos"),
    [
        (0, 0),
        (1_704_067_200, 123_456_789),  # 2024-01-01, nanoseconds truncated to microseconds
        (-1, 999_999_999),  # just before the epoch
        (-62_135_596_800, 0),  # 0001-01-01, the earliest datetime
        (253_402_300_799, 999_999_000),  # 9999-12-31 23:59:59.999999
    ],
)
def test_the_fast_conversion_gives_protobufs_datetime(seconds: int, nanos: int) -> None:
    stamp = Timestamp(seconds=seconds, nanos=nanos)

    converted = from_timestamp(stamp)

    assert converted == stamp.ToDatetime(tzinfo=timezone.utc)
    assert converted.tzinfo is timezone.utc or converted.utcoffset() == timezone.utc.utcoffset(None)


def test_a_time_out_of_range_is_invalid_argument_naming_the_field() -> None:
    with pytest.raises(InvalidArgumentError, match="measured_at out of range"):
        from_timestamp(Timestamp(seconds=2**62), field="measured_at")
    assert from_timestamp(Timestamp(seconds=0)) == datetime(1970, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 1, 1, 12, 30, 15, 123_456, tzinfo=timezone.utc),
        datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc),
        datetime(2024, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5))),  # another zone
        datetime(2024, 1, 1, 12, 0),  # naive: taken as UTC
    ],
)
def test_times_sent_are_protobufs_own_conversion(moment: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))

    assert to_timestamp(moment) == expected
