"""``InstrumentConnectionClient``: one client session of a device's connection on the Instrument
Connection Service. Entering opens the connection or attaches to the device's session, as NI's
``SessionInitializationBehavior`` says; leaving closes it exactly when that behaviour says so (the
rules are :class:`session_core.client.SessionClient`'s).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TypeVar

import grpc
from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior
from ni_grpc_extensions.channelpool import GrpcChannelPool

from instrument_connection import instrument_connection_pb2 as pb
from instrument_connection import instrument_connection_pb2_grpc
from session_core.behaviors import InitializationBehavior
from session_core.client import DEFAULT_TIMEOUT_SECONDS, SessionClient
from session_core.client_errors import (
    ServiceNotFoundError,
    ServiceUnreachableError,
    SessionCallError,
    SessionClientError,
)

PROVIDED_INTERFACE = "ni.instrumentconnection.v1.connection"
SERVICE_CLASS = "ni.instrumentconnection.InstrumentConnectionService"
Stub = instrument_connection_pb2_grpc.InstrumentConnectionStub
T = TypeVar("T")


class InstrumentConnectionServiceNotFoundError(ServiceNotFoundError):
    """The Instrument Connection Service could not be located or reached."""


class DeviceUnavailableError(SessionClientError):
    """The device cannot be reached, or its connection broke (UNAVAILABLE): the service closed
    the connection, and the session's next call connects again.
    """


class DeviceTimeoutError(SessionCallError):
    """The device did not complete the call in time (DEADLINE_EXCEEDED): the service closed the
    connection so that a late answer is never read as the next one; the next call connects again.
    """


class NotTextError(ValueError):
    """An answer read as text is not text in the client's encoding: read it with ``read_bytes``
    or ``query_bytes``.
    """


class InstrumentConnectionClient(SessionClient[Stub]):
    """A session of one device's connection on the Instrument Connection Service."""

    PROVIDED_INTERFACE = PROVIDED_INTERFACE
    SERVICE_CLASS = SERVICE_CLASS
    SERVICE_DISPLAY_NAME = "Instrument Connection Service"
    SERVICE_MODULE = "connection_service"
    RESOURCE_KIND = "device"
    INSTRUMENT_TYPE_ID = "InstrumentConnectionService"
    NOT_FOUND_ERROR = InstrumentConnectionServiceNotFoundError

    def __init__(
        self,
        resource_name: str,
        *,
        initialization_behavior: SessionInitializationBehavior = SessionInitializationBehavior.AUTO,
        io_timeout: float | None = None,
        read_termination: str = "",
        write_termination: str = "",
        baud_rate: int = 0,
        encoding: str = "ascii",
        address: str | None = None,
        discovery_client: DiscoveryClient | None = None,
        grpc_channel_pool: GrpcChannelPool | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        """Describe the session; nothing is sent until the context is entered.

        Args:
            resource_name: The device's VISA resource string, e.g.
                ``"TCPIP0::10.0.0.5::5025::SOCKET"`` or ``"ASRL/dev/ttyUSB0::INSTR"``.
            initialization_behavior: One of NI's five behaviours.
            io_timeout: Seconds a call may take on the device when it gives none (None: the
                service's default, 2 s). Used when this client opens the connection.
            read_termination: Ends an answer (empty: a line feed); used when opening.
            write_termination: Appended to what is written (empty: a line feed); used when opening.
            baud_rate: Serial ports: the baud rate (0: the VISA library's default).
            encoding: How text is sent and answers are read by ``write``, ``read``, ``query``.
            address: The service's address; None: ask NI's discovery service.
            discovery_client: The discovery client to ask (None: a new one).
            grpc_channel_pool: Where to take the channel from (a plug-in's ``channel_pool``).
            timeout: Seconds each call may take beyond its time on the device.
        """
        super().__init__(
            resource_name,
            initialization_behavior=initialization_behavior,
            address=address,
            discovery_client=discovery_client,
            grpc_channel_pool=grpc_channel_pool,
            timeout=timeout,
        )
        if io_timeout is not None and io_timeout <= 0:
            raise ValueError(f"io_timeout must be more than 0 seconds, or None, got {io_timeout}")
        self._options = pb.ConnectionOptions(
            timeout_in_milliseconds=0 if io_timeout is None else max(1, round(io_timeout * 1000)),
            read_termination=read_termination,
            write_termination=write_termination,
            baud_rate=baud_rate,
        )
        self.encoding = encoding
        self.device = ""
        """The resource string as the service normalised it (set on entering)."""
        self.io_timeout = io_timeout or 0.0
        """The session's time per call on the device, in seconds (set on entering)."""

    @staticmethod
    def resolve_resource_name(resource_name: str | os.PathLike[str]) -> str:
        """A resource string is sent as it is (the service normalises it)."""
        return os.fspath(resource_name)

    def initialize(self) -> None:
        """Open or attach: :class:`DeviceUnavailableError` when the device cannot be reached."""
        try:
            super().initialize()
        except ServiceUnreachableError as error:
            if error.details().startswith("cannot connect to"):  # the service's, not gRPC's
                raise DeviceUnavailableError(
                    f"Cannot connect to {self.resource_name!r}: {error.details()}", self, error
                ) from error
            raise

    # -- using the device --------------------------------------------------------------------

    def write(self, command: str, *, timeout: float | None = None) -> None:
        """Send ``command`` as text, with the write termination."""
        self.write_bytes(self._encoded(command), timeout=timeout)

    def write_bytes(self, data: bytes, *, raw: bool = False, timeout: float | None = None) -> None:
        """Send ``data`` (with the write termination unless ``raw``)."""
        request = pb.WriteRequest(
            session_id=self.session_id, data=data, raw=raw, timeout_in_milliseconds=_ms(timeout)
        )
        self._call("write to", lambda stub: stub.Write(request, timeout=self._deadline(timeout)))

    def read(self, *, timeout: float | None = None) -> str:
        """Read one answer (until the read termination) as text."""
        return self._decoded(self.read_bytes(timeout=timeout))

    def read_bytes(self, count: int = 0, *, timeout: float | None = None) -> bytes:
        """Read exactly ``count`` bytes, or (0) one answer until the read termination."""
        request = pb.ReadRequest(
            session_id=self.session_id, byte_count=count, timeout_in_milliseconds=_ms(timeout)
        )
        response = self._call(
            "read from", lambda stub: stub.Read(request, timeout=self._deadline(timeout))
        )
        return bytes(response.data)

    def query(self, command: str, *, timeout: float | None = None) -> str:
        """Write ``command`` and read its answer as text, as one exchange."""
        return self._decoded(self.query_bytes(self._encoded(command), timeout=timeout))

    def query_bytes(
        self,
        command: bytes,
        *,
        byte_count: int = 0,
        raw: bool = False,
        timeout: float | None = None,
    ) -> bytes:
        """Write ``command`` and read ``byte_count`` bytes of answer (0: until the read
        termination), as one exchange.
        """
        request = pb.QueryRequest(
            session_id=self.session_id,
            command=command,
            raw=raw,
            byte_count=byte_count,
            timeout_in_milliseconds=_ms(timeout),
        )
        response = self._call(
            "query", lambda stub: stub.Query(request, timeout=self._deadline(timeout))
        )
        return bytes(response.data)

    def query_many(self, commands: Sequence[str], *, timeout: float | None = None) -> list[str]:
        """Query each command in turn, as one exchange and one call (a sweep, a poll); return
        the answers as text. ``timeout`` is each query's.
        """
        answers = self.query_many_bytes([self._encoded(c) for c in commands], timeout=timeout)
        return [self._decoded(answer) for answer in answers]

    def query_many_bytes(
        self, commands: Sequence[bytes], *, timeout: float | None = None
    ) -> list[bytes]:
        """Query each command in turn, as one exchange and one call; return the answers."""
        request = pb.QueryBatchRequest(
            session_id=self.session_id, commands=commands, timeout_in_milliseconds=_ms(timeout)
        )
        deadline = self._deadline(timeout, calls=len(commands))
        response = self._call("query", lambda stub: stub.QueryBatch(request, timeout=deadline))
        return [bytes(answer) for answer in response.answers]

    # -- the session ---------------------------------------------------------------------------

    def _create_stub(self, channel: grpc.Channel) -> Stub:
        return Stub(channel)

    def _initialize_session(self, stub: Stub, behavior: InitializationBehavior) -> tuple[str, bool]:
        response = stub.OpenConnection(
            pb.OpenConnectionRequest(
                resource_name=self.resource_name,
                session_initialization_behavior=int(behavior),  # type: ignore[arg-type]
                options=self._options,
            ),
            timeout=self._deadline(None),
        )
        self.device = response.resource_name
        self.io_timeout = response.options.timeout_in_milliseconds / 1000
        return response.session_id, response.new_session_initialized

    def _close_session(self, stub: Stub) -> None:
        stub.CloseConnection(
            pb.CloseConnectionRequest(session_id=self.session_id), timeout=self._timeout
        )

    def _deadline(self, timeout: float | None, *, calls: int = 1) -> float:
        """The gRPC deadline of ``calls`` device calls of ``timeout`` (None: the session's)."""
        device_time = timeout or self.io_timeout or 2.0
        return device_time * calls + self._timeout

    def _call(self, action: str, call: Callable[[Stub], T]) -> T:
        self._require_open()
        try:
            return call(self._get_stub())
        except grpc.RpcError as error:
            device = self.device or self.resource_name
            if error.code() is grpc.StatusCode.DEADLINE_EXCEEDED:
                raise DeviceTimeoutError(self, action, error) from error
            if error.code() is grpc.StatusCode.UNAVAILABLE and device in (error.details() or ""):
                raise DeviceUnavailableError(
                    f"Could not {action} {device!r}: {error.details()}", self, error
                ) from error
            raise SessionCallError(self, action, error) from error

    def _encoded(self, text: str) -> bytes:
        try:
            return text.encode(self.encoding)
        except UnicodeEncodeError as error:
            raise ValueError(f"{text!r} cannot be sent as {self.encoding} text: {error}") from None

    def _decoded(self, data: bytes) -> str:
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError:
            raise NotTextError(
                f"the answer of {self.device or self.resource_name!r} is not {self.encoding} "
                f"text: {data[:40]!r}; read it with read_bytes or query_bytes"
            ) from None


def _ms(timeout: float | None) -> int:
    if timeout is not None and timeout <= 0:
        raise ValueError(f"timeout must be more than 0 seconds, or None, got {timeout}")
    return 0 if timeout is None else max(1, round(timeout * 1000))
