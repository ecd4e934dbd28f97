# ruff: noqa: N802, D102 - the RPC methods bear NI's names and are documented by NI's proto.
"""What the gRPC faces of the simulated drivers share (``dcpower_servicer``, ``dmm_servicer``).

Only translates, the way NI's server does, so that NI's unchanged ``nidcpower``/``nidmm`` clients
see what they see with the real server:

- Requests carry ``vi.name``; the session is looked up in the shared
  :class:`~local_ni_platform.device_server.repository.SessionRepository`.
- Setters read the ``*_raw`` member of their oneof (what the Python clients send), or the enum
  member if a client sends that.
- Success is status OK with ``response.status == 0``.
- A driver error is ``UNKNOWN`` with the description as details and trailing metadata
  ``ni-error=<code>`` (NI's ``ApiErrorAndDescriptionToStatus``); the session remembers it for
  ``GetError``. Repository refusals are ``ALREADY_EXISTS``, ``FAILED_PRECONDITION`` or
  ``INVALID_ARGUMENT``. ``NOT_FOUND`` is never used: NI's clients turn it into
  ``DriverTooOldError``.
- Every RPC that is not simulated answers ``UNIMPLEMENTED`` naming itself. (NI's clients replace
  that message with their own "not supported by the NI gRPC Device Server" text.)
- ``WaitForEvent``/``WaitForEventWithChannels`` pass the RPC's context as the waiter's caller, so a
  wait ends when the client cancels or its deadline passes; a wait that would sleep while the
  part's wait budget is full is refused with ``RESOURCE_EXHAUSTED`` (see
  :mod:`local_ni_platform.waits`).

The generated bases and messages ship inside the ``nidcpower`` and ``nidmm`` packages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import grpc
import session_pb2

from local_ni_platform.device_server.attributes import AttributeType
from local_ni_platform.device_server.errors import (
    INVALID_VALUE,
    DeviceServerError,
    DriverError,
    SessionExistsError,
    SessionNameConflictError,
    SessionNotInitializedError,
    WaitAbandonedError,
    WaitDeadlineExceededError,
)
from local_ni_platform.device_server.instrument import SimulatedSession
from local_ni_platform.device_server.repository import OpenedSession, SessionRepository
from local_ni_platform.status import StatusByError, abort_with
from local_ni_platform.waits import WaitBudgetExhaustedError

_logger = logging.getLogger(__name__)

NI_ERROR_METADATA_KEY = "ni-error"

_STATUS_BY_ERROR: StatusByError = {
    SessionExistsError: grpc.StatusCode.ALREADY_EXISTS,
    SessionNotInitializedError: grpc.StatusCode.FAILED_PRECONDITION,
    SessionNameConflictError: grpc.StatusCode.INVALID_ARGUMENT,
    WaitDeadlineExceededError: grpc.StatusCode.DEADLINE_EXCEEDED,  # before its base class
    WaitAbandonedError: grpc.StatusCode.CANCELLED,
    DeviceServerError: grpc.StatusCode.INTERNAL,
}
"""Errors other than a driver's, by class (the first match wins; see :mod:`..status`)."""

_S = TypeVar("_S", bound=SimulatedSession)
_R = TypeVar("_R")
_C = TypeVar("_C", bound=type)


def abort_as_nis_server(context: grpc.ServicerContext, error: DeviceServerError) -> NoReturn:
    """End the RPC the way NI's server reports ``error``: a driver error as UNKNOWN with its code
    in the ``ni-error`` trailing metadata, any other by its class (the platform's one mapping,
    :func:`local_ni_platform.status.abort_with`).
    """
    if isinstance(error, DriverError):
        context.set_trailing_metadata(((NI_ERROR_METADATA_KEY, str(error.code)),))
        context.abort(grpc.StatusCode.UNKNOWN, error.description)
    abort_with(context, _STATUS_BY_ERROR, error)


def reject_unsimulated(service: Any) -> Callable[[_C], _C]:
    """Make every RPC the decorated servicer does not define answer ``UNIMPLEMENTED``.

    The generated base class would answer "Method not implemented!"; naming the RPC tells a user
    which driver call the simulation lacks.
    """

    def decorate(cls: _C) -> _C:
        # Methods of our own classes count; the generated base's stubs do not.
        own = [k for k in cls.__mro__ if not k.__module__.endswith("_pb2_grpc")]
        for method in service.methods:
            if not any(method.name in vars(k) for k in own):
                setattr(cls, method.name, _unsimulated(f"{service.full_name}/{method.name}"))
        return cls

    return decorate


def _unsimulated(full_method: str) -> Callable[[object, object, grpc.ServicerContext], NoReturn]:
    def handler(self: object, request: object, context: grpc.ServicerContext) -> NoReturn:
        _logger.info("Unsimulated RPC %s called.", full_method)
        context.abort(
            grpc.StatusCode.UNIMPLEMENTED,
            f"{full_method} is not simulated by the local NI gRPC Device Server.",
        )

    return handler


class DriverServicer:
    """What both drivers' servicers share: repository access and error reporting."""

    def __init__(self, repository: SessionRepository) -> None:
        self._repository = repository

    def _open(
        self,
        context: grpc.ServicerContext,
        name: str,
        behavior: int,
        kind: type[_S],
        initialize: Callable[[], _S],
    ) -> OpenedSession[_S]:
        try:
            return self._repository.open(name, behavior, kind, initialize)
        except DeviceServerError as error:
            _logger.info("Init of session %r refused: %s", name, error)
            abort_as_nis_server(context, error)
        except ValueError:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Unknown session initialization behavior {behavior}.",
            )

    def _call(
        self,
        context: grpc.ServicerContext,
        vi: Any,
        kind: type[_S],
        operation: Callable[[_S], _R],
    ) -> _R:
        """Run ``operation`` on the session named by ``vi``; report driver errors like NI."""
        try:
            session = self._repository.get(vi.name, kind)
        except DriverError as error:
            abort_as_nis_server(context, error)
        try:
            return operation(session)
        except DriverError as error:
            _logger.debug("Driver error on session %r: %s", vi.name, error)
            session.record_error(error)
            abort_as_nis_server(context, error)
        except DeviceServerError as error:
            abort_as_nis_server(context, error)
        except WaitBudgetExhaustedError as error:
            _logger.warning("Wait on session %r refused: %s", vi.name, error)
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(error))

    def _close(self, context: grpc.ServicerContext, vi: Any, kind: type[_S]) -> None:
        """Forget the name first, then close: the name is free even if closing fails."""
        try:
            self._repository.remove(vi.name, kind).close()
        except DriverError as error:
            abort_as_nis_server(context, error)

    # -- attribute RPCs, the same for both drivers (``_messages`` is the driver's pb2 module) --

    _messages: Any
    _kind: type[SimulatedSession]

    def ClearError(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._call(context, request.vi, self._kind, lambda s: s.take_error())
        return self._messages.ClearErrorResponse(status=0)

    def GetAttributeViInt32(self, request: Any, context: grpc.ServicerContext) -> Any:
        value = self._get(context, request, AttributeType.INT32)
        return self._messages.GetAttributeViInt32Response(status=0, attribute_value=int(value))

    def GetAttributeViReal64(self, request: Any, context: grpc.ServicerContext) -> Any:
        value = self._get(context, request, AttributeType.REAL64)
        return self._messages.GetAttributeViReal64Response(status=0, attribute_value=float(value))

    def GetAttributeViBoolean(self, request: Any, context: grpc.ServicerContext) -> Any:
        value = self._get(context, request, AttributeType.BOOLEAN)
        return self._messages.GetAttributeViBooleanResponse(status=0, attribute_value=bool(value))

    def GetAttributeViString(self, request: Any, context: grpc.ServicerContext) -> Any:
        value = self._get(context, request, AttributeType.STRING)
        return self._messages.GetAttributeViStringResponse(status=0, attribute_value=str(value))

    def SetAttributeViInt32(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._set(context, request, AttributeType.INT32, lambda: int32_value(request))
        return self._messages.SetAttributeViInt32Response(status=0)

    def SetAttributeViReal64(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._set(context, request, AttributeType.REAL64, lambda: real64_value(request))
        return self._messages.SetAttributeViReal64Response(status=0)

    def SetAttributeViBoolean(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._set(context, request, AttributeType.BOOLEAN, lambda: request.attribute_value)
        return self._messages.SetAttributeViBooleanResponse(status=0)

    def SetAttributeViString(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._set(context, request, AttributeType.STRING, lambda: request.attribute_value_raw)
        return self._messages.SetAttributeViStringResponse(status=0)

    def _get(self, context: grpc.ServicerContext, request: Any, kind: AttributeType) -> Any:
        raise NotImplementedError

    def _set(
        self,
        context: grpc.ServicerContext,
        request: Any,
        kind: AttributeType,
        value: Callable[[], object],
    ) -> None:
        raise NotImplementedError


def real64_value(request: Any) -> float:
    """The value of a ``SetAttributeViReal64`` request, from whichever oneof member is set."""
    member = request.WhichOneof("attribute_value_enum")
    if member == "attribute_value_mapped":
        raise DriverError(INVALID_VALUE, "Mapped attribute values are not simulated.")
    return float(
        request.attribute_value if member == "attribute_value" else request.attribute_value_raw
    )


def int32_value(request: Any) -> int:
    """The value of a ``SetAttributeViInt32`` request, from whichever oneof member is set."""
    member = request.WhichOneof("attribute_value_enum")
    return int(
        request.attribute_value if member == "attribute_value" else request.attribute_value_raw
    )


def field_value(request: Any, name: str) -> Any:
    """A request's field ``name``: a plain field, or whichever of the enum/``_raw`` oneof members
    the client set (0 if neither).
    """
    if f"{name}_enum" in request.DESCRIPTOR.oneofs_by_name:
        member = request.WhichOneof(f"{name}_enum")
        return getattr(request, member) if member else 0
    return getattr(request, name)


@dataclass(frozen=True)
class Stores:
    """What a ``Configure*`` RPC that only sets attributes stores: request fields (field name,
    attribute id), constants (attribute id, value), on the channels it names or the session.
    """

    fields: tuple[tuple[str, int], ...] = ()
    constants: tuple[tuple[int, object], ...] = ()
    with_channels: bool = False


@dataclass(frozen=True)
class Calls:
    """An RPC that runs one session method: with the request's channel string, with "" (the
    whole session), or with no argument at all.
    """

    method: str
    with_channels: bool = False
    takes_channels: bool = True


COMMON_ANSWERS: dict[str, dict[str, object]] = {
    "RevisionQuery": {
        "instrument_driver_revision": "local NI platform simulation",
        "firmware_revision": "simulated",
    },
    "InvalidateAllAttributes": {},  # no attribute cache to drop
    "ResetInterchangeCheck": {},  # no interchange checking
    "ClearInterchangeWarnings": {},
}
"""Session-level IVI calls both simulated drivers answer the same way, whatever the session."""


def with_table_rpcs(
    messages: Any,
    kind: type[SimulatedSession],
    *,
    stores: Mapping[str, Stores],
    answers: Mapping[str, Mapping[str, object]],
    calls: Mapping[str, Calls] | None = None,
) -> Callable[[_C], _C]:
    """Give a servicer one method per row: a storing RPC per ``stores`` row, per ``answers``
    row (and :data:`COMMON_ANSWERS`) an RPC that answers those response fields, and per
    ``calls`` row an RPC that runs that session method.

    Rows for RPCs the driver's proto lacks are skipped.
    """

    def decorate(cls: _C) -> _C:
        for rpc, row in stores.items():
            response = getattr(messages, f"{rpc}Response", None)
            if response is not None:
                setattr(cls, rpc, _storing_rpc(response, kind, row))
        for rpc, fields in {**COMMON_ANSWERS, **answers}.items():
            setattr(cls, rpc, _answering_rpc(getattr(messages, f"{rpc}Response"), kind, fields))
        for rpc, call in (calls or {}).items():
            setattr(cls, rpc, _calling_rpc(getattr(messages, f"{rpc}Response"), kind, call))
        return cls

    return decorate


def _storing_rpc(
    response: Callable[..., Any], kind: type[SimulatedSession], row: Stores
) -> Callable[[Any, Any, grpc.ServicerContext], Any]:
    def handler(self: DriverServicer, request: Any, context: grpc.ServicerContext) -> Any:
        values = [(attribute_id, field_value(request, name)) for name, attribute_id in row.fields]
        values += row.constants
        channels = request.channel_name if row.with_channels else ""
        self._call(context, request.vi, kind, lambda s: s.configure(values, channels))
        return response(status=0)

    return handler


def _calling_rpc(
    response: Callable[..., Any], kind: type[SimulatedSession], call: Calls
) -> Callable[[Any, Any, grpc.ServicerContext], Any]:
    def handler(self: DriverServicer, request: Any, context: grpc.ServicerContext) -> Any:
        def run(session: SimulatedSession) -> object:
            method = getattr(session, call.method)
            if not call.takes_channels:
                return method()
            return method(request.channel_name if call.with_channels else "")

        self._call(context, request.vi, kind, run)
        return response(status=0)

    return handler


def _answering_rpc(
    response: Callable[..., Any], kind: type[SimulatedSession], fields: Mapping[str, object]
) -> Callable[[Any, Any, grpc.ServicerContext], Any]:
    def handler(self: DriverServicer, request: Any, context: grpc.ServicerContext) -> Any:
        self._call(context, request.vi, kind, lambda s: s.closed)  # the session must exist
        return response(status=0, **fields)

    return handler


def session_message(name: str) -> Any:
    """The ``nidevice_grpc.Session`` message naming a session."""
    return session_pb2.Session(name=name)
