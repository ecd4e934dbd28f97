"""Errors of the local Session Management Service, free of gRPC types.

The servicer maps each class onto the status code NI's proto documents for it. Pin-map errors
(unknown pin map, pin or site) come from :mod:`local_ni_platform.pinmap.errors`.
"""

from __future__ import annotations


class SessionManagementError(Exception):
    """Base class of request errors; the message is sent to the client."""


class InvalidRequestError(SessionManagementError, ValueError):
    """A request field is invalid, e.g. a timeout below -1 or an empty session name."""


class SessionAlreadyRegisteredError(SessionManagementError):
    """RegisterSessions named a session that is already registered (``ALREADY_EXISTS``)."""


class SessionsUnavailableError(SessionManagementError):
    """Sessions stayed reserved by someone else until the timeout expired (``UNAVAILABLE``)."""


class ServiceStoppingError(SessionsUnavailableError):
    """The service is shutting down; waiting reservations give up (``UNAVAILABLE``)."""


class RequestCancelledError(SessionManagementError):
    """The client cancelled the request or its deadline passed while it waited (``CANCELLED``)."""


class RequestDeadlineExceededError(RequestCancelledError):
    """The client's deadline passed while the request waited (``DEADLINE_EXCEEDED``)."""
