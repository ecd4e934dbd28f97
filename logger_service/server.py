"""The JSON Logger Service host: a gRPC server with health, reflection and optional discovery.

Use it in-process (``with JsonLoggerServer(...) as server``, e.g. in a notebook) or through
``python -m logger_service`` (see ``cli.py``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import TracebackType

import grpc
from grpc_health.v1 import health
from ni.measurementlink.discovery.v1.client import DiscoveryClient

from json_logger import json_logger_pb2_grpc
from logger_service import hosting
from logger_service.registration import (
    SERVICE_CONFIG_PATH,
    DiscoveryRegistration,
    load_service_config,
)
from logger_service.servicer import SERVICE_NAME, JsonLoggerServicer

_logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
SHUTDOWN_GRACE_SECONDS = 5.0


class JsonLoggerServer:
    """Runs the servicer on a loopback port until stopped."""

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        fsync: bool = False,
        register_with_discovery: bool = True,
        service_config_path: Path = SERVICE_CONFIG_PATH,
        discovery_client: DiscoveryClient | None = None,
        max_workers: int = hosting.DEFAULT_MAX_WORKERS,
    ) -> None:
        self.host = host
        self.servicer = JsonLoggerServicer(fsync=fsync)
        self._requested_port = port
        self._server: grpc.Server = hosting.create_server(max_workers=max_workers)
        json_logger_pb2_grpc.add_JsonLoggerServicer_to_server(self.servicer, self._server)
        self._health: health.HealthServicer = hosting.add_health_and_reflection(
            self._server, [SERVICE_NAME]
        )
        self._registration = (
            DiscoveryRegistration(
                load_service_config(service_config_path),
                discovery_client=discovery_client or DiscoveryClient(),
            )
            if register_with_discovery
            else None
        )
        self.port = 0

    @property
    def address(self) -> str:
        """``host:port`` once started."""
        return f"{self.host}:{self.port}"

    @property
    def registered(self) -> bool:
        """Whether the service registers with the Discovery Service."""
        return self._registration is not None

    def start(self) -> str:
        """Bind, start serving, then register; on a registration failure, stop and re-raise."""
        self.port = hosting.bind_insecure(self._server, self.host, self._requested_port)
        self._server.start()
        _logger.info("JSON Logger Service serving at %s.", self.address)
        if self._registration is not None:
            try:
                self._registration.register(self.host, self.port)
            except BaseException:
                self._server.stop(grace=None).wait()
                raise
        return self.address

    def stop(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Stop accepting calls, let in-flight calls finish, close files, then unregister."""
        self._health.enter_graceful_shutdown()
        self._server.stop(grace=grace).wait()
        self.servicer.close_all()
        if self._registration is not None:
            self._registration.unregister()
        _logger.info("JSON Logger Service stopped.")

    def __enter__(self) -> JsonLoggerServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
