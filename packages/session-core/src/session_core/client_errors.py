"""What a session client raises when its service fails it: typed errors that say what failed.

Each is still a :class:`grpc.RpcError` with the server's ``code()`` and ``details()``, so code
that catches ``grpc.RpcError`` keeps working; a caller that wants to tell the failures apart (a
measurement plug-in reporting a clear status) catches the type instead, and never has to guess
from a traceback which call failed.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

import grpc

UNREACHABLE_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


class ClientDescription(Protocol):
    """What an error needs to know of the client that raised it."""

    SERVICE_DISPLAY_NAME: ClassVar[str]
    SERVICE_MODULE: ClassVar[str]
    RESOURCE_KIND: ClassVar[str]
    INSTRUMENT_TYPE_ID: ClassVar[str]
    resource_name: str


class ServiceNotFoundError(RuntimeError):
    """The service could not be located or reached through the NI Discovery Service."""

    def __init__(self, message: str, *, resource_kind: str = "", resource_name: str = "") -> None:
        super().__init__(message)
        self.resource_kind = resource_kind
        """What the client was to open ("log file"), when known."""
        self.resource_name = resource_name


class SessionClientError(grpc.RpcError):
    """A call of a session client failed; the message says which call, on which resource."""

    def __init__(self, message: str, client: ClientDescription, error: grpc.RpcError) -> None:
        super().__init__(message)
        self.service = client.SERVICE_DISPLAY_NAME
        self.resource_kind = client.RESOURCE_KIND
        self.resource_name = client.resource_name
        self.instrument_type_id = client.INSTRUMENT_TYPE_ID
        self._code = error.code()
        self._details = error.details() or ""

    def code(self) -> grpc.StatusCode:
        """The status code the call ended with."""
        return self._code

    def details(self) -> str:
        """The server's (or gRPC's) message."""
        return self._details


class ServiceUnreachableError(SessionClientError):
    """Opening the session failed because the service could not be reached in time."""

    def __init__(self, client: ClientDescription, error: grpc.RpcError) -> None:
        super().__init__(
            f"Cannot reach the {client.SERVICE_DISPLAY_NAME} to open the {client.RESOURCE_KIND} "
            f"{client.resource_name!r}: {error.details()}. Start it with "
            f"`python -m {client.SERVICE_MODULE}`.",
            client,
            error,
        )


class ResourceRefusedError(SessionClientError):
    """The service answered, and refused to open the resource (a bad name, a missing folder,
    ``ALREADY_EXISTS`` or ``NOT_FOUND`` for the behaviour asked for, …).
    """

    def __init__(self, client: ClientDescription, error: grpc.RpcError) -> None:
        super().__init__(
            f"The {client.SERVICE_DISPLAY_NAME} refused the {client.RESOURCE_KIND} "
            f"{client.resource_name!r}: {error.details()}",
            client,
            error,
        )


class SessionCallError(SessionClientError):
    """A call on an open session failed (writing, recording, committing, closing)."""

    def __init__(self, client: ClientDescription, action: str, error: grpc.RpcError) -> None:
        super().__init__(
            f"Could not {action} {client.resource_name!r}: {error.details()}", client, error
        )


def opening_error(client: ClientDescription, error: grpc.RpcError) -> SessionClientError:
    """The typed error of a failed initialize call."""
    if error.code() in UNREACHABLE_CODES:
        return ServiceUnreachableError(client, error)
    return ResourceRefusedError(client, error)
