"""The local NI platform: stand-ins for NI's platform services, hosted in one process.

:class:`LocalPlatform` is the composition point. It hosts the Discovery Service and the parts
(Pin Map, Session Management, the simulated device server) on one loopback gRPC server and
publishes that server's port in the key file that :mod:`local_ni_platform.activation` makes NI's
``DiscoveryClient`` read in every process.

Calls that wait (device events, reservations) share that server without starving the others:
each part has a budget of waiting calls, the server's pool has that many threads on top of
:data:`~local_ni_platform.waits.GENERAL_WORKERS`, and every wait ends with its caller (see
:mod:`local_ni_platform.waits`).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import grpc
from ni.measurementlink.discovery.v1 import discovery_service_pb2_grpc

from local_ni_platform import activation
from local_ni_platform.discovery import SERVICE_NAME as DISCOVERY_SERVICE_NAME
from local_ni_platform.discovery import (
    DiscoveryServicer,
    ServiceDescription,
    ServiceEndpoint,
    ServiceRegistry,
)
from local_ni_platform.parts import HostedService, PlatformPart
from local_ni_platform.waits import GENERAL_WORKERS
from session_core.hosting import add_health_and_reflection, bind_insecure, create_server

_logger = logging.getLogger(__name__)

HOST = activation.DISCOVERY_HOST
"""Every service of the local platform listens on IPv4 loopback only."""

STOP_GRACE_SECONDS = 0.5
_PROBE_TIMEOUT_SECONDS = 1.0


class LocalPlatformError(RuntimeError):
    """The local platform cannot start or is used in the wrong state."""


class LocalPlatformAlreadyRunningError(LocalPlatformError):
    """Another live local platform already owns the key file of this state folder."""


class LocalPlatform:
    """NI's platform services (Discovery and the parts) on one in-process loopback gRPC server.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. While it runs, its key
    file tells NI's clients in every process of this environment (with the same
    ``NI_LOCAL_PLATFORM_DIR`` and cluster id) where the Discovery Service is.
    """

    def __init__(
        self, *, state_dir: Path | None = None, parts: Sequence[PlatformPart] | None = None
    ) -> None:
        """Prepare a platform whose key files live in ``state_dir`` (default: from environment).

        ``parts`` are the stand-ins hosted beside discovery (default: all of them).
        """
        self._parts = list(default_parts() if parts is None else parts)
        self._hosted: list[HostedService] = []
        self._state_dir = Path(state_dir) if state_dir is not None else activation.state_dir()
        self._server: grpc.Server | None = None
        self._registry: ServiceRegistry | None = None
        self._port: int | None = None
        self._pid = os.getpid()
        self._key_file: Path | None = None

    def __enter__(self) -> LocalPlatform:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def state_dir(self) -> Path:
        """Folder holding this platform's key file."""
        return self._state_dir

    @property
    def is_running(self) -> bool:
        """Whether :meth:`start` succeeded and :meth:`stop` has not been called since."""
        return self._server is not None

    @property
    def discovery_port(self) -> int:
        """Port of the Discovery Service."""
        if self._port is None:
            raise LocalPlatformError("The local platform is not running.")
        return self._port

    @property
    def discovery_address(self) -> str:
        """``127.0.0.1:<port>`` of the Discovery Service."""
        return f"{HOST}:{self.discovery_port}"

    @property
    def discovery_key_file(self) -> Path:
        """Key file this platform wrote when it started."""
        if self._key_file is None:
            raise LocalPlatformError("The local platform is not running.")
        return self._key_file

    @property
    def discovery_registry(self) -> ServiceRegistry:
        """The Discovery Service's registry, for in-process registration without gRPC."""
        if self._registry is None:
            raise LocalPlatformError("The local platform is not running.")
        return self._registry

    def start(self) -> None:
        """Serve the platform's services and publish the key file.

        Raises:
            LocalPlatformAlreadyRunningError: a live platform owns this state folder's key file
                (a key file left by a dead process is replaced).
            LocalPlatformError: already started, or the state folder belongs to another user.
            OSError: the server cannot bind or the key file cannot be written.
        """
        if self._server is not None:
            raise LocalPlatformError("The local platform is already running.")
        key_file = activation.discovery_key_file(directory=self._state_dir)
        _prepare_state_dir(self._state_dir)
        _refuse_if_owned(key_file)

        server = create_server(max_workers=server_workers(self._parts))
        try:
            port = bind_insecure(server, HOST, 0)
            registry = ServiceRegistry(local_node_url=f"http://{HOST}:{port}")
            discovery_service_pb2_grpc.add_DiscoveryServiceServicer_to_server(
                DiscoveryServicer(registry), server
            )
            hosted = [service for part in self._parts for service in part.add_to_server(server)]
            grpc_names = [
                name
                for service in hosted
                for name in (service.grpc_service_name, *service.extra_grpc_service_names)
            ]
            add_health_and_reflection(server, [DISCOVERY_SERVICE_NAME, *grpc_names])
            server.start()
            for service in hosted:
                registry.register(_description(service), ServiceEndpoint(HOST, str(port)))
            self._pid = os.getpid()
            write_discovery_key_file(key_file, port=port, pid=self._pid)
        except BaseException:
            server.stop(None)
            self._stop_parts()
            raise
        self._hosted = hosted
        self._server, self._registry, self._port, self._key_file = server, registry, port, key_file
        _logger.info("Local discovery serving at %s:%d (key file %s).", HOST, port, key_file)

    def stop(self, *, grace: float | None = STOP_GRACE_SECONDS) -> None:
        """Withdraw the key file (only if it is still ours) and stop the server; idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        try:
            if self._key_file is not None and self._port is not None:
                _remove_key_file_if_owned(self._key_file, port=self._port, pid=self._pid)
        finally:
            server.stop(grace).wait()
            self._stop_parts()
            self._registry, self._port, self._key_file = None, None, None
            _logger.info("Local platform stopped.")

    @property
    def parts(self) -> list[PlatformPart]:
        """The stand-ins hosted beside discovery (to inspect their state, e.g. in tests)."""
        return list(self._parts)

    @property
    def hosted_services(self) -> list[HostedService]:
        """The services the parts serve (all registered in discovery at the platform's address)."""
        return list(self._hosted)

    def _stop_parts(self) -> None:
        for part in reversed(self._parts):
            try:
                part.stop()
            except Exception:
                _logger.exception("Failed to stop %s.", type(part).__name__)


def server_workers(parts: Sequence[PlatformPart]) -> int:
    """Threads of the platform's server: the general ones plus every part's waiting budget.

    A part refuses a wait beyond its budget, so at most the budgets' sum of threads ever wait and
    :data:`~local_ni_platform.waits.GENERAL_WORKERS` stay free for Discovery, Pin Map, unreserve
    and health checks (threads are started on demand, not up front).
    """
    return GENERAL_WORKERS + sum(part.max_waiting_calls for part in parts)


def default_parts() -> list[PlatformPart]:
    """Every stand-in the platform hosts by default."""
    from local_ni_platform.device_server import DeviceServerPart
    from local_ni_platform.session_management import pin_map_and_session_management_parts

    return [*pin_map_and_session_management_parts(), DeviceServerPart()]


def _description(service: HostedService) -> ServiceDescription:
    return ServiceDescription(
        display_name=service.display_name,
        service_class=service.service_class,
        provided_interfaces=service.provided_interfaces,
    )


def running_discovery_address(state_dir: Path | None = None) -> str | None:
    """Address of the live local Discovery Service of ``state_dir``, or None if none runs."""
    key_file = activation.discovery_key_file(directory=state_dir)
    owner = _live_owner(key_file)
    return None if owner is None else f"{HOST}:{owner[0]}"


def write_discovery_key_file(path: Path, *, port: int, pid: int) -> None:
    """Write the key file atomically, so readers never see a partial file."""
    content = json.dumps({activation.KEY_FILE_PORT_FIELD: port, activation.KEY_FILE_PID_FIELD: pid})
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _prepare_state_dir(directory: Path) -> None:
    """Create the state folder (private to the user) and refuse one owned by someone else.

    The default folder may be in the shared temporary directory, where another user could have
    created it first to point our clients at their server.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if sys.platform != "win32" and directory.stat().st_uid != os.getuid():
        raise LocalPlatformError(
            f"The state folder {directory} belongs to another user; set "
            f"{activation.STATE_DIR_ENV_VAR} to a folder of your own."
        )


def _refuse_if_owned(key_file: Path) -> None:
    """Raise if a live platform owns ``key_file``; log when a stale one will be replaced."""
    owner = _live_owner(key_file)
    if owner is not None:
        port, pid = owner
        raise LocalPlatformAlreadyRunningError(
            f"A local NI platform is already running for key file {key_file} "
            f"(process {pid if pid is not None else 'unknown'}, discovery at {HOST}:{port}). "
            f"Stop it first, or use another state folder (--state-dir or "
            f"{activation.STATE_DIR_ENV_VAR})."
        )
    if key_file.exists():
        _logger.info("Replacing stale key file %s.", key_file)


def _live_owner(key_file: Path) -> tuple[int, int | None] | None:
    """``(port, pid)`` of the key file if its process lives and its port accepts connections."""
    try:
        port, pid = activation.read_discovery_key_file(key_file)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        _logger.warning("Ignoring unreadable key file %s: %s", key_file, error)
        return None
    if pid is not None and not _process_exists(pid):
        return None
    if not _accepts_connections(port):
        return None
    return port, pid


def _process_exists(pid: int) -> bool:
    """Whether a process with this id exists (Windows: assumed; the port probe decides)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _accepts_connections(port: int) -> bool:
    """Whether something listens on ``HOST:port``."""
    try:
        with socket.create_connection((HOST, port), timeout=_PROBE_TIMEOUT_SECONDS):
            return True
    except OSError:
        return False


def _remove_key_file_if_owned(key_file: Path, *, port: int, pid: int) -> None:
    """Delete the key file unless another platform has replaced it since we wrote it."""
    try:
        current = activation.read_discovery_key_file(key_file)
    except FileNotFoundError:
        return
    except (OSError, ValueError) as error:
        _logger.warning("Leaving unreadable key file %s in place: %s", key_file, error)
        return
    if current != (port, pid):
        _logger.info("Leaving key file %s: it now belongs to another platform.", key_file)
        return
    key_file.unlink(missing_ok=True)
