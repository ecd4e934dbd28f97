"""Critical sections that leave marks in one file: the mutual-exclusion check of the Hardware Lock
Service, shared by its tests and ``benchmarks/lock_handover.py``.

``python tests/lock_marks.py ADDRESS LOCK FILE COUNT LABEL`` takes the lock COUNT times; each time,
holding it, it appends ``start LABEL i NS`` and ``end LABEL i NS`` lines to FILE (NS: the system's
monotonic clock, the same for every process of the machine). :func:`read_marks` checks a file:
every section whole, none overlapping another, and the hand-over gaps between holders.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Marks:
    """What one marks file shows."""

    sections: int
    """Critical sections whose start and end both appear, in order, with no other mark between."""
    overlaps: int
    """Marks that came while another section was open (0 when the lock excluded)."""
    handovers_ns: list[int]
    """From one holder's ``end`` to the next holder's ``start``, where the holder changed."""


def append_mark(fd: int, kind: str, label: str, index: int) -> None:
    """One line, one write (O_APPEND: never interleaved with another process's line)."""
    os.write(fd, f"{kind} {label} {index} {time.monotonic_ns()}\n".encode())


def read_marks(path: Path) -> Marks:
    """Check the file's marks (see :class:`Marks`)."""
    sections = overlaps = 0
    handovers: list[int] = []
    open_section: tuple[str, str] | None = None
    last_end: tuple[str, int] | None = None
    for line in path.read_text(encoding="ascii").splitlines():
        kind, label, index, ns = line.split()
        if kind == "start":
            if open_section is not None:
                overlaps += 1
            open_section = (label, index)
            if last_end is not None and last_end[0] != label:
                handovers.append(int(ns) - last_end[1])
        elif open_section == (label, index):
            sections += 1
            open_section = None
            last_end = (label, int(ns))
        else:
            overlaps += 1
    return Marks(sections=sections, overlaps=overlaps, handovers_ns=handovers)


def main(address: str, lock: str, path: str, count: int, label: str) -> None:
    """Take the lock ``count`` times, marking each critical section."""
    from lock_client import HardwareLockClient  # imported here: read_marks needs no client

    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        for index in range(count):
            with HardwareLockClient(lock, address=address, holder=label, wait=60):
                append_mark(fd, "start", label, index)
                append_mark(fd, "end", label, index)
    finally:
        os.close(fd)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
