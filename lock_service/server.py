"""The Hardware Lock Service host: ``with HardwareLockServer(...) as server`` in-process, or
``python -m lock_service`` (see ``cli.py``). Hosting is ``session_core.service_host``'s.
"""

from __future__ import annotations

from pathlib import Path

from ni.measurementlink.discovery.v1.client import DiscoveryClient

from hardware_lock import hardware_lock_pb2_grpc
from lock_service.backends import Backend, MemoryBackend
from lock_service.servicer import (
    DEFAULT_LEASE_SECONDS,
    MAX_LEASE_SECONDS,
    SERVICE_NAME,
    HardwareLockServicer,
)
from session_core import hosting
from session_core.service_host import DEFAULT_HOST, ServiceHost

SERVICE_CONFIG_PATH = Path(__file__).with_name("HardwareLock.serviceconfig")
DISPLAY_NAME = "Hardware Lock Service"

__all__ = ["DEFAULT_HOST", "DISPLAY_NAME", "SERVICE_CONFIG_PATH", "HardwareLockServer"]


class HardwareLockServer(ServiceHost):
    """Runs the HardwareLock servicer on a loopback port until stopped."""

    display_name = DISPLAY_NAME
    servicer: HardwareLockServicer

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        backend: Backend | None = None,
        default_lease: float = DEFAULT_LEASE_SECONDS,
        max_lease: float = MAX_LEASE_SECONDS,
        register_with_discovery: bool = True,
        service_config_path: Path = SERVICE_CONFIG_PATH,
        discovery_client: DiscoveryClient | None = None,
        limits: hosting.CallLimits = hosting.DEFAULT_CALL_LIMITS,
    ) -> None:
        # waiting AcquireLock calls each hold a worker: at most max_streams of them, so the
        # unary workers stay free for releases, health checks and discovery
        servicer = HardwareLockServicer(
            backend or MemoryBackend(),
            default_lease=default_lease,
            max_lease=max_lease,
            max_waiters=limits.max_streams,
        )
        super().__init__(
            servicer,
            lambda server: hardware_lock_pb2_grpc.add_HardwareLockServicer_to_server(
                servicer, server
            ),
            service_names=[SERVICE_NAME],
            service_config_path=service_config_path,
            host=host,
            port=port,
            register_with_discovery=register_with_discovery,
            discovery_client=discovery_client,
            limits=limits,
        )

    def end_waits(self) -> None:
        """Waiting AcquireLock calls end UNAVAILABLE at once, rather than after the grace time."""
        self.servicer.locks.stop_waiting()
