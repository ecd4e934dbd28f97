"""The client session: NI's five behaviours, exit effects (also with an exception in flight), the
session constructor, value conversion and the streamed path.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import grpc
import pytest
from ni.measurementlink.sessionmanagement.v1.client import (
    SessionInformation,
    SessionInitializationBehavior,
)
from ni_grpc_extensions.channelpool import GrpcChannelPool

from json_logger import json_logger_pb2 as pb
from json_logger.json_logger_pb2_grpc import JsonLoggerStub
from logger_client import (
    JSON_LOGGER_INSTRUMENT_TYPE,
    JsonLoggerClient,
    JsonLoggerSessionConstructor,
    MeasurementRecord,
    read_records,
    resolve_resource_name,
)
from tests.test_server_behaviors import INITIALIZE_NEW, close, initialize

Behavior = SessionInitializationBehavior


def open_session_ids(stub: JsonLoggerStub) -> set[str]:
    return {s.session_id for s in stub.ListSessions(pb.ListSessionsRequest()).sessions}


class BoomError(Exception):
    pass


# (behaviour, session already open before?, expect new session?, expect closed on exit?)
EXIT_EFFECTS = [
    (Behavior.AUTO, False, True, True),
    (Behavior.AUTO, True, False, False),
    (Behavior.INITIALIZE_SERVER_SESSION, False, True, True),
    (Behavior.ATTACH_TO_SERVER_SESSION, True, False, False),
    (Behavior.INITIALIZE_SESSION_THEN_DETACH, False, True, False),
    (Behavior.ATTACH_TO_SESSION_THEN_CLOSE, True, False, True),
]


@pytest.mark.parametrize(("behavior", "pre_open", "new", "closed"), EXIT_EFFECTS)
def test_exit_effect_of_each_behaviour(
    logger_address: str,
    stub: JsonLoggerStub,
    log_path: Path,
    behavior: Behavior,
    pre_open: bool,
    new: bool,
    closed: bool,
) -> None:
    existing = initialize(stub, log_path, INITIALIZE_NEW).session_id if pre_open else None

    with JsonLoggerClient(
        log_path, initialization_behavior=behavior, address=logger_address
    ) as client:
        client.log_data("step", {"behavior": behavior.name}, {"ok": True})
        session_id = client.session_id

    assert client.new_session_initialized is new
    assert (existing or session_id) == session_id
    assert (session_id not in open_session_ids(stub)) is closed
    assert read_records(log_path)[0]["measurement_configurations"] == {"behavior": behavior.name}
    if not closed:
        close(stub, session_id)


@pytest.mark.parametrize(
    ("behavior", "pre_open", "closed"),
    [
        (Behavior.AUTO, False, True),
        (Behavior.AUTO, True, False),
        (Behavior.INITIALIZE_SERVER_SESSION, False, True),
        (Behavior.ATTACH_TO_SERVER_SESSION, True, False),
        # a failed setup closes what it created instead of leaving an orphan nobody registers
        (Behavior.INITIALIZE_SESSION_THEN_DETACH, False, True),
        (Behavior.ATTACH_TO_SESSION_THEN_CLOSE, True, True),
    ],
)
def test_exit_with_an_exception_in_flight(
    logger_address: str,
    stub: JsonLoggerStub,
    log_path: Path,
    behavior: Behavior,
    pre_open: bool,
    closed: bool,
) -> None:
    if pre_open:
        initialize(stub, log_path, INITIALIZE_NEW)

    with (
        pytest.raises(BoomError),
        JsonLoggerClient(
            log_path, initialization_behavior=behavior, address=logger_address
        ) as client,
    ):
        raise BoomError

    assert (client.session_id not in open_session_ids(stub)) is closed
    if not closed:
        close(stub, client.session_id)


def test_a_failing_close_never_masks_the_exception_in_flight(
    logger_address: str, stub: JsonLoggerStub, log_path: Path
) -> None:
    with (
        pytest.raises(BoomError),
        JsonLoggerClient(
            log_path,
            initialization_behavior=Behavior.INITIALIZE_SERVER_SESSION,
            address=logger_address,
        ) as client,
    ):
        close(stub, client.session_id)  # someone else closes it: the client's close will fail
        raise BoomError


def test_a_failing_close_without_exception_is_raised(
    logger_address: str, stub: JsonLoggerStub, log_path: Path
) -> None:
    client = JsonLoggerClient(
        log_path, initialization_behavior=Behavior.INITIALIZE_SERVER_SESSION, address=logger_address
    )
    with pytest.raises(grpc.RpcError) as raised, client:
        close(stub, client.session_id)

    assert raised.value.code() is grpc.StatusCode.NOT_FOUND


def test_failed_multi_session_setup_leaves_no_orphan(
    logger_address: str, stub: JsonLoggerStub, tmp_path: Path
) -> None:
    """What the SDK's initialize_sessions does: an ExitStack unwinds earlier sessions."""
    first, second = tmp_path / "first.ndjson", tmp_path / "second.ndjson"
    blocker = initialize(stub, second, INITIALIZE_NEW).session_id

    with pytest.raises(grpc.RpcError), contextlib.ExitStack() as stack:
        for path in (first, second):
            stack.enter_context(
                JsonLoggerClient(
                    path,
                    initialization_behavior=Behavior.INITIALIZE_SESSION_THEN_DETACH,
                    address=logger_address,
                )
            )

    assert open_session_ids(stub) == {blocker}
    close(stub, blocker)


def test_explicit_close_file_then_exit_does_not_close_twice(
    logger_address: str, stub: JsonLoggerStub, log_path: Path
) -> None:
    with JsonLoggerClient(log_path, address=logger_address) as client:
        client.close_session()
        assert not client.is_open

    with pytest.raises(RuntimeError, match="not open"):
        client.log_data("late", {}, {})


def test_session_constructor_builds_a_context_manager_for_the_reserved_file(
    logger_address: str, stub: JsonLoggerStub, log_path: Path
) -> None:
    session_info = SessionInformation(
        session_name=f"{JSON_LOGGER_INSTRUMENT_TYPE}-{log_path}",
        resource_name=str(log_path),
        channel_list="0",
        instrument_type_id=JSON_LOGGER_INSTRUMENT_TYPE,
        session_exists=False,
        channel_mappings=[],
    )
    constructor = JsonLoggerSessionConstructor(
        Behavior.INITIALIZE_SESSION_THEN_DETACH, address=logger_address
    )

    client = constructor(session_info)

    assert isinstance(client, contextlib.AbstractContextManager)
    with client as entered:
        assert entered is client
    assert client.session_id in open_session_ids(stub)
    assert JSON_LOGGER_INSTRUMENT_TYPE == "JsonLoggerService"
    close(stub, client.session_id)


def test_values_are_sent_as_text(logger_address: str, log_path: Path) -> None:
    with JsonLoggerClient(log_path, address=logger_address) as client:
        client.log_data(
            "types",
            {"text": "5 V", "number": 5.0, "flag": True, "none": None, "int": 3},
            {"list": [1.5, 2.5], "path": Path("/x"), "nan": float("nan"), "big": 1e300},
        )

    [record] = read_records(log_path)
    assert record["measurement_configurations"] == {
        "text": "5 V",
        "number": "5.0",
        "flag": "true",
        "none": "null",
        "int": "3",
    }
    assert record["measurement_outputs"] == {
        "list": "[1.5, 2.5]",
        "path": "/x",
        "nan": "NaN",
        "big": "1e+300",
    }


def test_streamed_records_are_all_written_in_order(logger_address: str, log_path: Path) -> None:
    with JsonLoggerClient(log_path, address=logger_address) as client:
        count = client.log_data_stream(
            MeasurementRecord("sweep", {"point": index}, {"v": index * 0.5})
            for index in range(1000)
        )

    assert count == 1000
    records = read_records(log_path)
    assert [r["measurement_configurations"]["point"] for r in records] == [
        str(i) for i in range(1000)
    ]


def test_a_stream_of_large_records_is_split_under_grpcs_message_limit(
    logger_address: str, log_path: Path
) -> None:
    # 64 records of 200 kB: one default batch of 256 would be a 12.8 MB message, over gRPC's 4 MiB
    large = "x" * 200_000
    with JsonLoggerClient(log_path, address=logger_address) as client:
        count = client.log_data_stream(
            MeasurementRecord("trace", {"point": index}, {"samples": large}) for index in range(64)
        )

    assert count == 64
    assert [r["measurement_configurations"]["point"] for r in read_records(log_path)] == [
        str(i) for i in range(64)
    ]


def test_relative_names_resolve_against_the_clients_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOG_ROOT", str(tmp_path / "logs"))

    assert resolve_resource_name("a.ndjson") == str(tmp_path / "a.ndjson")
    assert resolve_resource_name("$LOG_ROOT/b.log") == str(tmp_path / "logs" / "b.log")
    assert resolve_resource_name("~/c.txt") == os.path.expanduser("~/c.txt")


def test_unknown_behaviour_is_refused_before_any_call() -> None:
    with pytest.raises(ValueError):
        JsonLoggerClient("/tmp/x.ndjson", initialization_behavior=99)  # type: ignore[arg-type]


def test_nothing_is_sent_before_the_context_is_entered(
    stub: JsonLoggerStub, log_path: Path
) -> None:
    JsonLoggerClient(log_path, address="127.0.0.1:1")  # an unreachable address is never dialled

    assert not log_path.exists()


def test_a_minimal_client_subclass_closes_and_reports_errors(logger_address: str) -> None:
    """A subclass naming only its service (as notebook 6's does) gets every message right."""
    from json_logger import json_logger_pb2_grpc as pb_grpc
    from session_core.client import SessionClient
    from session_core.client_errors import ResourceRefusedError

    class Minimal(SessionClient[pb_grpc.JsonLoggerStub]):
        PROVIDED_INTERFACE = "ni.logger.v1.json"
        SERVICE_CLASS = "ni.logger.JSONLogService"
        SERVICE_DISPLAY_NAME = "My Logger"
        SERVICE_MODULE = "my_logger"

        def _create_stub(self, channel: grpc.Channel) -> pb_grpc.JsonLoggerStub:
            return pb_grpc.JsonLoggerStub(channel)

        def _initialize_session(self, stub: Any, behavior: Any) -> tuple[str, bool]:
            response = stub.InitializeFile(
                pb.InitializeFileRequest(
                    resource_name=self.resource_name, session_initialization_behavior=int(behavior)
                )
            )
            return response.session_id, response.new_session_initialized

        def _close_session(self, stub: Any) -> None:
            stub.CloseFile(pb.CloseFileRequest(session_id=self.session_id))

    with pytest.raises(ResourceRefusedError, match="The My Logger refused the resource "):
        with Minimal("/no/such/folder/x.ndjson", address=logger_address):
            pass
    with Minimal(Path(tempfile.mkdtemp()) / "x.ndjson", address=logger_address) as client:
        pass
    assert not client.is_open  # AUTO created it, so leaving closed it


def test_clients_given_a_channel_pool_share_its_channel_and_leave_it_open(
    logger_address: str, log_path: Path
) -> None:
    # a plug-in passes measurement_service.channel_pool: each warm step's client reuses one
    # connection, which must outlive every client
    with GrpcChannelPool() as pool:
        for index in range(2):
            with JsonLoggerClient(log_path, address=logger_address, grpc_channel_pool=pool) as log:
                log.log_data(f"step {index}", {}, {})
        shared = pool.get_channel(logger_address)
        listed = JsonLoggerStub(shared).ListSessions(pb.ListSessionsRequest(), timeout=10)

    assert listed.sessions == []  # the channel still works: no client closed it
    assert [record["measurement_name"] for record in read_records(log_path)] == [
        "step 0",
        "step 1",
    ]
