"""Start the Results Database Service as a child process (tests, benchmarks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from results_service.server import DISPLAY_NAME
from session_core.process import ServiceProcess, service_process


def results_service_process(
    arguments: Sequence[str] = (), *, env: Mapping[str, str] | None = None
) -> ServiceProcess:
    """A not yet started ``python -m results_service`` child process with ``arguments``."""
    return service_process("results_service", DISPLAY_NAME, arguments, env=env)


def start_results_service(
    *, port: int = 0, discovery: bool = True, env: Mapping[str, str] | None = None
) -> ServiceProcess:
    """Start ``python -m results_service`` and return the running process handle."""
    arguments = ["--port", str(port)] + ([] if discovery else ["--no-discovery"])
    process = results_service_process(arguments, env=env)
    process.start()
    return process
