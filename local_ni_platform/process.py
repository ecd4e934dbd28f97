"""Start the local NI platform as a child process (benchmarks, tests)."""

from __future__ import annotations

from pathlib import Path

from session_core.process import ServiceProcess

READY_PREFIX = "Local NI platform ready: "
"""How the platform's ready line starts (``local-ni-platform`` prints it once it serves)."""


def local_platform_process(state_dir: Path) -> ServiceProcess:
    """A not yet started ``python -m local_ni_platform`` writing its key file in ``state_dir``."""
    return ServiceProcess(
        ["--state-dir", str(state_dir)], module="local_ni_platform", ready_prefix=READY_PREFIX
    )
