"""Start this project's programs as child processes: the four services, the simulated
instrument, the plug-ins and the local NI platform, each a :class:`ServiceProcess` that knows its
ready line (used by the demo, tests, benchmarks and notebooks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from connection_service import DISPLAY_NAME as CONNECTION_DISPLAY_NAME
from lock_service.server import DISPLAY_NAME as LOCK_DISPLAY_NAME
from logger_service.server import DISPLAY_NAME as LOGGER_DISPLAY_NAME
from measurements.plugin_info import PluginInfo
from results_service.server import DISPLAY_NAME as RESULTS_DISPLAY_NAME
from session_core.hosting import ready_prefix
from session_sharing_demo.child_process import ServiceProcess
from simulated_instrument.server import READY_PREFIX as INSTRUMENT_READY_PREFIX

LOCAL_PLATFORM_READY_PREFIX = "Local NI platform ready: "
"""How ``local-ni-platform``'s ready line starts (tests/test_demo.py checks it is the CLI's)."""


def _session_service_process(
    module: str,
    display_name: str,
    arguments: Sequence[str],
    env: Mapping[str, str] | None,
    log_file: Path | None,
) -> ServiceProcess:
    return ServiceProcess(
        arguments,
        module=module,
        ready_prefix=ready_prefix(display_name),
        env=env,
        log_file=log_file,
    )


def _started(process: ServiceProcess) -> ServiceProcess:
    process.start()
    return process


def _port_and_discovery(port: int, discovery: bool) -> list[str]:
    return ["--port", str(port)] + ([] if discovery else ["--no-discovery"])


def logger_service_process(
    arguments: Sequence[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
) -> ServiceProcess:
    """A not yet started ``python -m logger_service`` child process with ``arguments``."""
    return _session_service_process("logger_service", LOGGER_DISPLAY_NAME, arguments, env, log_file)


def start_logger_service(
    *,
    port: int = 0,
    discovery: bool = True,
    fsync: bool = False,
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
) -> ServiceProcess:
    """Start ``python -m logger_service`` and return the running process handle."""
    arguments = _port_and_discovery(port, discovery) + (["--fsync"] if fsync else [])
    return _started(logger_service_process(arguments, env=env, log_file=log_file))


def results_service_process(
    arguments: Sequence[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
) -> ServiceProcess:
    """A not yet started ``python -m results_service`` child process with ``arguments``."""
    return _session_service_process(
        "results_service", RESULTS_DISPLAY_NAME, arguments, env, log_file
    )


def start_results_service(
    *, port: int = 0, discovery: bool = True, env: Mapping[str, str] | None = None
) -> ServiceProcess:
    """Start ``python -m results_service`` and return the running process handle."""
    return _started(results_service_process(_port_and_discovery(port, discovery), env=env))


def lock_service_process(
    arguments: Sequence[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
) -> ServiceProcess:
    """A not yet started ``python -m lock_service`` child process with ``arguments``."""
    return _session_service_process("lock_service", LOCK_DISPLAY_NAME, arguments, env, log_file)


def start_lock_service(
    *,
    port: int = 0,
    discovery: bool = True,
    arguments: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
) -> ServiceProcess:
    """Start ``python -m lock_service`` (with extra ``arguments``) and return its handle."""
    return _started(
        lock_service_process(
            _port_and_discovery(port, discovery) + list(arguments), env=env, log_file=log_file
        )
    )


def connection_service_process(
    arguments: Sequence[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
) -> ServiceProcess:
    """A not yet started ``python -m connection_service`` child process with ``arguments``."""
    return _session_service_process(
        "connection_service", CONNECTION_DISPLAY_NAME, arguments, env, log_file
    )


def start_connection_service(
    *,
    port: int = 0,
    discovery: bool = True,
    arguments: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
) -> ServiceProcess:
    """Start ``python -m connection_service`` (with extra ``arguments``) and return its handle."""
    return _started(
        connection_service_process(
            _port_and_discovery(port, discovery) + list(arguments), env=env, log_file=log_file
        )
    )


def start_simulated_instrument(*, port: int = 0) -> ServiceProcess:
    """Start ``python -m simulated_instrument``; its ``address`` is ``host:port``."""
    return _started(
        ServiceProcess(
            ["--port", str(port)],
            module="simulated_instrument",
            ready_prefix=INSTRUMENT_READY_PREFIX,
        )
    )


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
