"""Errors of the local Discovery Service registry, one per gRPC status the protocol documents.

They carry no gRPC types so that the registry stays independent of the wire; the servicer maps
each class onto its status code.
"""

from __future__ import annotations


class DiscoveryError(Exception):
    """Base class of the registry's request errors; the message is sent to the client."""


class InvalidRequestError(DiscoveryError, ValueError):
    """A request field is missing or malformed (``INVALID_ARGUMENT``)."""


class ServiceNotFoundError(DiscoveryError, LookupError):
    """No registered service matches a resolve request (``NOT_FOUND``)."""


class AmbiguousServiceError(DiscoveryError):
    """More than one registered service matches a resolve request (``FAILED_PRECONDITION``)."""
