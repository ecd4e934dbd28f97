"""session_core.message_size: batches and pages under gRPC's 4 MiB, by bytes and by count."""

from __future__ import annotations

from google.protobuf.wrappers_pb2 import StringValue

from session_core.message_size import MESSAGE_BUDGET_BYTES, batches, fits


def values(*sizes: int) -> list[StringValue]:
    return [StringValue(value="x" * size) for size in sizes]


def test_batches_end_at_the_count_or_the_bytes_whichever_comes_first() -> None:
    items = values(10, 10, 10, 60, 10)

    split = [[len(v.value) for v in batch] for batch in batches(items, max_items=2, max_bytes=90)]

    assert split == [[10, 10], [10, 60], [10]]


def test_an_item_larger_than_the_budget_travels_alone() -> None:
    items = values(5, 200, 5)

    split = [[len(v.value) for v in batch] for batch in batches(items, max_items=10, max_bytes=50)]

    assert split == [[5], [200], [5]]


def test_a_page_is_the_longest_prefix_within_the_budget_and_never_empty() -> None:
    assert [len(v.value) for v in fits(values(30, 30, 30), max_bytes=80)] == [30, 30]
    assert [len(v.value) for v in fits(values(500), max_bytes=80)] == [500]
    assert MESSAGE_BUDGET_BYTES < 4 * 1024 * 1024
