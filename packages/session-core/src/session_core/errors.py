"""Errors a service reports to its callers, each bound to the gRPC status code it maps to.

The session core and the resources raise these; :func:`reports_errors` turns them into a status
without guessing. Anything else that escapes is a bug and becomes INTERNAL.
"""

from __future__ import annotations

import errno
import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import grpc

_logger = logging.getLogger(__name__)

MAX_DETAILS_CHARS = 2000
"""A status message longer than this is cut: it must never echo a huge input back to the caller."""
EXCERPT_CHARS = 80


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` for a message: whole when short, else its start and its length."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


class ServiceError(Exception):
    """An expected failure with a message meant for the caller."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgumentError(ServiceError):
    """The request itself is wrong; sending it again unchanged fails again."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class FailedPreconditionError(ServiceError):
    """The request is well formed but the system is not in a state to serve it."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDeniedError(ServiceError):
    """The operating system refused access to the resource."""

    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhaustedError(ServiceError):
    """Out of disk space, quota or file handles."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class AlreadyExistsError(ServiceError):
    """A new session was asked for, but the resource already has an open one."""

    code = grpc.StatusCode.ALREADY_EXISTS


class NotFoundError(ServiceError):
    """No open session matches."""

    code = grpc.StatusCode.NOT_FOUND


class UnavailableError(ServiceError):
    """A resource behind the service (a database server) cannot be reached now; retry later."""

    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceededError(ServiceError):
    """The caller's deadline passed, or would pass before the answer reached it: nothing done."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class CancelledError(ServiceError):
    """The caller cancelled the call (or went away) before it took effect: nothing done."""

    code = grpc.StatusCode.CANCELLED


class AbortedError(ServiceError):
    """The work this call belongs to was ended by something else (e.g. the database rolled a
    transaction back): the call cannot go on until the caller starts over.
    """

    code = grpc.StatusCode.ABORTED


class InternalError(ServiceError):
    """An unexpected or unclassified failure."""

    code = grpc.StatusCode.INTERNAL


_EXHAUSTED_ERRNOS = {errno.ENOSPC, errno.EMFILE, errno.ENFILE, getattr(errno, "EDQUOT", -1)}
_READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}


def from_os_error(error: OSError, action: str) -> ServiceError:
    """Classify an OS error raised while doing ``action`` (e.g. "open '/x.log'")."""
    message = f"cannot {action}: {error.strerror or error}"
    if isinstance(error, PermissionError) or error.errno in _READ_ONLY_ERRNOS:
        return PermissionDeniedError(message)
    if error.errno in _EXHAUSTED_ERRNOS:
        return ResourceExhaustedError(message)
    return InternalError(f"{message} (errno {error.errno})")


HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


def reports_errors(handler: HandlerT) -> HandlerT:
    """Decorate a servicer method: ServiceError becomes its status code, anything else INTERNAL.

    ``context.abort`` raises, so it is called only after the ``except`` blocks have finished:
    an abort inside a broad ``except`` would be caught and re-reported with the wrong code.
    """

    @functools.wraps(handler)
    def wrapper(self: object, request: object, context: grpc.ServicerContext) -> Any:
        try:
            return handler(self, request, context)
        except ServiceError as error:
            failure = error
        except Exception as error:
            if not context.is_active():  # the client went away or cancelled: not a server error
                _logger.info("%s ended: the call was cancelled (%s).", handler.__name__, error)
                return None
            _logger.exception("Unexpected failure in %s.", handler.__name__)
            failure = InternalError(f"unexpected server error: {type(error).__name__}: {error}")
        if failure.code is not grpc.StatusCode.NOT_FOUND:
            _logger.warning(
                "%s failed: %s: %s",
                handler.__name__,
                failure.code.name,
                excerpt(failure.message, 300),
            )
        context.abort(failure.code, excerpt(failure.message, MAX_DETAILS_CHARS))

    return wrapper  # type: ignore[return-value]
