"""Errors the service reports to its callers, each bound to the gRPC status code it maps to.

The session core and the resource raise these; the servicer turns them into a status without
guessing. Anything else that escapes is a bug and becomes INTERNAL.
"""

from __future__ import annotations

import errno

import grpc


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
