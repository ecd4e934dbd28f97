"""Start the Results Database Service as a child process (tests, benchmarks, the demo)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from results_service.cli import READY_PREFIX
from session_core.process import ServiceProcess


def results_service_process(
    arguments: Sequence[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
) -> ServiceProcess:
    """A not yet started ``python -m results_service`` child process with ``arguments``."""
    return ServiceProcess(
        arguments, module="results_service", ready_prefix=READY_PREFIX, env=env, log_file=log_file
    )


def start_results_service(
    *, port: int = 0, discovery: bool = True, env: Mapping[str, str] | None = None
) -> ServiceProcess:
    """Start ``python -m results_service`` and return the running process handle."""
    arguments = ["--port", str(port)] + ([] if discovery else ["--no-discovery"])
    process = results_service_process(arguments, env=env)
    process.start()
    return process
