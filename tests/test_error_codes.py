"""Every status code the .proto documents is reachable, with a clear message; nothing already
written is lost and the service keeps serving afterwards.
"""

from __future__ import annotations

import os
import resource
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from json_logger import json_logger_pb2 as pb
from json_logger.json_logger_pb2_grpc import JsonLoggerStub
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.programs import logger_service_process
from tests.test_server_behaviors import (
    ATTACH_TO_EXISTING,
    INITIALIZE_NEW,
    UNSPECIFIED,
    close,
    initialize,
    lines,
    log,
)


def expect_status(call: Callable[[], object], code: grpc.StatusCode, *fragments: str) -> str:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    error = raised.value
    assert isinstance(error, grpc.RpcError)
    assert error.code() is code, error.details()
    details: str = error.details()
    for fragment in fragments:
        assert fragment in details
    return details


@pytest.fixture
def check_still_serving(stub: JsonLoggerStub, tmp_path: Path) -> Iterator[None]:
    yield
    probe = tmp_path / "still-serving.ndjson"
    session_id = initialize(stub, probe, INITIALIZE_NEW).session_id
    log(stub, session_id)
    close(stub, session_id)
    assert len(lines(probe)) == 1


pytestmark = pytest.mark.usefixtures("check_still_serving")


# -- InitializeFile: INVALID_ARGUMENT ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("relative/log.ndjson", "not an absolute path"),
        ("/tmp/data.csv", "must end with .ndjson, .log, .txt"),
        ("/tmp/noextension", "must end with"),
    ],
)
def test_bad_resource_names_are_invalid_argument(
    stub: JsonLoggerStub, name: str, fragment: str
) -> None:
    expect_status(
        lambda: initialize(stub, name, UNSPECIFIED), grpc.StatusCode.INVALID_ARGUMENT, fragment
    )


def test_unknown_behaviour_value_is_invalid_argument(stub: JsonLoggerStub, log_path: Path) -> None:
    expect_status(
        lambda: initialize(stub, log_path, 7),
        grpc.StatusCode.INVALID_ARGUMENT,
        "unknown session_initialization_behavior 7",
    )
    assert not log_path.exists()


def test_directory_is_invalid_argument(stub: JsonLoggerStub, tmp_path: Path) -> None:
    directory = tmp_path / "folder.log"
    directory.mkdir()

    expect_status(
        lambda: initialize(stub, directory, INITIALIZE_NEW),
        grpc.StatusCode.INVALID_ARGUMENT,
        "is a directory",
    )


def test_fifo_is_invalid_argument_and_does_not_hang(stub: JsonLoggerStub, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.log"
    os.mkfifo(fifo)

    expect_status(
        lambda: initialize(stub, fifo, INITIALIZE_NEW),
        grpc.StatusCode.INVALID_ARGUMENT,
        "not a regular file",
    )


@pytest.mark.parametrize(
    "content",
    [b"plain text log line\n", b'{"a": 1}\nnot json', b"[1, 2, 3]\n", b"\xff\xfe\x00binary\n"],
)
def test_existing_file_that_is_not_ndjson_is_invalid_argument_and_left_untouched(
    stub: JsonLoggerStub, log_path: Path, content: bytes
) -> None:
    log_path.write_bytes(content)

    expect_status(
        lambda: initialize(stub, log_path, UNSPECIFIED),
        grpc.StatusCode.INVALID_ARGUMENT,
        "not an NDJSON log",
    )
    assert log_path.read_bytes() == content


def test_attach_does_not_validate_the_file_again(stub: JsonLoggerStub, log_path: Path) -> None:
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    with log_path.open("a") as foreign_writer:
        foreign_writer.write("not json\n")

    attached = initialize(stub, log_path, ATTACH_TO_EXISTING)

    assert attached.session_id == session_id
    close(stub, session_id)


# -- InitializeFile: FAILED_PRECONDITION, PERMISSION_DENIED ------------------------------------


def test_missing_parent_directory_is_failed_precondition(
    stub: JsonLoggerStub, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-dir" / "log.ndjson"

    expect_status(
        lambda: initialize(stub, missing, INITIALIZE_NEW),
        grpc.StatusCode.FAILED_PRECONDITION,
        "does not exist",
    )
    assert not missing.parent.exists()


@pytest.fixture
def unwritable_log(log_path: Path) -> Iterator[Path]:
    """A file even root cannot append to: immutable (chattr +i) as root, read-only otherwise."""
    log_path.write_text('{"kept": true}\n')
    if os.geteuid() != 0:
        log_path.chmod(0o444)
        yield log_path
        return
    made = subprocess.run(["chattr", "+i", str(log_path)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot make a file immutable here: {made.stderr.decode().strip()}")
    try:
        yield log_path
    finally:
        subprocess.run(["chattr", "-i", str(log_path)], check=False)


def test_unwritable_file_is_permission_denied(stub: JsonLoggerStub, unwritable_log: Path) -> None:
    expect_status(
        lambda: initialize(stub, unwritable_log, UNSPECIFIED),
        grpc.StatusCode.PERMISSION_DENIED,
        str(unwritable_log),
    )
    assert lines(unwritable_log) == [{"kept": True}]


# -- LogMeasurementData / CloseFile / StreamMeasurementData ------------------------------------


def test_empty_session_ids_are_invalid_argument(stub: JsonLoggerStub) -> None:
    expect_status(lambda: log(stub, ""), grpc.StatusCode.INVALID_ARGUMENT, "session_id is empty")
    expect_status(lambda: close(stub, ""), grpc.StatusCode.INVALID_ARGUMENT, "session_id is empty")


def test_unknown_session_ids_are_not_found(stub: JsonLoggerStub) -> None:
    expect_status(lambda: log(stub, "no-such-id"), grpc.StatusCode.NOT_FOUND, "no-such-id")
    expect_status(lambda: close(stub, "no-such-id"), grpc.StatusCode.NOT_FOUND, "no-such-id")


def test_out_of_range_timestamp_is_invalid_argument_and_writes_nothing(
    stub: JsonLoggerStub, log_path: Path
) -> None:
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    log(stub, session_id, "kept")

    expect_status(
        lambda: log(stub, session_id, timestamp=Timestamp(seconds=10**12)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "timestamp",
    )
    close(stub, session_id)
    assert [record["measurement_name"] for record in lines(log_path)] == ["kept"]


def stream(stub: JsonLoggerStub, batches: list[pb.LogMeasurementDataBatch]) -> int:
    response: pb.StreamMeasurementDataResponse = stub.StreamMeasurementData(
        iter(batches), timeout=10
    )
    return response.records_written


def batch(session_id: str, *names: str) -> pb.LogMeasurementDataBatch:
    records = [pb.MeasurementRecord(measurement_name=name) for name in names]
    return pb.LogMeasurementDataBatch(session_id=session_id, records=records)


def test_stream_errors_keep_the_batches_before_them(stub: JsonLoggerStub, log_path: Path) -> None:
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    good = [batch(session_id, "r0", "r1"), batch("", "r2")]
    bad_timestamp = pb.LogMeasurementDataBatch(
        records=[
            pb.MeasurementRecord(measurement_name="never"),
            pb.MeasurementRecord(timestamp=Timestamp(seconds=10**12)),
        ]
    )

    details = expect_status(
        lambda: stream(stub, [*good, batch("other", "x")]),
        grpc.StatusCode.INVALID_ARGUMENT,
        "one session",
    )
    assert "3 records of this stream were written" in details
    details = expect_status(
        lambda: stream(stub, [*good, bad_timestamp]), grpc.StatusCode.INVALID_ARGUMENT, "timestamp"
    )
    assert "3 records of this stream were written" in details  # the bad batch: none of it
    expect_status(
        lambda: stream(stub, [batch("", "x")]),
        grpc.StatusCode.INVALID_ARGUMENT,
        "session_id is empty",
    )
    expect_status(lambda: stream(stub, [batch("gone", "x")]), grpc.StatusCode.NOT_FOUND)
    assert stream(stub, good) == 3
    close(stub, session_id)
    assert [r["measurement_name"] for r in lines(log_path)] == ["r0", "r1", "r2"] * 3


# -- RESOURCE_EXHAUSTED and INTERNAL, provoked through the server's OS limits ------------------


# The limits are set on the running server (prlimit), never in a ``preexec_fn``: a preexec_fn
# makes subprocess fork() instead of vfork()/posix_spawn(), and in this gRPC-using test process the
# fork handlers of gRPC's event engine restart its epoll poller in the child, whose descriptors
# the child then closes before exec (close_fds): the child died with "epoll_wait error: Bad file
# descriptor" in 2 to 8 starts of 30 on a busy machine (as often with a preexec_fn that does
# nothing), whatever the limit. Setting the limit after the ready line also leaves gRPC's own
# start-up untouched by it.
needs_prlimit = pytest.mark.skipif(
    not hasattr(resource, "prlimit"), reason="needs resource.prlimit (Linux)"
)
FILES_BEFORE_THE_LIMIT = 8


def _running_server() -> ServiceProcess:
    process = logger_service_process(["--no-discovery"])
    process.start()
    return process


def _set_limit(process: ServiceProcess, limit: int, value: int) -> None:
    resource.prlimit(process.pid, limit, (value, value))


@needs_prlimit
def test_file_handle_exhaustion_is_resource_exhausted_and_recoverable(tmp_path: Path) -> None:
    process = _running_server()
    try:
        with grpc.insecure_channel(process.address) as channel:
            stub = JsonLoggerStub(channel)
            stub.ListSessions(pb.ListSessionsRequest())  # connected: its socket is open
            # Room for FILES_BEFORE_THE_LIMIT more descriptors than the server holds now,
            # measured (a new descriptor takes the lowest free number, below the limit).
            highest = max(int(fd) for fd in os.listdir(f"/proc/{process.pid}/fd"))
            _set_limit(process, resource.RLIMIT_NOFILE, highest + 1 + FILES_BEFORE_THE_LIMIT)
            opened: list[str] = []
            with pytest.raises(grpc.RpcError) as raised:
                for index in range(100):
                    opened.append(
                        initialize(stub, tmp_path / f"{index}.log", INITIALIZE_NEW).session_id
                    )
            assert raised.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED, raised.value.details()
            assert "file descriptors open (RLIMIT_NOFILE)" in raised.value.details()
            assert opened, "some files should have opened before the limit"

            close(stub, opened.pop())
            session_id = initialize(stub, tmp_path / "after.log", INITIALIZE_NEW).session_id
            log(stub, session_id)
    finally:
        assert process.stop() == 0


@needs_prlimit
def test_file_size_limit_is_internal_and_leaves_no_partial_line(tmp_path: Path) -> None:
    # CPython ignores SIGXFSZ from start-up, so a write past the limit fails with EFBIG.
    process = _running_server()
    log_path = tmp_path / "big.ndjson"
    try:
        _set_limit(process, resource.RLIMIT_FSIZE, 4096)
        with grpc.insecure_channel(process.address) as channel:
            stub = JsonLoggerStub(channel)
            session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
            payload = {"data": "x" * 1000}
            with pytest.raises(grpc.RpcError) as raised:
                for _ in range(10):
                    log(stub, session_id, measurement_outputs=payload)
            assert raised.value.code() is grpc.StatusCode.INTERNAL
            assert "File too large" in raised.value.details()
            log(stub, session_id, "small")  # the session keeps serving
            close(stub, session_id)
    finally:
        assert process.stop() == 0
    records = lines(log_path)
    assert records[-1]["measurement_name"] == "small"
    assert all(record["measurement_outputs"] == payload for record in records[:-1])


@pytest.fixture
def tiny_filesystem(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_full_disk_is_resource_exhausted_and_leaves_no_partial_line(
    stub: JsonLoggerStub, tiny_filesystem: Path
) -> None:
    log_path = tiny_filesystem / "full.ndjson"
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    payload = {"data": "y" * 3000}

    with pytest.raises(grpc.RpcError) as raised:
        for _ in range(20):
            log(stub, session_id, measurement_outputs=payload)
    close(stub, session_id)

    assert raised.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "No space left" in raised.value.details()
    records = lines(log_path)
    assert records and all(record["measurement_outputs"] == payload for record in records)
