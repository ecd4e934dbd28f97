"""The Instrument Connection Service host: ``with InstrumentConnectionServer(...) as server``
in-process, or ``python -m connection_service`` (see ``cli.py``). Hosting is
``session_core.service_host``'s.
"""

from __future__ import annotations

from pathlib import Path

import pyvisa
from ni.measurementlink.discovery.v1.client import DiscoveryClient

from connection_service import DISPLAY_NAME
from connection_service.servicer import SERVICE_NAME, InstrumentConnectionServicer
from instrument_connection import instrument_connection_pb2_grpc
from session_core import hosting
from session_core.service_host import DEFAULT_HOST, ServiceHost

SERVICE_CONFIG_PATH = Path(__file__).with_name("InstrumentConnection.serviceconfig")
DEFAULT_VISA_LIBRARY = "@py"
"""PyVISA's pure-Python backend, pyvisa-py; ``""`` is the VISA library installed (NI-VISA)."""

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_VISA_LIBRARY",
    "DISPLAY_NAME",
    "SERVICE_CONFIG_PATH",
    "InstrumentConnectionServer",
]


class InstrumentConnectionServer(ServiceHost):
    """Runs the InstrumentConnection servicer on a loopback port until stopped."""

    display_name = DISPLAY_NAME
    servicer: InstrumentConnectionServicer

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        visa_library: str = DEFAULT_VISA_LIBRARY,
        register_with_discovery: bool = True,
        service_config_path: Path = SERVICE_CONFIG_PATH,
        discovery_client: DiscoveryClient | None = None,
        limits: hosting.CallLimits = hosting.DEFAULT_CALL_LIMITS,
    ) -> None:
        servicer = InstrumentConnectionServicer(pyvisa.ResourceManager(visa_library))
        super().__init__(
            servicer,
            lambda server: (
                instrument_connection_pb2_grpc.add_InstrumentConnectionServicer_to_server(
                    servicer, server
                )
            ),
            service_names=[SERVICE_NAME],
            service_config_path=service_config_path,
            host=host,
            port=port,
            register_with_discovery=register_with_discovery,
            discovery_client=discovery_client,
            limits=limits,
        )
