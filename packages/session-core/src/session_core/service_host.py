"""Host a session service: a gRPC server with health, reflection and discovery registration.

Each service is a :class:`ServiceHost` given its servicer (``with Host(...) as server`` in a
notebook or a test, ``start()`` and ``stop()`` from a command line). Every host runs with
:class:`session_core.hosting.CallLimits` (how many streams, how long idle; see the docstring of
``session_core.hosting`` for why).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Protocol

import grpc
from grpc_health.v1 import health
from ni.measurementlink.discovery.v1.client import DiscoveryClient

from session_core import hosting
from session_core.decoding import RequestDecodeGuard
from session_core.registration import DiscoveryRegistration, load_service_config

_logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
SHUTDOWN_GRACE_SECONDS = 5.0


class SessionServicer(Protocol):
    """What a host needs of a servicer: a way to close its sessions at shutdown."""

    def close_all(self) -> None:
        """Close every session (after in-flight calls finished)."""


class ServiceHost:
    """Runs one servicer on a loopback port until stopped."""

    display_name = "Session service"
    """Used in log messages and the ready line."""

    def __init__(
        self,
        servicer: SessionServicer,
        add_to_server: Callable[[grpc.Server], None],
        *,
        service_names: Sequence[str],
        service_config_path: Path,
        host: str = DEFAULT_HOST,
        port: int = 0,
        register_with_discovery: bool = True,
        discovery_client: DiscoveryClient | None = None,
        limits: hosting.CallLimits = hosting.DEFAULT_CALL_LIMITS,
    ) -> None:
        self.host = host
        self.servicer = servicer
        self.limits = limits
        self._requested_port = port
        self._streams = hosting.StreamLimiter(
            max_streams=limits.max_streams, idle_timeout=limits.stream_idle_timeout
        )
        self._server: grpc.Server = hosting.create_server(
            max_workers=limits.unary_workers,
            stream_limiter=self._streams,
            interceptors=[RequestDecodeGuard()],  # undecodable bytes: INVALID_ARGUMENT
        )
        add_to_server(self._server)
        self._health: health.HealthServicer = hosting.add_health_and_reflection(
            self._server, service_names
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
    def open_streams(self) -> int:
        """Streaming calls open now (at most ``limits.max_streams``)."""
        return self._streams.open_streams

    @property
    def registered(self) -> bool:
        """Whether the service registers with the Discovery Service."""
        return self._registration is not None

    def start(self) -> str:
        """Bind, start serving, then register; on a registration failure, stop and re-raise."""
        self.port = hosting.bind_insecure(self._server, self.host, self._requested_port)
        self._server.start()
        _logger.info("%s serving at %s.", self.display_name, self.address)
        if self._registration is not None:
            try:
                self._registration.register(self.host, self.port)
            except BaseException:
                self._server.stop(grace=None).wait()
                self._streams.close()
                raise
        return self.address

    def stop(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Stop accepting calls, let in-flight calls finish, close sessions, then unregister."""
        self._health.enter_graceful_shutdown()
        self._streams.end_streams()  # each stream's servicer answers with what it wrote
        self.end_waits()
        self._server.stop(grace=grace).wait()
        self._streams.close()
        self.servicer.close_all()
        if self._registration is not None:
            self._registration.unregister()
        _logger.info("%s stopped.", self.display_name)

    def end_waits(self) -> None:
        """At shutdown, before in-flight calls are waited for: answer the calls that wait for
        something (a service whose calls can wait, such as for a lock, overrides this).
        """

    def __enter__(self) -> ServiceHost:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
