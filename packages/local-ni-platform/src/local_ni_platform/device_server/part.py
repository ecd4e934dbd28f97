"""The simulated device server as a part of the local platform."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import grpc
from nidcpower import nidcpower_pb2_grpc as dcpower_pb2_grpc
from nidmm import nidmm_pb2_grpc as dmm_pb2_grpc

from local_ni_platform.device_server.dcpower import LOAD_RESISTANCE_OHMS
from local_ni_platform.device_server.dcpower_servicer import DCPOWER_SERVICE_NAME, DCPowerServicer
from local_ni_platform.device_server.dmm_servicer import DMM_SERVICE_NAME, DmmServicer
from local_ni_platform.device_server.repository import SessionRepository
from local_ni_platform.parts import HostedService
from local_ni_platform.waits import (
    DEFAULT_CANCEL_CHECK_INTERVAL,
    DEFAULT_MAX_WAITING_CALLS,
    WaitBudget,
)

_logger = logging.getLogger(__name__)

SERVICE_CLASS = "ni.measurementlink.v1.grpcdeviceserver"
"""The class NI's SDK resolves the device server by (``_drivers/_grpcdevice.py``)."""

DISPLAY_NAME = "NI gRPC Device Server (local simulation)"


class DeviceServerPart:
    """Simulated NI-DCPower and NI-DMM sessions behind NI's device-server protocol.

    Both drivers share one session repository, as in NI's server, so a session name belongs to
    one driver at a time. The part is announced once in discovery, providing both interfaces:
    NI's SDK resolves each interface with the same service class, so two registrations of that
    class would make resolution ambiguous.
    """

    def __init__(
        self,
        *,
        load_resistance: float = LOAD_RESISTANCE_OHMS,
        max_waiting_calls: int = DEFAULT_MAX_WAITING_CALLS,
        cancel_check_interval: float = DEFAULT_CANCEL_CHECK_INTERVAL,
    ) -> None:
        """Prepare the part; new DCPower sessions drive ``load_resistance`` ohms per channel.

        At most ``max_waiting_calls`` event waits sleep at once (the part's wait budget, see
        :mod:`local_ni_platform.waits`); one more is refused with ``RESOURCE_EXHAUSTED``. A
        waiter re-checks its caller at least every ``cancel_check_interval`` seconds (tests raise
        it to prove that the RPC's termination callback ends the wait).
        """
        self._load_resistance = load_resistance
        self._cancel_check_interval = cancel_check_interval
        self._repository = SessionRepository()
        self._waits = WaitBudget("NI-DCPower event or NI-DMM fetch wait", max_waiting_calls)

    @property
    def repository(self) -> SessionRepository:
        """The named sessions of both drivers (for inspection in tests and tools)."""
        return self._repository

    @property
    def waits(self) -> WaitBudget:
        """The budget of event waits; ``waits.active`` is how many sleep now."""
        return self._waits

    @property
    def max_waiting_calls(self) -> int:
        """Event waits that may sleep at once; the platform keeps this many threads for them."""
        return self._waits.limit

    def add_to_server(self, server: grpc.Server) -> Sequence[HostedService]:
        """Add the NiDCPower and NiDmm servicers; announce one device server providing both."""
        dcpower_pb2_grpc.add_NiDCPowerServicer_to_server(
            DCPowerServicer(
                self._repository,
                load_resistance=self._load_resistance,
                wait_budget=self._waits,
                cancel_check_interval=self._cancel_check_interval,
            ),
            server,
        )
        dmm_pb2_grpc.add_NiDmmServicer_to_server(
            DmmServicer(
                self._repository,
                wait_budget=self._waits,
                cancel_check_interval=self._cancel_check_interval,
            ),
            server,
        )
        return [
            HostedService(
                grpc_service_name=DCPOWER_SERVICE_NAME,
                display_name=DISPLAY_NAME,
                service_class=SERVICE_CLASS,
                provided_interfaces=(DCPOWER_SERVICE_NAME, DMM_SERVICE_NAME),
                extra_grpc_service_names=(DMM_SERVICE_NAME,),
            )
        ]

    def stop(self) -> None:
        """Close every simulated session (waking threads blocked in ``wait_for_event``)."""
        names = self._repository.names()
        self._repository.close_all()
        if names:
            _logger.info("Closed %d simulated session(s) on stop.", len(names))
