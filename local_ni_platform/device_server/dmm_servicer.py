# ruff: noqa: N802, D102 - the RPC methods bear NI's names and are documented by NI's proto.
"""gRPC face of the simulated NI-DMM driver: ``nidmm_grpc.NiDmm``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from nidmm import nidmm_pb2 as dmm_pb2
from nidmm import nidmm_pb2_grpc as dmm_pb2_grpc

from local_ni_platform.device_server.attributes import AttributeType
from local_ni_platform.device_server.dmm import DmmSession
from local_ni_platform.device_server.errors import error_message
from local_ni_platform.device_server.servicers import (
    DriverServicer,
    reject_unsimulated,
    session_message,
)

_DMM_SERVICE = dmm_pb2.DESCRIPTOR.services_by_name["NiDmm"]

DMM_SERVICE_NAME: str = _DMM_SERVICE.full_name
"""``nidmm_grpc.NiDmm``: gRPC service name and discovery interface."""


@reject_unsimulated(_DMM_SERVICE)
class DmmServicer(DriverServicer, dmm_pb2_grpc.NiDmmServicer):  # type: ignore[misc]
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
            vi=session_message(opened.name),
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
