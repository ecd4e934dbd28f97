"""The Pin Map Service as a part of the local platform."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from ni.measurementlink.pinmap.v1 import pin_map_service_pb2_grpc

from local_ni_platform.parts import HostedService
from local_ni_platform.pinmap.servicer import SERVICE_NAME, PinMapServicer
from local_ni_platform.pinmap.store import PinMapStore


class PinMapPart:
    """Hosts :class:`PinMapServicer`; announced under NI's interface name, as NI's client resolves.

    Pass the same ``store`` to the Session Management part so both see the same pin maps.
    """

    def __init__(self, store: PinMapStore | None = None) -> None:
        """Serve ``store`` (default: a new, empty one)."""
        self._store = store if store is not None else PinMapStore()

    @property
    def store(self) -> PinMapStore:
        """The pin maps this part serves."""
        return self._store

    @property
    def max_waiting_calls(self) -> int:
        """No Pin Map call waits, so the part needs no threads of its own."""
        return 0

    def add_to_server(self, server: grpc.Server) -> Sequence[HostedService]:
        """Add the servicer to ``server``; return how discovery should announce it."""
        pin_map_service_pb2_grpc.add_PinMapServiceServicer_to_server(
            PinMapServicer(self._store), server
        )
        return [
            HostedService(
                grpc_service_name=SERVICE_NAME,
                display_name="Local Pin Map Service",
                service_class=SERVICE_NAME,
                provided_interfaces=(SERVICE_NAME,),
            )
        ]

    def stop(self) -> None:
        """Nothing to release: registered pin maps stay in the store for a restart."""
