"""The Results Database Service host: ``with ResultsDatabaseServer(...) as server`` in-process,
or ``python -m results_service`` (see ``cli.py``). Hosting is ``session_core.service_host``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ni.measurementlink.discovery.v1.client import DiscoveryClient

from results_database import results_database_pb2_grpc
from results_service.servicer import SERVICE_NAME, ResultsDatabaseServicer
from session_core import hosting
from session_core.service_host import DEFAULT_HOST, ServiceHost

SERVICE_CONFIG_PATH = Path(__file__).with_name("ResultsDatabase.serviceconfig")
DISPLAY_NAME = "Results Database Service"

__all__ = ["DEFAULT_HOST", "DISPLAY_NAME", "SERVICE_CONFIG_PATH", "ResultsDatabaseServer"]


class ResultsDatabaseServer(ServiceHost):
    """Runs the ResultsDatabase servicer on a loopback port until stopped."""

    display_name = DISPLAY_NAME
    servicer: ResultsDatabaseServicer

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        allowed_dirs: Sequence[Path] = (),
        register_with_discovery: bool = True,
        service_config_path: Path = SERVICE_CONFIG_PATH,
        discovery_client: DiscoveryClient | None = None,
        limits: hosting.CallLimits = hosting.DEFAULT_CALL_LIMITS,
    ) -> None:
        servicer = ResultsDatabaseServicer(allowed_dirs=allowed_dirs)
        super().__init__(
            servicer,
            lambda server: results_database_pb2_grpc.add_ResultsDatabaseServicer_to_server(
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
