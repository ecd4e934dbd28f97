"""Hosting helpers shared by every gRPC server in this project (logger service, local platform).

One way to: build a thread-pool server with health checking and reflection, bind loopback, print
one ready line, and wait for a stop request (Enter on an interactive terminal, SIGINT or SIGTERM).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterable
from concurrent import futures
from types import FrameType

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


def announce_ready(message: str) -> None:
    """Print the one line that tells scripts and users the server is ready."""
    print(message, flush=True)


def wait_for_stop_request(*, watch_stdin: bool | None = None) -> str:
    """Block until Enter (interactive terminals only), SIGINT or SIGTERM; return which one.

    Must be called from the main thread (signal handlers can only be installed there). Standard
    input is watched only when it is a terminal, so a server started by a script, a notebook or
    the NI Discovery Service does not stop when its input is closed.
    """
    stop = threading.Event()
    reason: list[str] = []

    def request_stop(why: str) -> None:
        if not reason:
            reason.append(why)
        stop.set()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        request_stop(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if watch_stdin is None:
            watch_stdin = sys.stdin is not None and sys.stdin.isatty()
        if watch_stdin:

            def read_enter() -> None:
                try:
                    sys.stdin.readline()
                except (OSError, ValueError):
                    return
                request_stop("Enter")

            threading.Thread(target=read_enter, name="stop-on-enter", daemon=True).start()
        # Event.wait with a timeout keeps the main thread responsive to signals on every platform.
        while not stop.wait(timeout=0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _logger.info("Stop requested (%s).", reason[0])
    return reason[0]
