"""Race-freedom: atomic check-and-create, serialised whole-line writes, close waits for writes."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest

from json_logger import json_logger_pb2 as pb
from json_logger.json_logger_pb2_grpc import JsonLoggerStub
from session_sharing_demo.child_process import ServiceProcess
from tests.conftest import open_fd_targets
from tests.test_server_behaviors import INITIALIZE_NEW, close, initialize

pytestmark = pytest.mark.slow


def test_100_concurrent_initialize_new_create_exactly_one_session(
    logger_process: ServiceProcess, stub: JsonLoggerStub, log_path: Path
) -> None:
    start = threading.Barrier(100)

    def attempt(_: int) -> str:
        start.wait()
        try:
            return initialize(stub, log_path, INITIALIZE_NEW).session_id
        except grpc.RpcError as error:
            return error.code().name

    with ThreadPoolExecutor(max_workers=100) as pool:
        outcomes = list(pool.map(attempt, range(100)))

    winners = [outcome for outcome in outcomes if outcome != "ALREADY_EXISTS"]
    assert len(winners) == 1, outcomes
    assert outcomes.count("ALREADY_EXISTS") == 99
    handles = [t for t in open_fd_targets(logger_process.pid) if t == str(log_path.resolve())]
    assert len(handles) == 1
    close(stub, winners[0])
    assert str(log_path.resolve()) not in open_fd_targets(logger_process.pid)


def test_32_threads_x_500_records_give_exactly_16000_whole_lines(
    logger_address: str, stub: JsonLoggerStub, log_path: Path
) -> None:
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    start = threading.Barrier(32)

    def writer(thread: int) -> None:
        # one channel per thread: 32 independent clients of one session
        with grpc.insecure_channel(logger_address) as channel:
            own_stub = JsonLoggerStub(channel)
            start.wait()
            for index in range(500):
                own_stub.LogMeasurementData(
                    pb.LogMeasurementDataRequest(
                        session_id=session_id,
                        measurement_name=f"t{thread}",
                        measurement_outputs={"index": str(index), "pad": "z" * (index % 97)},
                    ),
                    timeout=30,
                )

    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(writer, range(32)))
    close(stub, session_id)

    raw_lines = log_path.read_bytes().split(b"\n")
    assert raw_lines[-1] == b""
    records = [json.loads(line) for line in raw_lines[:-1]]
    assert len(records) == 32 * 500
    per_thread: dict[str, list[int]] = {}
    for record in records:
        per_thread.setdefault(record["measurement_name"], []).append(
            int(record["measurement_outputs"]["index"])
        )
    assert all(indexes == list(range(500)) for indexes in per_thread.values())
    assert len(per_thread) == 32


def test_close_during_writes_leaves_only_whole_lines_and_clean_errors(
    logger_address: str, stub: JsonLoggerStub, log_path: Path
) -> None:
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    acknowledged = [0] * 8
    errors: list[str] = []
    some_written = threading.Event()

    def writer(thread: int) -> None:
        with grpc.insecure_channel(logger_address) as channel:
            own_stub = JsonLoggerStub(channel)
            while True:
                try:
                    own_stub.LogMeasurementData(
                        pb.LogMeasurementDataRequest(
                            session_id=session_id, measurement_outputs={"x": "y" * 200}
                        ),
                        timeout=30,
                    )
                except grpc.RpcError as error:
                    errors.append(error.code().name)
                    return
                acknowledged[thread] += 1
                if sum(acknowledged) > 200:
                    some_written.set()

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(writer, thread) for thread in range(8)]
        assert some_written.wait(timeout=30)
        close(stub, session_id)
        for future in futures:
            future.result(timeout=30)

    assert errors == ["NOT_FOUND"] * 8
    records = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert len(records) == sum(acknowledged)
