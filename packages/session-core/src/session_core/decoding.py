"""Requests that cannot be decoded are the caller's mistake: INVALID_ARGUMENT, not INTERNAL.

gRPC's thread-pool server answers a request whose bytes are not its message (a string field
that is not valid UTF-8, a truncated field) with INTERNAL "Exception deserializing request!" and
logs a traceback, before any servicer code runs. :class:`RequestDecodeGuard` decodes instead:
an undecodable unary request is refused with INVALID_ARGUMENT naming the message type, and on a
client stream the undecodable message raises :class:`UndecodableRequestError` from the request
iterator, so the servicer reports it like any other error (the logger says how many records of
the stream were written before it). One warning line is logged, no traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

import grpc

from session_core.errors import InvalidArgumentError, excerpt

_logger = logging.getLogger(__name__)

RequestT = TypeVar("RequestT")
ResponseT = TypeVar("ResponseT")


class UndecodableRequestError(InvalidArgumentError):
    """The bytes of a request are not a valid message of the method's request type."""


class _Undecodable:
    """What the guarded deserializer returns instead of raising."""

    def __init__(self, error: UndecodableRequestError) -> None:
        self.error = error


class RequestDecodeGuard(grpc.ServerInterceptor):
    """Turns undecodable requests into INVALID_ARGUMENT (see the module docstring)."""

    def __init__(self) -> None:
        self._guarded: dict[str, tuple[object, Any]] = {}
        """Per method: the handler seen and its guarded copy (built once, not per call)."""

    def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], grpc.RpcMethodHandler[RequestT, ResponseT] | None
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[RequestT, ResponseT] | None:
        """Wrap the handler's deserializer and behaviour; a method without one is unchanged."""
        handler = continuation(handler_call_details)
        if handler is None or handler.request_deserializer is None:
            return handler
        method = handler_call_details.method
        seen, guarded_handler = self._guarded.get(method, (None, None))
        if seen is handler:
            return cast("grpc.RpcMethodHandler[RequestT, ResponseT]", guarded_handler)
        guarded_handler = self._guard(handler, method)
        self._guarded[method] = (handler, guarded_handler)
        return cast("grpc.RpcMethodHandler[RequestT, ResponseT]", guarded_handler)

    def _guard(self, handler: Any, method: str) -> Any:
        decode = _guarded(handler.request_deserializer, method)
        behavior: Any
        wrap: Any
        if handler.request_streaming:
            if handler.response_streaming:
                behavior, wrap = handler.stream_stream, grpc.stream_stream_rpc_method_handler
            else:
                behavior, wrap = handler.stream_unary, grpc.stream_unary_rpc_method_handler
            guarded = _stream_checked(behavior)
        else:
            if handler.response_streaming:
                behavior, wrap = handler.unary_stream, grpc.unary_stream_rpc_method_handler
            else:
                behavior, wrap = handler.unary_unary, grpc.unary_unary_rpc_method_handler
            guarded = _unary_checked(behavior)
        return wrap(
            guarded,
            request_deserializer=decode,
            response_serializer=handler.response_serializer,
        )


def _guarded(deserialize: Callable[[bytes], Any], method: str) -> Callable[[bytes], Any]:
    def decode(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception as error:
            message = excerpt(str(error) or type(error).__name__)
            _logger.warning("Undecodable request to %s (%d bytes): %s", method, len(data), message)
            return _Undecodable(
                UndecodableRequestError(
                    f"the request to {method} is not a valid message of its type ({message}); "
                    "is every string field valid UTF-8?"
                )
            )

    return decode


def _unary_checked(behavior: Any) -> Callable[[Any, grpc.ServicerContext], Any]:
    def checked(request: Any, context: grpc.ServicerContext) -> Any:
        if isinstance(request, _Undecodable):
            context.abort(request.error.code, request.error.message)
        return behavior(request, context)

    return checked


def _stream_checked(behavior: Any) -> Callable[[Iterator[Any], grpc.ServicerContext], Any]:
    def checked(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
        return behavior(_decoded(requests), context)

    return checked


def _decoded(requests: Iterator[Any]) -> Iterator[Any]:
    for request in requests:
        if isinstance(request, _Undecodable):
            raise request.error
        yield request
