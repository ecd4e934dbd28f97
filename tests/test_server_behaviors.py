"""The three server behaviours, CloseFile, records and path normalisation, over a real process."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from json_logger import json_logger_pb2 as pb
from json_logger.json_logger_pb2_grpc import JsonLoggerStub

UNSPECIFIED = pb.SESSION_INITIALIZATION_BEHAVIOR_UNSPECIFIED
INITIALIZE_NEW = pb.SESSION_INITIALIZATION_BEHAVIOR_INITIALIZE_NEW
ATTACH_TO_EXISTING = pb.SESSION_INITIALIZATION_BEHAVIOR_ATTACH_TO_EXISTING


def initialize(stub: JsonLoggerStub, path: Path | str, behavior: int) -> pb.InitializeFileResponse:
    request = pb.InitializeFileRequest(
        resource_name=str(path), session_initialization_behavior=behavior
    )
    response: pb.InitializeFileResponse = stub.InitializeFile(request, timeout=10)
    return response


def close(stub: JsonLoggerStub, session_id: str) -> None:
    stub.CloseFile(pb.CloseFileRequest(session_id=session_id), timeout=10)


def log(stub: JsonLoggerStub, session_id: str, name: str = "m", **fields: object) -> None:
    stub.LogMeasurementData(
        pb.LogMeasurementDataRequest(session_id=session_id, measurement_name=name, **fields),
        timeout=10,
    )


def status_of(call: object) -> grpc.StatusCode:
    assert isinstance(call, grpc.RpcError)
    code: grpc.StatusCode = call.code()
    return code


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- the three behaviours x (session open / absent / closed) ----------------------------------


@pytest.mark.parametrize("state", ["absent", "closed"])
@pytest.mark.parametrize("behavior", [UNSPECIFIED, INITIALIZE_NEW])
def test_creating_behaviours_open_a_new_session_when_none_is_open(
    stub: JsonLoggerStub, log_path: Path, behavior: int, state: str
) -> None:
    earlier_id = ""
    if state == "closed":
        earlier_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
        close(stub, earlier_id)

    response = initialize(stub, log_path, behavior)

    assert response.new_session_initialized
    assert response.session_id and response.session_id != earlier_id
    assert response.resource_name == str(log_path.resolve())
    close(stub, response.session_id)


def test_unspecified_attaches_to_the_open_session(stub: JsonLoggerStub, log_path: Path) -> None:
    first = initialize(stub, log_path, INITIALIZE_NEW)

    second = initialize(stub, log_path, UNSPECIFIED)

    assert (second.session_id, second.new_session_initialized) == (first.session_id, False)
    close(stub, first.session_id)


def test_initialize_new_fails_already_exists_when_open(
    stub: JsonLoggerStub, log_path: Path
) -> None:
    first = initialize(stub, log_path, INITIALIZE_NEW)

    with pytest.raises(grpc.RpcError) as raised:
        initialize(stub, log_path, INITIALIZE_NEW)

    assert status_of(raised.value) is grpc.StatusCode.ALREADY_EXISTS
    assert first.session_id in raised.value.details()
    close(stub, first.session_id)


def test_attach_to_existing_attaches_when_open(stub: JsonLoggerStub, log_path: Path) -> None:
    first = initialize(stub, log_path, UNSPECIFIED)

    attached = initialize(stub, log_path, ATTACH_TO_EXISTING)

    assert (attached.session_id, attached.new_session_initialized) == (first.session_id, False)
    close(stub, first.session_id)


@pytest.mark.parametrize("state", ["absent", "closed"])
def test_attach_to_existing_fails_not_found_without_open_session(
    stub: JsonLoggerStub, log_path: Path, state: str
) -> None:
    if state == "closed":
        close(stub, initialize(stub, log_path, INITIALIZE_NEW).session_id)

    with pytest.raises(grpc.RpcError) as raised:
        initialize(stub, log_path, ATTACH_TO_EXISTING)

    assert status_of(raised.value) is grpc.StatusCode.NOT_FOUND
    assert str(log_path) in raised.value.details()


def test_close_file_closes_and_then_fails_not_found(stub: JsonLoggerStub, log_path: Path) -> None:
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    log(stub, session_id)

    close(stub, session_id)

    for call in (lambda: close(stub, session_id), lambda: log(stub, session_id)):
        with pytest.raises(grpc.RpcError) as raised:
            call()
        assert status_of(raised.value) is grpc.StatusCode.NOT_FOUND
    assert len(lines(log_path)) == 1


def test_list_sessions_shows_open_sessions_with_record_counts(
    stub: JsonLoggerStub, log_path: Path
) -> None:
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    log(stub, session_id)
    log(stub, session_id)

    listed = {s.session_id: s for s in stub.ListSessions(pb.ListSessionsRequest()).sessions}
    close(stub, session_id)

    assert listed[session_id].resource_name == str(log_path.resolve())
    assert listed[session_id].records_written == 2
    assert session_id not in {
        s.session_id for s in stub.ListSessions(pb.ListSessionsRequest()).sessions
    }


# -- records --------------------------------------------------------------------------------


def test_record_keeps_the_clients_timestamp_with_microseconds(
    stub: JsonLoggerStub, log_path: Path
) -> None:
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    moment = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
    stamp = Timestamp()
    stamp.FromDatetime(moment)

    log(
        stub,
        session_id,
        "dc voltage",
        timestamp=stamp,
        measurement_configurations={"voltage_level": "5.0"},
        measurement_outputs={"current": "0.001", "note": 'quote " and\nnewline'},
    )
    close(stub, session_id)

    [record] = lines(log_path)
    assert record == {
        "timestamp": "2025-01-02T03:04:05.678901+00:00",
        "measurement_name": "dc voltage",
        "measurement_configurations": {"voltage_level": "5.0"},
        "measurement_outputs": {"current": "0.001", "note": 'quote " and\nnewline'},
        "session_id": session_id,
    }


def test_record_without_timestamp_gets_the_servers_time(
    stub: JsonLoggerStub, log_path: Path
) -> None:
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    before = datetime.now(timezone.utc)

    log(stub, session_id)
    close(stub, session_id)

    written = datetime.fromisoformat(str(lines(log_path)[0]["timestamp"]))
    assert before <= written <= datetime.now(timezone.utc)


def test_existing_ndjson_log_is_appended_to_and_a_missing_final_newline_is_added(
    stub: JsonLoggerStub, log_path: Path
) -> None:
    log_path.write_text('{"old": 1}\n{"old": 2}')
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id

    log(stub, session_id, "new")
    close(stub, session_id)

    records = lines(log_path)
    assert records[:2] == [{"old": 1}, {"old": 2}]
    assert records[2]["measurement_name"] == "new"


def test_unicode_values_are_written_as_one_line(stub: JsonLoggerStub, log_path: Path) -> None:
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id

    log(stub, session_id, "µ\u2028Ω", measurement_outputs={"ü": "\u2029"})
    close(stub, session_id)

    raw = log_path.read_bytes()
    assert raw.count(b"\n") == 1 and raw.isascii()
    assert lines(log_path)[0]["measurement_name"] == "µ\u2028Ω"


# -- path normalisation -----------------------------------------------------------------------


def test_two_spellings_of_one_file_share_one_session(stub: JsonLoggerStub, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    real = tmp_path / "sub" / "log.ndjson"
    (tmp_path / "link").symlink_to(tmp_path / "sub")
    spellings = [
        str(tmp_path / "sub" / ".." / "sub" / "log.ndjson"),
        str(tmp_path / "link" / "log.ndjson"),
        str(tmp_path) + "//sub/./log.ndjson",
    ]
    first = initialize(stub, real, INITIALIZE_NEW)

    attached = [initialize(stub, spelling, ATTACH_TO_EXISTING) for spelling in spellings]

    assert {response.session_id for response in attached} == {first.session_id}
    assert {response.resource_name for response in attached} == {str(real.resolve())}
    close(stub, first.session_id)


def test_names_differing_in_case_are_different_files_on_posix(
    stub: JsonLoggerStub, tmp_path: Path
) -> None:
    if os.name != "posix" or (tmp_path / "A.ndjson").exists():
        pytest.skip("case-sensitive file system needed")
    lower = initialize(stub, tmp_path / "a.ndjson", INITIALIZE_NEW)
    upper = initialize(stub, tmp_path / "A.ndjson", INITIALIZE_NEW)

    assert lower.session_id != upper.session_id
    close(stub, lower.session_id)
    close(stub, upper.session_id)


@pytest.mark.parametrize("name", ["x.NDJSON", "x.Log", "x.TXT", "x.ndjson", "x.log", "x.txt"])
def test_supported_extensions_in_any_case(stub: JsonLoggerStub, tmp_path: Path, name: str) -> None:
    response = initialize(stub, tmp_path / name, INITIALIZE_NEW)

    assert response.new_session_initialized
    close(stub, response.session_id)


def test_opening_reads_only_the_tail_never_the_whole_file(
    stub: JsonLoggerStub, log_path: Path
) -> None:
    """A head that is not JSON is never read: only the last line is validated."""
    head = b"not json at all\n" * 100_000  # 1.6 MB the server must not parse
    log_path.write_bytes(head + b'{"last": "line"}\n')

    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    log(stub, session_id, "appended")
    close(stub, session_id)

    assert log_path.read_bytes().startswith(head)
    assert json.loads(log_path.read_bytes().splitlines()[-1])["measurement_name"] == "appended"


def test_fsync_mode_writes_and_reads_back(tmp_path: Path) -> None:
    from session_sharing_demo.programs import start_logger_service

    process = start_logger_service(discovery=False, fsync=True)
    log_path = tmp_path / "durable.ndjson"
    try:
        with grpc.insecure_channel(process.address) as channel:
            stub = JsonLoggerStub(channel)
            session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
            for index in range(20):
                log(stub, session_id, f"r{index}")
            close(stub, session_id)
    finally:
        assert process.stop() == 0
    assert [r["measurement_name"] for r in lines(log_path)] == [f"r{i}" for i in range(20)]
