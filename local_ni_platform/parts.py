"""What a service hosted by the local platform provides: the composition contract.

Each NI stand-in (Pin Map, Session Management, the device simulator) is a *part*: it adds its
servicers to the platform's one loopback gRPC server and says how to announce them in discovery.
:class:`~local_ni_platform.platform.LocalPlatform` registers every announced service at the
server's address, serves health and reflection for it, and stops parts in reverse order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import grpc


@dataclass(frozen=True)
class HostedService:
    """One gRPC service a part serves, as discovery and health checking see it."""

    grpc_service_name: str
    """Full gRPC name, e.g. ``ni.measurementlink.pinmap.v1.PinMapService`` (health, reflection)."""

    display_name: str
    service_class: str
    provided_interfaces: tuple[str, ...]
    extra_grpc_service_names: tuple[str, ...] = ()
    """Further gRPC services behind the same registration (health and reflection serve them)."""


class PlatformPart(Protocol):
    """A stand-in service hosted on the platform's server."""

    def add_to_server(self, server: grpc.Server) -> Sequence[HostedService]:
        """Add the part's servicers to ``server`` (not yet started); return what it serves."""

    def stop(self) -> None:
        """Release what the part holds (wake waiters, close simulated sessions); idempotent."""
