"""The InstrumentConnection servicer: maps requests to the session registry and the device
connection, and errors to gRPC status codes (``session_core.errors.reports_errors``).
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager

import grpc
import pyvisa

from connection_service.device import (
    MAX_BATCH_COMMANDS,
    MAX_READ_BYTES,
    DeviceConnection,
    Options,
)
from connection_service.names import device_name
from instrument_connection import instrument_connection_pb2 as pb
from instrument_connection import instrument_connection_pb2_grpc
from session_core import hosting
from session_core.behaviors import InitializationBehavior
from session_core.errors import DeadlineExceededError, InvalidArgumentError, reports_errors
from session_core.registry import SessionRegistry

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["InstrumentConnection"].full_name
ANSWER_MARGIN_SECONDS = 0.05
"""A call's device work ends this long before the caller's deadline, so the answer arrives."""


class InstrumentConnectionServicer(instrument_connection_pb2_grpc.InstrumentConnectionServicer):
    """Serves one session per device; the calls of a session run one at a time."""

    def __init__(self, manager: pyvisa.ResourceManager) -> None:
        self.manager = manager
        self.registry: SessionRegistry[DeviceConnection] = SessionRegistry(resource_kind="device")

    @reports_errors
    def OpenConnection(  # noqa: N802 - gRPC method name
        self, request: pb.OpenConnectionRequest, context: grpc.ServicerContext
    ) -> pb.OpenConnectionResponse:
        """Open the device's connection, or attach to its session, as the behaviour says."""
        name = device_name(request.resource_name)
        behavior = InitializationBehavior.from_wire(request.session_initialization_behavior)
        asked = request.options
        options = Options.checked(
            timeout_ms=asked.timeout_in_milliseconds,
            read_termination=asked.read_termination,
            write_termination=asked.write_termination,
            baud_rate=asked.baud_rate,
        )
        session, created = self.registry.initialize(
            name.key,
            behavior,
            lambda: DeviceConnection(self.manager, name, options),
            display_name=name.display,
        )
        return pb.OpenConnectionResponse(
            session_id=session.session_id,
            new_session_initialized=created,
            resource_name=session.resource.name.display,
            options=_described(session.resource.options),
        )

    @reports_errors
    def Write(  # noqa: N802 - gRPC method name
        self, request: pb.WriteRequest, context: grpc.ServicerContext
    ) -> pb.WriteResponse:
        """Send data to the device."""
        with self._using(request.session_id, context) as device:
            timeout = self._timeout(device, request.timeout_in_milliseconds, context)
            device.write(request.data, raw=request.raw, timeout=timeout)
        return pb.WriteResponse()

    @reports_errors
    def Read(  # noqa: N802 - gRPC method name
        self, request: pb.ReadRequest, context: grpc.ServicerContext
    ) -> pb.ReadResponse:
        """Read an answer, or a number of bytes."""
        _check_count(request.byte_count)
        with self._using(request.session_id, context) as device:
            timeout = self._timeout(device, request.timeout_in_milliseconds, context)
            return pb.ReadResponse(data=device.read(request.byte_count, timeout=timeout))

    @reports_errors
    def Query(  # noqa: N802 - gRPC method name
        self, request: pb.QueryRequest, context: grpc.ServicerContext
    ) -> pb.QueryResponse:
        """Write a command and read its answer as one exchange."""
        _check_count(request.byte_count)
        with self._using(request.session_id, context) as device:
            timeout = self._timeout(device, request.timeout_in_milliseconds, context)
            data = device.query(
                request.command, raw=request.raw, count=request.byte_count, timeout=timeout
            )
        return pb.QueryResponse(data=data)

    @reports_errors
    def QueryBatch(  # noqa: N802 - gRPC method name
        self, request: pb.QueryBatchRequest, context: grpc.ServicerContext
    ) -> pb.QueryBatchResponse:
        """Query each command in turn, as one exchange."""
        count = len(request.commands)
        if not 0 < count <= MAX_BATCH_COMMANDS:
            raise InvalidArgumentError(
                f"commands holds {count:,} commands; send 1 to {MAX_BATCH_COMMANDS:,}"
            )
        with self._using(request.session_id, context) as device:
            timeout = self._timeout(device, request.timeout_in_milliseconds, context)
            remaining = hosting.time_left(context)
            until = (
                None if remaining is None else time.monotonic() + remaining - ANSWER_MARGIN_SECONDS
            )
            answers = device.query_batch(request.commands, timeout=timeout, until=until)
        return pb.QueryBatchResponse(answers=answers)

    @reports_errors
    def CloseConnection(  # noqa: N802 - gRPC method name
        self, request: pb.CloseConnectionRequest, context: grpc.ServicerContext
    ) -> pb.CloseConnectionResponse:
        """Close the connection and end the session."""
        self.registry.close(request.session_id)
        return pb.CloseConnectionResponse()

    @reports_errors
    def ListSessions(  # noqa: N802 - gRPC method name
        self, request: pb.ListSessionsRequest, context: grpc.ServicerContext
    ) -> pb.ListSessionsResponse:
        """Describe every open session."""
        return pb.ListSessionsResponse(
            sessions=[
                pb.SessionDescription(
                    session_id=session.session_id,
                    resource_name=session.resource.name.display,
                    options=_described(session.resource.options),
                    connected=session.resource.connected,
                    calls=session.resource.calls,
                    faults=session.resource.faults,
                )
                for session in self.registry.sessions()
            ]
        )

    def close_all(self) -> None:
        """At shutdown: close every connection."""
        self.registry.close_all()

    def _using(
        self, session_id: str, context: grpc.ServicerContext
    ) -> AbstractContextManager[DeviceConnection]:
        """The session's device, once the session's earlier calls are done (or the caller's
        deadline comes first: DEADLINE_EXCEEDED, nothing sent).
        """
        return self.registry.use(session_id, timeout=hosting.time_left(context))

    @staticmethod
    def _timeout(device: DeviceConnection, timeout_ms: int, context: grpc.ServicerContext) -> float:
        if timeout_ms < 0:
            raise InvalidArgumentError(f"timeout_in_milliseconds is negative ({timeout_ms})")
        timeout = timeout_ms / 1000 if timeout_ms else device.options.timeout
        remaining = hosting.time_left(context)
        if remaining is None:
            return timeout
        if remaining <= ANSWER_MARGIN_SECONDS:
            raise DeadlineExceededError("the caller's deadline is too close; nothing was sent")
        return min(timeout, remaining - ANSWER_MARGIN_SECONDS)


def _check_count(count: int) -> None:
    if count > MAX_READ_BYTES:
        raise InvalidArgumentError(
            f"byte_count is {count:,}; at most {MAX_READ_BYTES:,} bytes are read in one call"
        )


def _described(options: Options) -> pb.ConnectionOptions:
    return pb.ConnectionOptions(
        timeout_in_milliseconds=round(options.timeout * 1000),
        read_termination=options.read_termination,
        write_termination=options.write_termination,
        baud_rate=options.baud_rate,
    )
