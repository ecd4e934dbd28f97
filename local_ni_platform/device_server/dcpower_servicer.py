# ruff: noqa: N802, D102 - the RPC methods bear NI's names and are documented by NI's proto.
"""gRPC face of the simulated NI-DCPower driver: ``nidcpower_grpc.NiDCPower``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from nidcpower import nidcpower_pb2 as dcpower_pb2
from nidcpower import nidcpower_pb2_grpc as dcpower_pb2_grpc

from local_ni_platform.device_server.attributes import AttributeType
from local_ni_platform.device_server.dcpower import LOAD_RESISTANCE_OHMS, DCPowerSession
from local_ni_platform.device_server.errors import error_message
from local_ni_platform.device_server.repository import OpenedSession, SessionRepository
from local_ni_platform.device_server.servicers import (
    DriverServicer,
    reject_unsimulated,
    session_message,
)
from local_ni_platform.waits import (
    DEFAULT_CANCEL_CHECK_INTERVAL,
    DEFAULT_MAX_WAITING_CALLS,
    WaitBudget,
)

_DCPOWER_SERVICE = dcpower_pb2.DESCRIPTOR.services_by_name["NiDCPower"]

DCPOWER_SERVICE_NAME: str = _DCPOWER_SERVICE.full_name
"""``nidcpower_grpc.NiDCPower``: gRPC service name and discovery interface."""


@reject_unsimulated(_DCPOWER_SERVICE)
class DCPowerServicer(DriverServicer, dcpower_pb2_grpc.NiDCPowerServicer):  # type: ignore[misc]
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
        opened = self._initialize(context, request, channels=None)
        return dcpower_pb2.InitializeWithIndependentChannelsResponse(
            status=0,
            vi=session_message(opened.name),
            new_session_initialized=opened.new_session_initialized,
        )

    def InitializeWithChannels(self, request: Any, context: grpc.ServicerContext) -> Any:
        opened = self._initialize(context, request, channels=request.channels)
        return dcpower_pb2.InitializeWithChannelsResponse(
            status=0,
            vi=session_message(opened.name),
            new_session_initialized=opened.new_session_initialized,
        )

    def _initialize(
        self, context: grpc.ServicerContext, request: Any, *, channels: str | None
    ) -> OpenedSession[DCPowerSession]:
        def initialize() -> DCPowerSession:
            session = DCPowerSession(
                request.resource_name,
                request.option_string,
                load_resistance=self._load_resistance,
                channels=channels,
            )
            if request.reset:
                session.reset("")
            return session

        return self._open(
            context,
            request.session_name,
            request.initialization_behavior,
            DCPowerSession,
            initialize,
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

    def GetAttributeViInt64(self, request: Any, context: grpc.ServicerContext) -> Any:
        value = self._get(context, request, AttributeType.INT64)
        return dcpower_pb2.GetAttributeViInt64Response(status=0, attribute_value=int(value))

    def SetAttributeViInt64(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._set(context, request, AttributeType.INT64, lambda: request.attribute_value_raw)
        return dcpower_pb2.SetAttributeViInt64Response(status=0)

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
