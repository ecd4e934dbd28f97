"""Start this project's programs as child processes: the two services, the plug-ins and the
local NI platform, each a :class:`ServiceProcess` that knows its ready line (used by the demo,
tests, benchmarks and notebooks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from logger_service.server import DISPLAY_NAME as LOGGER_DISPLAY_NAME
from measurements.plugin_info import PluginInfo
from results_service.server import DISPLAY_NAME as RESULTS_DISPLAY_NAME
from session_core.hosting import ready_prefix
from session_sharing_demo.child_process import ServiceProcess

LOCAL_PLATFORM_READY_PREFIX = "Local NI platform ready: "
"""How ``local-ni-platform``'s ready line starts (tests/test_demo.py checks it is the CLI's)."""


def logger_service_process(
    arguments: Sequence[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
) -> ServiceProcess:
    """A not yet started ``python -m logger_service`` child process with ``arguments``."""
    return ServiceProcess(
        arguments,
        module="logger_service",
        ready_prefix=ready_prefix(LOGGER_DISPLAY_NAME),
        env=env,
        log_file=log_file,
    )


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


def results_service_process(
    arguments: Sequence[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
) -> ServiceProcess:
    """A not yet started ``python -m results_service`` child process with ``arguments``."""
    return ServiceProcess(
        arguments,
        module="results_service",
        ready_prefix=ready_prefix(RESULTS_DISPLAY_NAME),
        env=env,
        log_file=log_file,
    )


def start_results_service(
    *, port: int = 0, discovery: bool = True, env: Mapping[str, str] | None = None
) -> ServiceProcess:
    """Start ``python -m results_service`` and return the running process handle."""
    arguments = ["--port", str(port)] + ([] if discovery else ["--no-discovery"])
    process = results_service_process(arguments, env=env)
    process.start()
    return process


def plugin_process(
    plugin: PluginInfo, *, env: Mapping[str, str] | None = None, log_file: Path | None = None
) -> ServiceProcess:
    """A not yet started measurement plug-in; ``address`` then gives its ``host:port``."""
    return ServiceProcess(
        module=plugin.module, ready_prefix=plugin.ready_prefix, env=env, log_file=log_file
    )


def local_platform_process(state_dir: Path) -> ServiceProcess:
    """A not yet started ``python -m local_ni_platform`` writing its key file in ``state_dir``."""
    return ServiceProcess(
        ["--state-dir", str(state_dir)],
        module="local_ni_platform",
        ready_prefix=LOCAL_PLATFORM_READY_PREFIX,
    )
