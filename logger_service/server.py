"""The JSON Logger Service host: a gRPC server with health, reflection and optional discovery.

Use it in-process (``with JsonLoggerServer(...) as server``, e.g. in a notebook) or through
``python -m logger_service`` (see ``cli.py``). The hosting itself is
:class:`session_core.service_host.ServiceHost`, shared with the Results Database Service.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ni.measurementlink.discovery.v1.client import DiscoveryClient

from json_logger import json_logger_pb2_grpc
from logger_service.ndjson_log import DEFAULT_MAX_RECORD_BYTES
from logger_service.servicer import SERVICE_NAME, JsonLoggerServicer
from session_core import hosting
from session_core.service_host import DEFAULT_HOST, ServiceHost

SERVICE_CONFIG_PATH = Path(__file__).with_name("JsonLogger.serviceconfig")
DISPLAY_NAME = "JSON Logger Service"

__all__ = ["DEFAULT_HOST", "SERVICE_CONFIG_PATH", "JsonLoggerServer"]


class JsonLoggerServer(ServiceHost):
    """Runs the JSON Logger servicer on a loopback port until stopped."""

    display_name = DISPLAY_NAME
    servicer: JsonLoggerServicer

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        fsync: bool = False,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        allowed_dirs: Sequence[Path] = (),
        register_with_discovery: bool = True,
        service_config_path: Path = SERVICE_CONFIG_PATH,
        discovery_client: DiscoveryClient | None = None,
        limits: hosting.CallLimits = hosting.DEFAULT_CALL_LIMITS,
    ) -> None:
        servicer = JsonLoggerServicer(
            fsync=fsync, max_record_bytes=max_record_bytes, allowed_dirs=allowed_dirs
        )
        super().__init__(
            servicer,
            lambda server: json_logger_pb2_grpc.add_JsonLoggerServicer_to_server(servicer, server),
            service_names=[SERVICE_NAME],
            service_config_path=service_config_path,
            host=host,
            port=port,
            register_with_discovery=register_with_discovery,
            discovery_client=discovery_client,
            limits=limits,
        )
