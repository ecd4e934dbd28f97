"""Keep file descriptors in reserve, so a service that holds many sessions still takes new calls.

Every open session holds descriptors (a log file; an SQLite file with its WAL and shared memory)
and every client connection is one more. Without a reserve, the sessions can use up the
process's limit (RLIMIT_NOFILE, often 1,024): a new client then cannot even connect, and a
health check times out. So a new session is refused with RESOURCE_EXHAUSTED, naming the limit,
while fewer than :data:`RESERVED_DESCRIPTORS` would be left.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from session_core.errors import ResourceExhaustedError

RESERVED_DESCRIPTORS = 64
"""Left for client connections, health checks and the service's own work (a quarter of a limit
lower than 256)."""

_OPEN_DESCRIPTORS = Path("/proc/self/fd") if sys.platform.startswith("linux") else Path("/dev/fd")


def descriptor_limit() -> int | None:
    """The process's soft limit on open descriptors, or None where there is none to read."""
    try:
        import resource
    except ImportError:  # Windows: handles, not a small fixed table
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def open_descriptors() -> int | None:
    """How many descriptors the process has open, or None where that cannot be counted."""
    try:
        return len(os.listdir(_OPEN_DESCRIPTORS))
    except OSError:
        return None


def check_reserve(kind: str) -> None:
    """Refuse to open another ``kind`` when it would eat into the reserve."""
    limit = descriptor_limit()
    used = open_descriptors() if limit is not None else None
    if limit is None or used is None:
        return
    reserve = min(RESERVED_DESCRIPTORS, limit // 4)
    if used + reserve >= limit:
        raise ResourceExhaustedError(
            f"cannot open another {kind}: the service has {used} of its {limit} file descriptors "
            f"open (RLIMIT_NOFILE) and keeps {reserve} for connections; close sessions that are "
            "no longer needed, or raise the limit (ulimit -n) and restart it"
        )
