"""What a service hosted by the local platform provides: the composition contract.

Each NI stand-in (Pin Map, Session Management, the device simulator) is a *part*: it adds its
servicers to the platform's one loopback gRPC server and says how to announce them in discovery.
:class:`~local_ni_platform.platform.LocalPlatform` registers every announced service at the
server's address, serves health and reflection for it, and stops parts in reverse order.

A part whose calls can wait (Session Management's reservations, the device server's events)
declares how many may wait at once (:attr:`PlatformPart.max_waiting_calls`); the platform adds that
many threads to the server's pool on top of
:data:`~local_ni_platform.waits.GENERAL_WORKERS`, and the part refuses further waits, so waiting
calls never take the threads the other parts need (see :mod:`local_ni_platform.waits`).
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

    @property
    def max_waiting_calls(self) -> int:
        """Calls of this part that may wait at the same time (0 if none ever waits)."""

    def add_to_server(self, server: grpc.Server) -> Sequence[HostedService]:
        """Add the part's servicers to ``server`` (not yet started); return what it serves."""

    def stop(self) -> None:
        """Release what the part holds (wake waiters, close simulated sessions); idempotent."""
