"""A JSON Logger servicer and a guide-style client that can each break one rule on purpose.

The conformance kit's tests serve the servicer on loopback (with reflection, as a user's service
would) and check that the kit names the rule each defect breaks; without defects both conform.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from concurrent import futures
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import grpc
from grpc_reflection.v1alpha import reflection
from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior

from json_logger import json_logger_pb2 as pb
from json_logger import json_logger_pb2_grpc as pb_grpc

B = SessionInitializationBehavior
UNSPECIFIED, INITIALIZE_NEW, ATTACH_TO_EXISTING = 0, 1, 2

SERVER_DEFECTS = {
    "new-says-not-new": "new-creates",
    "new-attaches": "new-refuses-open",
    "attach-says-new": "attach-finds-open",
    "attach-creates": "attach-none-not-found",
    "unspecified-needs-open": "unspecified-creates",
    "unspecified-refuses-open": "unspecified-attaches",
    "new-id-per-attach": "one-session-id",
    "reuses-ids": "new-id-after-close",
    "close-twice-ok": "close-twice-not-found",
    "log-unknown-ok": "unknown-session-id",
    "accepts-bad-behavior": "bad-behavior-refused",
    "racy": "concurrent-new-one-winner",
    "no-normalising": "spellings-one-session",
    "list-omits": "list-sessions",
}
"""Each defect of :class:`BreakableLogger` and the rule it breaks."""


class BreakableLogger(pb_grpc.JsonLoggerServicer):
    """The guide's servicer (sessions only, nothing written), with ``defects`` switched on."""

    def __init__(self, defects: Collection[str] = ()) -> None:
        unknown = set(defects) - set(SERVER_DEFECTS)
        assert not unknown, unknown
        self.defects = set(defects)
        self.sessions: dict[str, str] = {}  # session id -> resource key
        self.lock = threading.Lock()

    def InitializeFile(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        behavior = request.session_initialization_behavior
        if behavior not in (0, 1, 2) and "accepts-bad-behavior" not in self.defects:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unknown behaviour {behavior}")
        key = request.resource_name
        if "no-normalising" not in self.defects:
            key = os.path.realpath(key)
        with self._maybe_locked():
            existing = next((i for i, k in self.sessions.items() if k == key), None)
            if "racy" in self.defects and behavior == INITIALIZE_NEW:
                time.sleep(0.1)  # check, then create: every caller in this window wins
            if existing is not None:
                return self._existing(existing, key, behavior, context)
            if behavior == ATTACH_TO_EXISTING and "attach-creates" not in self.defects:
                context.abort(grpc.StatusCode.NOT_FOUND, f"no session of {key}")
            if behavior == UNSPECIFIED and "unspecified-needs-open" in self.defects:
                context.abort(grpc.StatusCode.NOT_FOUND, f"no session of {key}")
            return self._create(key)

    def _existing(
        self, session_id: str, key: str, behavior: int, context: grpc.ServicerContext
    ) -> Any:
        if behavior == INITIALIZE_NEW and "new-attaches" not in self.defects:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, f"{key} is open")
        if behavior == UNSPECIFIED and "unspecified-refuses-open" in self.defects:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, f"{key} is open")
        if "new-id-per-attach" in self.defects:
            del self.sessions[session_id]
            session_id = uuid.uuid4().hex
            self.sessions[session_id] = key
        new = "attach-says-new" in self.defects
        return pb.InitializeFileResponse(session_id=session_id, new_session_initialized=new)

    def _create(self, key: str) -> Any:
        session_id = uuid.uuid5(uuid.NAMESPACE_URL, key).hex
        if "reuses-ids" not in self.defects:
            session_id = uuid.uuid4().hex
        self.sessions[session_id] = key
        new = "new-says-not-new" not in self.defects
        return pb.InitializeFileResponse(session_id=session_id, new_session_initialized=new)

    def LogMeasurementData(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        if request.session_id not in self.sessions and "log-unknown-ok" not in self.defects:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no session {request.session_id!r}")
        return pb.LogMeasurementDataResponse()

    def CloseFile(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        with self.lock:
            key = self.sessions.pop(request.session_id, None)
        if key is None and "close-twice-ok" not in self.defects:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no session {request.session_id!r}")
        return pb.CloseFileResponse()

    def ListSessions(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        if "list-omits" in self.defects:
            return pb.ListSessionsResponse()
        with self.lock:
            listed = [
                pb.SessionDescription(session_id=i, resource_name=k)
                for i, k in self.sessions.items()
            ]
        return pb.ListSessionsResponse(sessions=listed)

    @contextmanager
    def _maybe_locked(self) -> Iterator[None]:
        if "racy" in self.defects:
            yield
        else:
            with self.lock:
                yield


@contextmanager
def serve(servicer: pb_grpc.JsonLoggerServicer, *, reflect: bool = True) -> Iterator[str]:
    """Serve ``servicer`` on loopback (with server reflection); yield its address."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    pb_grpc.add_JsonLoggerServicer_to_server(servicer, server)
    if reflect:
        names = (pb.DESCRIPTOR.services_by_name["JsonLogger"].full_name, reflection.SERVICE_NAME)
        reflection.enable_server_reflection(names, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)


GUIDE_MAP: dict[SessionInitializationBehavior, int] = {
    B.AUTO: UNSPECIFIED,
    B.INITIALIZE_SERVER_SESSION: INITIALIZE_NEW,
    B.ATTACH_TO_SERVER_SESSION: ATTACH_TO_EXISTING,
    B.INITIALIZE_SESSION_THEN_DETACH: INITIALIZE_NEW,
    B.ATTACH_TO_SESSION_THEN_CLOSE: ATTACH_TO_EXISTING,
}


def guide_closes(behavior: SessionInitializationBehavior, created: bool) -> bool:
    """The guide's exit rule: close what you created unless detaching; THEN_CLOSE closes."""
    if behavior == B.ATTACH_TO_SESSION_THEN_CLOSE:
        return True
    return created and behavior != B.INITIALIZE_SESSION_THEN_DETACH


ExitRule = Callable[[SessionInitializationBehavior, bool], bool]


def guide_client(
    address: str,
    server_map: dict[SessionInitializationBehavior, int] = GUIDE_MAP,
    closes: ExitRule = guide_closes,
) -> type[Any]:
    """The guide's client class, with its own 5 → 3 map and exit rule."""

    class GuideClient:
        def __init__(
            self, path: str, initialization_behavior: SessionInitializationBehavior = B.AUTO
        ) -> None:
            self._channel = grpc.insecure_channel(address)
            self._stub = pb_grpc.JsonLoggerStub(self._channel)
            self._behavior = initialization_behavior
            request = pb.InitializeFileRequest(resource_name=path)
            request.session_initialization_behavior = server_map[initialization_behavior]  # type: ignore[assignment]
            try:
                response = self._stub.InitializeFile(request)
            except grpc.RpcError:
                self._channel.close()
                raise
            self.session_id = response.session_id
            self.new_session_initialized = response.new_session_initialized

        def __enter__(self) -> GuideClient:
            return self

        def __exit__(
            self,
            exc_type: type[BaseException] | None,
            exc: BaseException | None,
            traceback: TracebackType | None,
        ) -> None:
            if closes(self._behavior, self.new_session_initialized):
                self._stub.CloseFile(pb.CloseFileRequest(session_id=self.session_id))
            self._channel.close()

    return GuideClient
