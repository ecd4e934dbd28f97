"""Run a request handler and turn its domain errors into gRPC status codes.

Shared by the servicers of the local platform. Only the listed error classes are
caught, and the RPC is aborted outside the ``except`` block, so unexpected exceptions still
surface as UNKNOWN with a logged traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import NoReturn, TypeVar

import grpc

_logger = logging.getLogger(__name__)

_T = TypeVar("_T")

StatusByError = Mapping[type[Exception], grpc.StatusCode]
"""Error class -> status code; the first entry the error is an instance of wins."""


def call_with_status(
    context: grpc.ServicerContext, status_by_error: StatusByError, action: Callable[[], _T]
) -> _T:
    """Return ``action()``; abort the RPC with the mapped status if it raises a mapped error."""
    errors = tuple(status_by_error)
    try:
        return action()
    except errors as error:
        failure: Exception = error
    abort_with(context, status_by_error, failure)


def abort_with(
    context: grpc.ServicerContext, status_by_error: StatusByError, error: Exception
) -> NoReturn:
    """Fail the RPC with the status code mapped to ``error``'s class and its message."""
    code = next(
        (status for kind, status in status_by_error.items() if isinstance(error, kind)),
        grpc.StatusCode.UNKNOWN,
    )
    _logger.debug("Request failed with %s: %s", code.name, error)
    context.abort(code, str(error))
