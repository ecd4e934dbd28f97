# ruff: noqa: N802, D102 - the RPC methods bear NI's names and are documented by NI's proto.
"""gRPC face of the simulated device server: ``nidcpower_grpc.NiDCPower`` and ``nidmm_grpc.NiDmm``.

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
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import grpc
import session_pb2
from nidcpower import nidcpower_pb2 as dcpower_pb2
from nidcpower import nidcpower_pb2_grpc as dcpower_pb2_grpc
from nidmm import nidmm_pb2 as dmm_pb2
from nidmm import nidmm_pb2_grpc as dmm_pb2_grpc

from local_ni_platform.device_server.attributes import AttributeType
from local_ni_platform.device_server.dcpower import LOAD_RESISTANCE_OHMS, DCPowerSession
from local_ni_platform.device_server.dmm import DmmSession
from local_ni_platform.device_server.errors import (
    INVALID_VALUE,
    DeviceServerError,
    DriverError,
    SessionExistsError,
    SessionNameConflictError,
    SessionNotInitializedError,
    WaitAbandonedError,
    WaitDeadlineExceededError,
    error_message,
)
from local_ni_platform.device_server.instrument import SimulatedSession
from local_ni_platform.device_server.repository import OpenedSession, SessionRepository
from local_ni_platform.waits import (
    DEFAULT_CANCEL_CHECK_INTERVAL,
    DEFAULT_MAX_WAITING_CALLS,
    WaitBudget,
    WaitBudgetExhaustedError,
)

_logger = logging.getLogger(__name__)

_DCPOWER_SERVICE = dcpower_pb2.DESCRIPTOR.services_by_name["NiDCPower"]
_DMM_SERVICE = dmm_pb2.DESCRIPTOR.services_by_name["NiDmm"]

DCPOWER_SERVICE_NAME: str = _DCPOWER_SERVICE.full_name
"""``nidcpower_grpc.NiDCPower``: gRPC service name and discovery interface."""

DMM_SERVICE_NAME: str = _DMM_SERVICE.full_name
"""``nidmm_grpc.NiDmm``: gRPC service name and discovery interface."""

NI_ERROR_METADATA_KEY = "ni-error"

_STATUS_BY_ERROR: dict[type[DeviceServerError], grpc.StatusCode] = {
    SessionExistsError: grpc.StatusCode.ALREADY_EXISTS,
    SessionNotInitializedError: grpc.StatusCode.FAILED_PRECONDITION,
    SessionNameConflictError: grpc.StatusCode.INVALID_ARGUMENT,
    WaitAbandonedError: grpc.StatusCode.CANCELLED,
    WaitDeadlineExceededError: grpc.StatusCode.DEADLINE_EXCEEDED,
}

_S = TypeVar("_S", bound=SimulatedSession)
_R = TypeVar("_R")
_C = TypeVar("_C", bound=type)


def abort_with(context: grpc.ServicerContext, error: DeviceServerError) -> NoReturn:
    """End the RPC the way NI's server reports ``error``."""
    if isinstance(error, DriverError):
        context.set_trailing_metadata(((NI_ERROR_METADATA_KEY, str(error.code)),))
        context.abort(grpc.StatusCode.UNKNOWN, error.description)
    context.abort(_STATUS_BY_ERROR.get(type(error), grpc.StatusCode.INTERNAL), str(error))


def _reject_unsimulated(service: Any) -> Callable[[_C], _C]:
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


class _DriverServicer:
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
            abort_with(context, error)
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
            abort_with(context, error)
        try:
            return operation(session)
        except DriverError as error:
            _logger.debug("Driver error on session %r: %s", vi.name, error)
            session.record_error(error)
            abort_with(context, error)
        except DeviceServerError as error:
            abort_with(context, error)
        except WaitBudgetExhaustedError as error:
            _logger.warning("Wait on session %r refused: %s", vi.name, error)
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(error))

    def _close(self, context: grpc.ServicerContext, vi: Any, kind: type[_S]) -> None:
        """Forget the name first, then close: the name is free even if closing fails."""
        try:
            self._repository.remove(vi.name, kind).close()
        except DriverError as error:
            abort_with(context, error)

    # -- attribute RPCs, the same for both drivers (``_messages`` is the driver's pb2 module) --

    _messages: Any

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
        self._set(context, request, AttributeType.INT32, lambda: _int32_value(request))
        return self._messages.SetAttributeViInt32Response(status=0)

    def SetAttributeViReal64(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._set(context, request, AttributeType.REAL64, lambda: _real64_value(request))
        return self._messages.SetAttributeViReal64Response(status=0)

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


def _real64_value(request: Any) -> float:
    """The value of a ``SetAttributeViReal64`` request, from whichever oneof member is set."""
    member = request.WhichOneof("attribute_value_enum")
    if member == "attribute_value_mapped":
        raise DriverError(INVALID_VALUE, "Mapped attribute values are not simulated.")
    return float(
        request.attribute_value if member == "attribute_value" else request.attribute_value_raw
    )


def _int32_value(request: Any) -> int:
    """The value of a ``SetAttributeViInt32`` request, from whichever oneof member is set."""
    member = request.WhichOneof("attribute_value_enum")
    return int(
        request.attribute_value if member == "attribute_value" else request.attribute_value_raw
    )


def _session(name: str) -> Any:
    return session_pb2.Session(name=name)


@_reject_unsimulated(_DCPOWER_SERVICE)
class DCPowerServicer(_DriverServicer, dcpower_pb2_grpc.NiDCPowerServicer):  # type: ignore[misc]
    """``nidcpower_grpc.NiDCPower`` backed by :class:`DCPowerSession` simulations."""

    _messages = dcpower_pb2

    def __init__(
        self,
        repository: SessionRepository,
        *,
        load_resistance: float = LOAD_RESISTANCE_OHMS,
        wait_budget: WaitBudget | None = None,
        cancel_check_interval: float = DEFAULT_CANCEL_CHECK_INTERVAL,
    ) -> None:
        """Serve the DCPower sessions of ``repository``; new sessions get ``load_resistance``.

        Event waits that must sleep hold a slot of ``wait_budget`` (default: a budget of
        :data:`~local_ni_platform.waits.DEFAULT_MAX_WAITING_CALLS`); a waiter re-checks its caller
        at least every ``cancel_check_interval`` seconds.
        """
        super().__init__(repository)
        self._load_resistance = load_resistance
        self._wait_budget = wait_budget or WaitBudget(
            "NI-DCPower event wait", DEFAULT_MAX_WAITING_CALLS
        )
        self._cancel_check_interval = cancel_check_interval

    def InitializeWithIndependentChannels(self, request: Any, context: grpc.ServicerContext) -> Any:
        def initialize() -> DCPowerSession:
            session = DCPowerSession(
                request.resource_name,
                request.option_string,
                load_resistance=self._load_resistance,
            )
            if request.reset:
                session.reset("")
            return session

        opened = self._open(
            context,
            request.session_name,
            request.initialization_behavior,
            DCPowerSession,
            initialize,
        )
        return dcpower_pb2.InitializeWithIndependentChannelsResponse(
            status=0,
            vi=_session(opened.name),
            new_session_initialized=opened.new_session_initialized,
        )

    def Close(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._close(context, request.vi, DCPowerSession)
        return dcpower_pb2.CloseResponse(status=0)

    def GetChannelNameFromString(self, request: Any, context: grpc.ServicerContext) -> Any:
        names = self._call(
            context, request.vi, DCPowerSession, lambda s: s.channel_names_at(request.index)
        )
        return dcpower_pb2.GetChannelNameFromStringResponse(status=0, channel_name=names)

    def GetChannelName(self, request: Any, context: grpc.ServicerContext) -> Any:
        name = self._call(
            context, request.vi, DCPowerSession, lambda s: s.channel_name(request.index)
        )
        return dcpower_pb2.GetChannelNameResponse(status=0, channel_name=name)

    def SetAttributeViBoolean(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._set(context, request, AttributeType.BOOLEAN, lambda: request.attribute_value)
        return dcpower_pb2.SetAttributeViBooleanResponse(status=0)

    def SetAttributeViString(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._set(context, request, AttributeType.STRING, lambda: request.attribute_value_raw)
        return dcpower_pb2.SetAttributeViStringResponse(status=0)

    def InitiateWithChannels(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._call(context, request.vi, DCPowerSession, lambda s: s.initiate(request.channel_name))
        return dcpower_pb2.InitiateWithChannelsResponse(status=0)

    def CommitWithChannels(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._call(context, request.vi, DCPowerSession, lambda s: s.commit(request.channel_name))
        return dcpower_pb2.CommitWithChannelsResponse(status=0)

    def AbortWithChannels(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._call(context, request.vi, DCPowerSession, lambda s: s.abort(request.channel_name))
        return dcpower_pb2.AbortWithChannelsResponse(status=0)

    def ResetWithChannels(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._call(context, request.vi, DCPowerSession, lambda s: s.reset(request.channel_name))
        return dcpower_pb2.ResetWithChannelsResponse(status=0)

    def Reset(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._call(context, request.vi, DCPowerSession, lambda s: s.reset(""))
        return dcpower_pb2.ResetResponse(status=0)

    def WaitForEventWithChannels(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._wait_for_event(context, request, request.channel_name)
        return dcpower_pb2.WaitForEventWithChannelsResponse(status=0)

    def WaitForEvent(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._wait_for_event(context, request, "")
        return dcpower_pb2.WaitForEventResponse(status=0)

    def _wait_for_event(self, context: grpc.ServicerContext, request: Any, channels: str) -> None:
        """Wait for the event on ``channels`` ("" = all) for as long as the caller waits."""
        member = request.WhichOneof("event_id_enum")
        event_id = request.event_id if member == "event_id" else request.event_id_raw
        self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.wait_for_event(
                channels,
                event_id,
                request.timeout,
                caller=context,
                budget=self._wait_budget,
                cancel_check_interval=self._cancel_check_interval,
            ),
        )

    def MeasureMultiple(self, request: Any, context: grpc.ServicerContext) -> Any:
        measurements = self._call(
            context, request.vi, DCPowerSession, lambda s: s.measure_multiple(request.channel_name)
        )
        return dcpower_pb2.MeasureMultipleResponse(
            status=0,
            voltage_measurements=[m.voltage for m in measurements],
            current_measurements=[m.current for m in measurements],
        )

    def Measure(self, request: Any, context: grpc.ServicerContext) -> Any:
        member = request.WhichOneof("measurement_type_enum")
        kind = (
            request.measurement_type
            if member == "measurement_type"
            else request.measurement_type_raw
        )
        value = self._call(
            context, request.vi, DCPowerSession, lambda s: s.measure(request.channel_name, kind)
        )
        return dcpower_pb2.MeasureResponse(status=0, measurement=value)

    def QueryInCompliance(self, request: Any, context: grpc.ServicerContext) -> Any:
        in_compliance = self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.query_in_compliance(request.channel_name),
        )
        return dcpower_pb2.QueryInComplianceResponse(status=0, in_compliance=in_compliance)

    def ErrorMessage(self, request: Any, context: grpc.ServicerContext) -> Any:
        return dcpower_pb2.ErrorMessageResponse(
            status=0, error_message=error_message(request.error_code)
        )

    def GetError(self, request: Any, context: grpc.ServicerContext) -> Any:
        code, description = self._call(
            context, request.vi, DCPowerSession, lambda s: s.take_error()
        )
        return dcpower_pb2.GetErrorResponse(status=0, code=code, description=description)

    def _get(self, context: grpc.ServicerContext, request: Any, kind: AttributeType) -> Any:
        return self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.get_attribute(request.channel_name, request.attribute_id, kind),
        )

    def _set(
        self,
        context: grpc.ServicerContext,
        request: Any,
        kind: AttributeType,
        value: Callable[[], object],
    ) -> None:
        self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.set_attribute(request.channel_name, request.attribute_id, kind, value()),
        )


@_reject_unsimulated(_DMM_SERVICE)
class DmmServicer(_DriverServicer, dmm_pb2_grpc.NiDmmServicer):  # type: ignore[misc]
    """``nidmm_grpc.NiDmm`` backed by :class:`DmmSession` simulations."""

    _messages = dmm_pb2

    def InitWithOptions(self, request: Any, context: grpc.ServicerContext) -> Any:
        def initialize() -> DmmSession:
            session = DmmSession(request.resource_name, request.option_string)
            if request.reset_device:
                session.reset()
            return session

        opened = self._open(
            context, request.session_name, request.initialization_behavior, DmmSession, initialize
        )
        return dmm_pb2.InitWithOptionsResponse(
            status=0,
            vi=_session(opened.name),
            new_session_initialized=opened.new_session_initialized,
        )

    def Close(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._close(context, request.vi, DmmSession)
        return dmm_pb2.CloseResponse(status=0)

    def Reset(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._call(context, request.vi, DmmSession, lambda s: s.reset())
        return dmm_pb2.ResetResponse(status=0)

    def ConfigureMeasurementDigits(self, request: Any, context: grpc.ServicerContext) -> Any:
        member = request.WhichOneof("measurement_function_enum")
        function = (
            request.measurement_function
            if member == "measurement_function"
            else request.measurement_function_raw
        )
        self._call(
            context,
            request.vi,
            DmmSession,
            lambda s: s.configure_measurement_digits(
                function, request.range, request.resolution_digits
            ),
        )
        return dmm_pb2.ConfigureMeasurementDigitsResponse(status=0)

    def Read(self, request: Any, context: grpc.ServicerContext) -> Any:
        member = request.WhichOneof("maximum_time_enum")
        maximum_time = (
            request.maximum_time if member == "maximum_time" else request.maximum_time_raw
        )
        reading = self._call(context, request.vi, DmmSession, lambda s: s.read(maximum_time))
        return dmm_pb2.ReadResponse(status=0, reading=reading)

    def GetErrorMessage(self, request: Any, context: grpc.ServicerContext) -> Any:
        return dmm_pb2.GetErrorMessageResponse(
            status=0, error_message=error_message(request.error_code)
        )

    def GetError(self, request: Any, context: grpc.ServicerContext) -> Any:
        code, description = self._call(context, request.vi, DmmSession, lambda s: s.take_error())
        return dmm_pb2.GetErrorResponse(status=0, error_code=code, description=description)

    def _get(self, context: grpc.ServicerContext, request: Any, kind: AttributeType) -> Any:
        return self._call(
            context,
            request.vi,
            DmmSession,
            lambda s: s.get_attribute(request.attribute_id, kind),
        )

    def _set(
        self,
        context: grpc.ServicerContext,
        request: Any,
        kind: AttributeType,
        value: Callable[[], object],
    ) -> None:
        self._call(
            context,
            request.vi,
            DmmSession,
            lambda s: s.set_attribute(request.attribute_id, kind, value()),
        )
