"""Start the JSON Logger Service as a child process (tests, benchmarks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from logger_service.server import DISPLAY_NAME
from session_core.process import ServiceProcess, service_process


def logger_service_process(
    arguments: Sequence[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
) -> ServiceProcess:
    """A not yet started ``python -m logger_service`` child process with ``arguments``."""
    return service_process("logger_service", DISPLAY_NAME, arguments, env=env, log_file=log_file)


def start_logger_service(
    *,
    port: int = 0,
    discovery: bool = True,
    fsync: bool = False,
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
) -> ServiceProcess:
    """Start ``python -m logger_service`` and return the running process handle."""
    arguments = ["--port", str(port)]
    if not discovery:
        arguments.append("--no-discovery")
    if fsync:
        arguments.append("--fsync")
    process = logger_service_process(arguments, env=env, log_file=log_file)
    process.start()
    return process
