"""Hosting helpers shared by every gRPC server in this project (both services, the local platform,
the plug-ins).

One way to: build a thread-pool server with health checking and reflection, bind loopback, print
one ready line, and wait for a stop request (Enter on an interactive terminal, SIGINT or SIGTERM).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterable, Sequence
from concurrent import futures
from pathlib import Path
from types import FrameType
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

_logger = logging.getLogger(__name__)

DEFAULT_MAX_WORKERS = 32


def create_server(*, max_workers: int = DEFAULT_MAX_WORKERS) -> grpc.Server:
    """Create a thread-pool gRPC server."""
    return grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc-worker")
    )


def add_health_and_reflection(
    server: grpc.Server, service_names: Iterable[str]
) -> health.HealthServicer:
    """Serve gRPC health checking and reflection for ``service_names``; return the health servicer.

    The health servicer is non-blocking so that Watch streams do not hold a worker thread.
    """
    names = list(service_names)
    health_servicer = health.HealthServicer(
        experimental_non_blocking=True,
        experimental_thread_pool=futures.ThreadPoolExecutor(max_workers=2),
    )
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in names:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    return health_servicer


def bind_insecure(server: grpc.Server, host: str, port: int) -> int:
    """Bind ``host:port`` (port 0 picks a free one) and return the bound port."""
    address = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as error:
        raise OSError(f"cannot bind {address}: {error}") from error
    if bound == 0:
        raise OSError(f"cannot bind {address}")
    return bound


def configure_logging(verbose: int) -> None:
    """Log to stderr: warnings by default, ``-v`` info, ``-vv`` debug."""
    logging.basicConfig(
        level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def ready_prefix(display_name: str) -> str:
    """The start of a service's ready line: ``<display name> listening on <host:port>``."""
    return f"{display_name} listening on "


def announce_ready(message: str) -> None:
    """Print the one line that tells scripts and users the server is ready."""
    print(message, flush=True)


class StopRequests:
    """Collects stop requests from the moment it is entered: SIGINT, SIGTERM, and Enter when
    standard input is a terminal.

    Enter it before starting the server, so a signal sent as soon as the ready line appears (or
    during start-up) still leads to a clean stop instead of the default handler killing the
    process. Must be entered on the main thread (signal handlers can only be installed there).
    Standard input is watched only when it is a terminal, so a server started by a script, a
    notebook or the NI Discovery Service does not stop when its input is closed.
    """

    def __init__(self, *, watch_stdin: bool | None = None) -> None:
        self._watch_stdin = watch_stdin
        self._requested = threading.Event()
        self._reason = ""
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopRequests:
        self._previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        return self

    def __exit__(self, *exc_info: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def request(self, reason: str) -> None:
        """Ask for a stop (the first reason is kept)."""
        if not self._requested.is_set():
            self._reason = reason
            self._requested.set()

    def wait(self) -> str:
        """Block until a stop is requested; return why."""
        watch_stdin = self._watch_stdin
        if watch_stdin is None:
            watch_stdin = sys.stdin is not None and sys.stdin.isatty()
        if watch_stdin:
            threading.Thread(target=self._read_enter, name="stop-on-enter", daemon=True).start()
        # Event.wait with a timeout keeps the main thread responsive to signals on every platform.
        while not self._requested.wait(timeout=0.5):
            pass
        _logger.info("Stop requested (%s).", self._reason)
        return self._reason

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.request(signal.Signals(signum).name)

    def _read_enter(self) -> None:
        try:
            sys.stdin.readline()
        except (OSError, ValueError):
            return
        self.request("Enter")


_LOOPBACK_HOSTS = ("127.0.0.1", "::1", "[::1]", "localhost")


def warn_if_exposed(host: str, allowed_dirs: Sequence[Path]) -> None:
    """Warn when binding an address other machines can reach: they could then open files."""
    if host in _LOOPBACK_HOSTS or host.startswith("127."):
        return
    _logger.warning(
        "Binding %s: other machines that can reach this address can open sessions%s. Bind "
        "127.0.0.1 unless remote clients need the service.",
        host,
        " in " + ", ".join(map(str, allowed_dirs))
        if allowed_dirs
        else " on any file the service user can write (limit them with --allow-dir)",
    )
