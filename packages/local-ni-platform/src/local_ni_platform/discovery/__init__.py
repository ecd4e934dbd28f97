"""Local stand-in for NI's Discovery Service (``ni.measurementlink.discovery.v1``).

- ``registry``: the registration and resolution rules, free of gRPC.
- ``servicer``: the gRPC servicer that exposes a registry on NI's protocol.
- ``versions`` and ``errors``: version rules and the registry's request errors.
"""

from local_ni_platform.discovery.errors import (
    AmbiguousServiceError,
    DiscoveryError,
    InvalidRequestError,
    ServiceNotFoundError,
)
from local_ni_platform.discovery.registry import (
    ComputeNode,
    Registration,
    ServiceDescription,
    ServiceEndpoint,
    ServiceRegistry,
)
from local_ni_platform.discovery.servicer import SERVICE_NAME, DiscoveryServicer

__all__ = [
    "SERVICE_NAME",
    "AmbiguousServiceError",
    "ComputeNode",
    "DiscoveryError",
    "DiscoveryServicer",
    "InvalidRequestError",
    "Registration",
    "ServiceDescription",
    "ServiceEndpoint",
    "ServiceNotFoundError",
    "ServiceRegistry",
]
