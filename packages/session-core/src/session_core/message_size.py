"""Keep every message under gRPC's 4 MiB default, whatever the rows or records hold.

A batch of 500 legal rows near the text limits is about 6 MB and a page of 1,000 about 16 MB:
gRPC refuses either with RESOURCE_EXHAUSTED, which no retry cures. Clients therefore split a
batch by bytes as well as by count (:func:`batches`), and servers end a page before it would pass
:data:`MESSAGE_BUDGET_BYTES` (:func:`fits`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

GRPC_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""gRPC's default limit on a received message (both directions, in every language's library)."""
MESSAGE_BUDGET_BYTES = 3 * 1024 * 1024
"""What a batch or a page may hold: a quarter below the limit for the rest of the message."""
_FIELD_OVERHEAD_BYTES = 6
"""A repeated message field's tag and length prefix, at most (lengths below 2**28)."""


class Sized(Protocol):
    """A protobuf message, as far as its size goes."""

    def ByteSize(self) -> int:  # noqa: N802 - protobuf's name
        """The serialized size in bytes."""


ItemT = TypeVar("ItemT", bound=Sized)


def batches(
    items: Iterable[ItemT], *, max_items: int, max_bytes: int = MESSAGE_BUDGET_BYTES
) -> Iterator[list[ItemT]]:
    """``items`` in lists of at most ``max_items`` and at most ``max_bytes`` serialized (a single
    larger item travels alone, for the server to judge). Consumes ``items`` lazily.
    """
    iterator = iter(items)
    pending: list[ItemT] = []
    size = 0
    for item in iterator:
        item_size = item.ByteSize() + _FIELD_OVERHEAD_BYTES
        if pending and (len(pending) == max_items or size + item_size > max_bytes):
            yield pending
            pending, size = [], 0
        pending.append(item)
        size += item_size
    if pending:
        yield pending


def fits(items: Iterable[ItemT], *, max_bytes: int = MESSAGE_BUDGET_BYTES) -> list[ItemT]:
    """The longest prefix of ``items`` within ``max_bytes`` (at least one item)."""
    chosen: list[ItemT] = []
    size = 0
    for item in items:
        size += item.ByteSize() + _FIELD_OVERHEAD_BYTES
        if chosen and size > max_bytes:
            break
        chosen.append(item)
    return chosen
