"""Crashes and hostile input: a torn last line is recovered, oversized records are refused, huge
inputs are not echoed back, and ``--allow-dir`` confines the files a service opens.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from json_logger import json_logger_pb2 as pb
from json_logger.json_logger_pb2_grpc import JsonLoggerStub
from logger_service.ndjson_log import (
    BATCH_JOURNAL_SUFFIX,
    DEFAULT_MAX_RECORD_BYTES,
    TORN_TAIL_MARKER,
)
from results_database import results_database_pb2 as results_pb
from results_database.results_database_pb2_grpc import ResultsDatabaseStub
from session_core.hosting import warn_if_exposed
from session_sharing_demo.programs import (
    lock_service_process,
    logger_service_process,
    results_service_process,
)
from tests.limited_process import limited_service
from tests.test_error_codes import expect_status
from tests.test_server_behaviors import INITIALIZE_NEW, UNSPECIFIED, close, initialize, lines, log

RECORD = b'{"timestamp": "2026-11-30T00:00:00+00:00", "measurement_name": "m"}\n'


def torn_tails(log_path: Path) -> list[Path]:
    return sorted(log_path.parent.glob(f"{log_path.name}{TORN_TAIL_MARKER}*"))


# -- crash recovery ------------------------------------------------------------------------------


@pytest.mark.parametrize("whole_records", [0, 1, 2])
def test_a_torn_last_line_is_moved_aside_and_the_log_reopens(
    stub: JsonLoggerStub, log_path: Path, whole_records: int, caplog: pytest.LogCaptureFixture
) -> None:
    torn = b'{"timestamp": "2026-11-30T00:00:01+00:00", "measurement_na'
    log_path.write_bytes(RECORD * whole_records + torn)

    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    log(stub, session_id, "after the crash")
    close(stub, session_id)

    records = lines(log_path)  # every line is a JSON object again
    assert len(records) == whole_records + 1
    assert records[-1]["measurement_name"] == "after the crash"
    (aside,) = torn_tails(log_path)
    assert aside.read_bytes() == torn


def test_a_whole_last_record_without_its_newline_is_kept(
    stub: JsonLoggerStub, log_path: Path
) -> None:
    log_path.write_bytes(RECORD + RECORD.rstrip(b"\n"))

    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    log(stub, session_id, "next")
    close(stub, session_id)

    assert [r["measurement_name"] for r in lines(log_path)] == ["m", "m", "next"]
    assert torn_tails(log_path) == []


@pytest.mark.parametrize(
    "content",
    [b"plain text without a newline", b'not json\n{"torn', b'{"a": 1}\n{"b": 2}\n{"torn\n'],
    ids=["text", "torn-after-text", "ends-with-newline"],
)
def test_a_file_that_is_not_a_torn_log_is_refused_untouched(
    stub: JsonLoggerStub, log_path: Path, content: bytes
) -> None:
    log_path.write_bytes(content)

    expect_status(
        lambda: initialize(stub, log_path, UNSPECIFIED),
        grpc.StatusCode.INVALID_ARGUMENT,
        "not an NDJSON log",
    )
    assert log_path.read_bytes() == content
    assert torn_tails(log_path) == []


def test_after_sigkill_every_log_reopens_with_every_acknowledged_record(tmp_path: Path) -> None:
    logs = [tmp_path / f"run-{index}.ndjson" for index in range(4)]
    acknowledged = {path: 0 for path in logs}
    process = logger_service_process(["--no-discovery"])
    process.start()
    stop = threading.Event()

    def write(path: Path) -> None:
        with grpc.insecure_channel(process.address) as channel:
            stub = JsonLoggerStub(channel)
            session_id = initialize(stub, path, INITIALIZE_NEW).session_id
            big = {"points": "x" * 200_000}  # large writes: a kill can cut one short
            while not stop.is_set():
                try:
                    log(stub, session_id, "point", measurement_outputs=big)
                except grpc.RpcError:
                    return
                acknowledged[path] += 1

    writers = [threading.Thread(target=write, args=(path,)) for path in logs]
    for writer in writers:
        writer.start()
    try:
        while min(acknowledged.values()) < 3:
            stop.wait(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=10)

    with logger_service_process(["--no-discovery"]) as restarted:
        with grpc.insecure_channel(restarted.address) as channel:
            stub = JsonLoggerStub(channel)
            for path in logs:
                session_id = initialize(stub, path, INITIALIZE_NEW).session_id
                close(stub, session_id)
                assert len(lines(path)) >= acknowledged[path]


def test_a_batch_cut_short_by_a_kill_is_moved_aside_whole(
    stub: JsonLoggerStub, log_path: Path
) -> None:
    # what a SIGKILL during a stream's write leaves: 6 whole lines and a part of the 7th of a
    # batch that was never acknowledged, and the journal entry written before the write began
    before = RECORD * 2
    batch = RECORD * 7
    log_path.write_bytes(before + batch[: len(RECORD) * 6 + 10])
    journal = log_path.with_name(log_path.name + BATCH_JOURNAL_SUFFIX)
    journal.write_bytes(f"{len(before):020d} {len(batch):020d}\n".encode())

    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    log(stub, session_id, "after the crash")
    close(stub, session_id)

    assert [r["measurement_name"] for r in lines(log_path)] == ["m", "m", "after the crash"]
    (aside,) = torn_tails(log_path)
    assert aside.read_bytes() == batch[: len(RECORD) * 6 + 10]
    assert not journal.exists()


def test_a_batch_written_whole_is_kept_when_the_journal_outlived_the_kill(
    stub: JsonLoggerStub, log_path: Path
) -> None:
    # killed after the write, before the journal said so: the batch is whole and stays
    batch = RECORD * 3
    log_path.write_bytes(batch)
    journal = log_path.with_name(log_path.name + BATCH_JOURNAL_SUFFIX)
    journal.write_bytes(f"{0:020d} {len(batch):020d}\n".encode())

    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    close(stub, session_id)

    assert len(lines(log_path)) == 3
    assert torn_tails(log_path) == [] and not journal.exists()


def test_a_service_killed_in_the_middle_of_a_batch_leaves_it_whole_or_absent(
    tmp_path: Path,
) -> None:
    # the service dies when its batch write passes 300 kB: the kernel has written what fit
    log_path = tmp_path / "killed.ndjson"
    with (
        limited_service("logger", LIMIT_FILE_BYTES=300_000, KILLED_AT_FILE_LIMIT=1) as service,
        grpc.insecure_channel(service.address) as channel,
    ):
        stub = JsonLoggerStub(channel)
        session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
        log(stub, session_id, "before")
        record = pb.MeasurementRecord(
            measurement_name="batch", measurement_outputs={"points": "x" * 100_000}
        )
        with pytest.raises(grpc.RpcError) as killed:
            stub.StreamMeasurementData(
                iter([pb.LogMeasurementDataBatch(session_id=session_id, records=[record] * 7)]),
                timeout=30,
            )
        assert service.wait(timeout=10) != 0  # killed, not stopped
    cut = log_path.stat().st_size

    with logger_service_process(["--no-discovery"]) as restarted:
        with grpc.insecure_channel(restarted.address) as channel:
            stub = JsonLoggerStub(channel)
            close(stub, initialize(stub, log_path, INITIALIZE_NEW).session_id)

    assert killed.value.code() is grpc.StatusCode.UNAVAILABLE
    assert cut > 100_000  # whole lines of the batch were in the file when the service died
    assert [record["measurement_name"] for record in lines(log_path)] == ["before"]
    (aside,) = torn_tails(log_path)
    assert aside.stat().st_size == cut - len(log_path.read_bytes())


def test_a_streamed_batch_leaves_no_journal_once_the_session_closes(
    stub: JsonLoggerStub, log_path: Path
) -> None:
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    record = pb.MeasurementRecord(measurement_name="b")
    stub.StreamMeasurementData(
        iter([pb.LogMeasurementDataBatch(session_id=session_id, records=[record] * 3)]),
        timeout=10,
    )
    journal = log_path.with_name(log_path.name + BATCH_JOURNAL_SUFFIX)
    in_progress = journal.read_text().split()
    close(stub, session_id)

    assert in_progress == [f"{len(log_path.read_bytes()):020d}", f"{0:020d}"]  # no batch pending
    assert not journal.exists() and len(lines(log_path)) == 3


# -- record size --------------------------------------------------------------------------------


def test_an_oversized_record_is_refused_and_nothing_is_written(
    stub: JsonLoggerStub, log_path: Path
) -> None:
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    log(stub, session_id, "before")
    control_characters = "\x01" * (DEFAULT_MAX_RECORD_BYTES // 6 + 1)  # \u0001: 6 bytes each

    details = expect_status(
        lambda: log(stub, session_id, "huge", measurement_outputs={"v": control_characters}),
        grpc.StatusCode.INVALID_ARGUMENT,
        "--max-record-bytes",
        "nothing was written",
    )
    batch = pb.LogMeasurementDataBatch(
        session_id=session_id,
        records=[
            pb.MeasurementRecord(measurement_name="small"),
            pb.MeasurementRecord(measurement_name="huge", measurement_outputs={"v": "y" * 2**20}),
        ],
    )
    stream_details = expect_status(
        lambda: stub.StreamMeasurementData(iter([batch]), timeout=10),
        grpc.StatusCode.INVALID_ARGUMENT,
        "records[1] of the batch",
    )
    close(stub, session_id)

    assert [r["measurement_name"] for r in lines(log_path)] == ["before"]
    assert len(details) < 1000 and len(stream_details) < 1000


def test_a_smaller_limit_is_honoured_and_an_impossible_one_refused(tmp_path: Path) -> None:
    log_path = tmp_path / "small.ndjson"
    with logger_service_process(["--no-discovery", "--max-record-bytes", "300"]) as service:
        with grpc.insecure_channel(service.address) as channel:
            stub = JsonLoggerStub(channel)
            session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
            log(stub, session_id, "fits")
            expect_status(
                lambda: log(stub, session_id, "long", measurement_outputs={"v": "z" * 300}),
                grpc.StatusCode.INVALID_ARGUMENT,
                "300 bytes",
            )
            close(stub, session_id)
    assert len(lines(log_path)) == 1

    refused = logger_service_process(["--no-discovery", "--max-record-bytes", str(2**30)])
    with pytest.raises(RuntimeError):
        refused.start()


def test_a_huge_input_is_not_echoed_back(stub: JsonLoggerStub) -> None:
    huge = "relative/" * 100_000 + "run.ndjson"

    details = expect_status(
        lambda: initialize(stub, huge, UNSPECIFIED),
        grpc.StatusCode.INVALID_ARGUMENT,
        "a path has at most 4096",
        f"({len(huge)} characters)",
    )
    assert len(details) < 1000
    unknown = expect_status(
        lambda: log(stub, "s" * 1_000_000), grpc.StatusCode.NOT_FOUND, "1000000 characters"
    )
    assert len(unknown) < 1000


# -- confinement --------------------------------------------------------------------------------


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (allowed / "escape").symlink_to(outside, target_is_directory=True)
    return allowed, outside


@pytest.fixture(params=["option", "environment"])
def confined_logger(
    request: pytest.FixtureRequest, folders: tuple[Path, Path]
) -> Iterator[JsonLoggerStub]:
    allowed, _ = folders
    if request.param == "option":
        process = logger_service_process(["--no-discovery", "--allow-dir", str(allowed)])
    else:
        env = {**os.environ, "JSON_LOGGER_ALLOW_DIRS": str(allowed)}
        process = logger_service_process(["--no-discovery"], env=env)
    with process as service, grpc.insecure_channel(service.address) as ch:
        yield JsonLoggerStub(ch)


def test_allow_dir_confines_log_files(
    confined_logger: JsonLoggerStub, folders: tuple[Path, Path]
) -> None:
    allowed, outside = folders
    inside = allowed / "run.ndjson"
    close(confined_logger, initialize(confined_logger, inside, INITIALIZE_NEW).session_id)

    for escape in (
        outside / "run.ndjson",
        allowed / ".." / "outside" / "run.ndjson",
        allowed / "escape" / "run.ndjson",
    ):
        expect_status(
            lambda path=escape: initialize(confined_logger, path, INITIALIZE_NEW),
            grpc.StatusCode.PERMISSION_DENIED,
            "outside the folders",
            str(allowed),
        )
    assert inside.exists()
    assert list(outside.iterdir()) == []


def test_allow_dir_confines_sqlite_databases(folders: tuple[Path, Path]) -> None:
    allowed, outside = folders
    process = results_service_process(["--no-discovery", "--allow-dir", str(allowed)])
    with process as service, grpc.insecure_channel(service.address) as ch:
        stub = ResultsDatabaseStub(ch)

        def open_database(path: Path) -> results_pb.InitializeDatabaseResponse:
            request = results_pb.InitializeDatabaseRequest(resource_name=str(path))
            response: results_pb.InitializeDatabaseResponse = stub.InitializeDatabase(
                request, timeout=10
            )
            return response

        session_id = open_database(allowed / "results.db").session_id
        stub.CloseDatabase(results_pb.CloseDatabaseRequest(session_id=session_id), timeout=10)
        expect_status(
            lambda: open_database(allowed / "escape" / "results.db"),
            grpc.StatusCode.PERMISSION_DENIED,
            "outside the folders",
        )
    assert list(outside.iterdir()) == []


def test_binding_beyond_loopback_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        warn_if_exposed("127.0.0.1", ())
        assert caplog.records == []
        warn_if_exposed("0.0.0.0", ())
        warn_if_exposed("0.0.0.0", (Path("/srv/logs"),))

    first, second = (record.getMessage() for record in caplog.records)
    assert "0.0.0.0" in first and "--allow-dir" in first
    assert "/srv/logs" in second


# -- bytes that are not the message ----------------------------------------------------------

NOT_UTF8 = b"\xff\xfe"


def _length_delimited(field_number: int, payload: bytes) -> bytes:
    """One protobuf field of wire type 2 (a string), holding ``payload`` as it is."""
    return bytes([field_number << 3 | 2, len(payload)]) + payload


def _raw_unary(channel: grpc.Channel, method: str, request: bytes) -> bytes:
    call = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
    return call(request, timeout=10)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("service", "method"),
    [
        ("logger", "/json_logger.JsonLogger/InitializeFile"),
        ("logger", "/json_logger.JsonLogger/CloseFile"),
        ("results", "/results_database.ResultsDatabase/InitializeDatabase"),
        ("results", "/results_database.ResultsDatabase/Commit"),
        ("lock", "/hardware_lock.HardwareLock/AcquireLock"),
        ("lock", "/hardware_lock.HardwareLock/ReleaseLock"),
    ],
)
def test_a_string_that_is_not_utf8_is_invalid_argument_and_the_service_serves_on(
    service: str, method: str, tmp_path: Path
) -> None:
    start = {
        "logger": logger_service_process,
        "results": results_service_process,
        "lock": lock_service_process,
    }[service]
    with start(["--no-discovery"]) as process, grpc.insecure_channel(process.address) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            _raw_unary(channel, method, _length_delimited(1, NOT_UTF8))
        # a valid request on the same channel still gets its normal answer (a lock: a hold)
        try:
            _raw_unary(channel, method, _length_delimited(1, b"/no/such/thing"))
            normal_code = grpc.StatusCode.OK
        except grpc.RpcError as normal:
            normal_code = normal.code()

    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT, refused.value.details()
    assert "UTF-8" in (refused.value.details() or "")
    assert normal_code is not grpc.StatusCode.INTERNAL
    assert "Traceback" not in process.stderr_tail
    assert "Exception deserializing" not in process.stderr_tail


def test_a_stream_batch_that_is_not_utf8_ends_the_stream_keeping_the_batches_before(
    stub: JsonLoggerStub, logger_address: str, log_path: Path
) -> None:
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    good = pb.LogMeasurementDataBatch(
        session_id=session_id,
        records=[pb.MeasurementRecord(measurement_name="before")],
    ).SerializeToString()
    bad = _length_delimited(1, NOT_UTF8)  # session_id, not UTF-8
    with grpc.insecure_channel(logger_address) as channel:
        stream = channel.stream_unary(
            "/json_logger.JsonLogger/StreamMeasurementData",
            request_serializer=None,
            response_deserializer=None,
        )
        with pytest.raises(grpc.RpcError) as refused:
            stream(iter([good, bad, good]), timeout=10)
    close(stub, session_id)

    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "1 records of this stream were written" in (refused.value.details() or "")
    assert [record["measurement_name"] for record in lines(log_path)] == ["before"]


# -- names longer than any file system takes -------------------------------------------------

HUGE_NAMES = {
    "10,000 folders": "/" + "a/" * 10_000 + "x{suffix}",
    "a 300-byte file name": "/tmp/" + "a" * 300 + "{suffix}",
    "1 MB": "/tmp/" + "a" * 1_000_000 + "{suffix}",
}


@pytest.mark.parametrize("service", ["logger", "results"])
def test_names_longer_than_the_os_allows_are_invalid_argument_and_barely_logged(
    service: str,
) -> None:
    if service == "logger":
        start, method, suffix = logger_service_process, "InitializeFile", ".ndjson"
        request_type: Any = pb.InitializeFileRequest
    else:
        start, method, suffix = results_service_process, "InitializeDatabase", ".db"
        request_type = results_pb.InitializeDatabaseRequest
    path = (
        "/json_logger.JsonLogger/" if service == "logger" else "/results_database.ResultsDatabase/"
    )
    refusals = {}
    with start(["--no-discovery"]) as process, grpc.insecure_channel(process.address) as channel:
        call = channel.unary_unary(
            path + method, request_serializer=None, response_deserializer=None
        )
        for label, name in HUGE_NAMES.items():
            request = request_type(resource_name=name.format(suffix=suffix))
            with pytest.raises(grpc.RpcError) as refused:
                call(request.SerializeToString(), timeout=30)
            refusals[label] = (refused.value.code(), refused.value.details() or "")
    log = process.stderr_tail

    assert {label: code for label, (code, _) in refusals.items()} == dict.fromkeys(
        HUGE_NAMES, grpc.StatusCode.INVALID_ARGUMENT
    )
    assert all(len(details) < 400 for _, details in refusals.values()), refusals
    assert len(log) < 3_000, f"{len(log)} characters of service log for three calls"


# -- out of file descriptors -----------------------------------------------------------------


@pytest.mark.parametrize(("service", "suffix"), [("logger", ".ndjson"), ("results", ".db")])
def test_sessions_stop_short_of_the_descriptor_limit_and_new_clients_still_connect(
    service: str, suffix: str, tmp_path: Path
) -> None:
    method = "InitializeFile" if service == "logger" else "InitializeDatabase"
    request_type: Any = (
        pb.InitializeFileRequest if service == "logger" else results_pb.InitializeDatabaseRequest
    )
    path = (
        "/json_logger.JsonLogger/" if service == "logger" else "/results_database.ResultsDatabase/"
    )
    with limited_service(service, LIMIT_OPEN_FILES=160) as process:
        with grpc.insecure_channel(process.address) as channel:
            initialize_call = channel.unary_unary(
                path + method,
                request_serializer=request_type.SerializeToString,
                response_deserializer=None,
            )
            opened = 0
            with pytest.raises(grpc.RpcError) as refused:
                for index in range(200):
                    initialize_call(
                        request_type(resource_name=str(tmp_path / f"s{index}{suffix}")),
                        timeout=10,
                    )
                    opened += 1
            # a client that connects only now is served: the reserve was kept for it
            with grpc.insecure_channel(process.address) as newcomer:
                health = health_pb2_grpc.HealthStub(newcomer).Check(
                    health_pb2.HealthCheckRequest(), timeout=5
                )

    assert opened > 0
    assert refused.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED, refused.value.details()
    assert "file descriptors" in (refused.value.details() or "")
    assert "RLIMIT_NOFILE" in (refused.value.details() or "")
    assert health.status == health_pb2.HealthCheckResponse.SERVING
