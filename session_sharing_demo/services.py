"""Start every service the demo (and the notebooks) need, each stopped by one ExitStack.

On Windows with NI software, NI's own Discovery, Pin Map, Session Management and gRPC Device
Server are used. Elsewhere a running local NI platform is reused, or one is started in this
process. The JSON Logger Service, the Results Database Service and both measurement plug-ins run
in their own processes, started side by side to keep start-up short.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ni.measurementlink.pinmap.v1.client import PinMapClient

from measurements.nidcpower_with_logger import PLUGIN as DCPOWER_PLUGIN
from measurements.nidmm_with_logger import PLUGIN as DMM_PLUGIN
from measurements.plugin_info import PluginInfo
from pinmap import PIN_MAP_PATH, render_pin_map
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.programs import (
    connection_service_process,
    lock_service_process,
    logger_service_process,
    plugin_process,
    results_service_process,
)

PLUGINS = (DCPOWER_PLUGIN, DMM_PLUGIN)


@dataclass
class Services:
    """What is running, for reporting and checks."""

    platform_description: str
    local_platform: object | None
    """The in-process ``LocalPlatform`` when this process started it, else None."""
    pin_map_id: str = ""
    logger: ServiceProcess | None = None
    results: ServiceProcess | None = None
    lock: ServiceProcess | None = None
    connection: ServiceProcess | None = None
    plugins: dict[str, ServiceProcess] = field(default_factory=dict)


def start_ni_platform(stack: contextlib.ExitStack) -> tuple[str, object | None]:
    """Use NI's services on Windows; elsewhere reuse or start the local stand-ins (on ``stack``)."""
    if sys.platform == "win32":
        return "using NI's services (installed with NI software)", None
    from local_ni_platform.activation import activate
    from local_ni_platform.platform import LocalPlatform, running_discovery_address

    activate()
    address = running_discovery_address()
    if address is not None:
        return f"using the local NI platform already running (discovery at {address})", None
    # The usual state folder ($NI_LOCAL_PLATFORM_DIR or the default): child processes find it.
    platform = stack.enter_context(LocalPlatform())
    return f"started the local NI platform (discovery at {platform.discovery_address})", platform


def start_services(
    stack: contextlib.ExitStack, log_path: Path, database_path: Path | None = None
) -> Services:
    """Start the platform, register a pin map whose log file is ``log_path`` (and whose results
    database is ``database_path``, default: beside the log), start the rest.
    """
    description, platform = start_ni_platform(stack)
    services = Services(description, platform)
    services.pin_map_id = register_pin_map(stack, log_path, database_path)
    started = start_processes(stack, plugins=PLUGINS)
    services.logger, services.results, services.plugins = (
        started.logger,
        started.results,
        started.plugins,
    )
    return services


def register_pin_map(
    stack: contextlib.ExitStack,
    log_path: Path,
    database_path: Path | None = None,
    *,
    device: str | None = None,
    source: Path = PIN_MAP_PATH,
) -> str:
    """Register the session-sharing pin map (or ``source``) naming ``log_path``,
    ``database_path`` and ``device`` (see :func:`pinmap.render_pin_map`).
    """
    pin_map_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pin-map-")))
    pin_map = render_pin_map(
        log_path, pin_map_dir / source.name, database=database_path, device=device, source=source
    )
    pin_map_id: str = PinMapClient().update_pin_map(pin_map)
    return pin_map_id


class Started(NamedTuple):
    """What :func:`start_processes` started (None: not asked for)."""

    logger: ServiceProcess
    results: ServiceProcess | None
    lock: ServiceProcess | None
    connection: ServiceProcess | None
    plugins: dict[str, ServiceProcess]
    """By display name."""


def start_processes(
    stack: contextlib.ExitStack,
    *,
    plugins: tuple[PluginInfo, ...] = PLUGINS,
    results_service: bool = True,
    lock_service: bool = False,
    connection_service: Sequence[str] | None = None,
) -> Started:
    """Start the JSON Logger Service, the Results Database Service (and the Hardware Lock
    Service, and the Instrument Connection Service with the arguments ``connection_service``,
    when asked for) and ``plugins`` side by side; stop them with ``stack``.
    """
    started = Started(
        logger_service_process(),
        results_service_process() if results_service else None,
        lock_service_process() if lock_service else None,
        None if connection_service is None else connection_service_process(connection_service),
        {p.display_name: plugin_process(p) for p in plugins},
    )
    services = (started.logger, started.results, started.lock, started.connection)
    processes = [p for p in services if p is not None] + list(started.plugins.values())
    for process in processes:
        stack.callback(_stop_if_started, process)
    with ThreadPoolExecutor(max_workers=len(processes)) as pool:
        list(pool.map(lambda process: process.start(), processes))
    return started


def plugin(display_name: str) -> PluginInfo:
    """The plug-in with this display name."""
    return next(p for p in PLUGINS if p.display_name == display_name)


def _stop_if_started(process: ServiceProcess) -> None:
    with contextlib.suppress(RuntimeError):  # never started
        process.stop()
