"""Wire compatibility with clients built from the field numbers, and graceful shutdown."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from json_logger import json_logger_pb2 as pb
from json_logger.json_logger_pb2_grpc import JsonLoggerStub
from session_sharing_demo.programs import logger_service_process
from tests.test_server_behaviors import INITIALIZE_NEW, initialize


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _string_field(number: int, text: str) -> bytes:
    data = text.encode()
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _decode_fields(message: bytes) -> dict[int, bytes | int]:
    fields: dict[int, bytes | int] = {}
    position = 0
    while position < len(message):
        key, position = _read_varint(message, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            fields[number], position = _read_varint(message, position)
        elif wire_type == 2:
            length, position = _read_varint(message, position)
            fields[number] = message[position : position + length]
            position += length
        else:
            raise AssertionError(f"unexpected wire type {wire_type}")
    return fields


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, position


def test_raw_calls_built_from_field_numbers(logger_address: str, log_path: Path) -> None:
    """A client that knows only the reference contract's paths and field numbers."""
    with grpc.insecure_channel(logger_address) as channel:
        initialize_file = channel.unary_unary("/json_logger.JsonLogger/InitializeFile")
        log_data = channel.unary_unary("/json_logger.JsonLogger/LogMeasurementData")
        close_file = channel.unary_unary("/json_logger.JsonLogger/CloseFile")

        # InitializeFileRequest: 1 resource_name, 2 behaviour enum (1 = INITIALIZE_NEW)
        reply = initialize_file(_string_field(1, str(log_path)) + _varint(2 << 3) + _varint(1))
        fields = _decode_fields(reply)
        session_id = fields[1]
        assert isinstance(session_id, bytes) and len(session_id) == 36
        assert fields[2] == 1  # new_session_initialized

        # LogMeasurementDataRequest: 1 id, 2 name, 3 Timestamp{1 seconds, 2 nanos}, 4/5 maps
        timestamp = _varint(1 << 3) + _varint(1_700_000_000) + _varint(2 << 3) + _varint(5000)
        entry = _string_field(1, "voltage") + _string_field(2, "5.0")
        request = (
            _string_field(1, session_id.decode())
            + _string_field(2, "raw")
            + _varint(3 << 3 | 2) + _varint(len(timestamp)) + timestamp
            + _varint(4 << 3 | 2) + _varint(len(entry)) + entry
            + _varint(5 << 3 | 2) + _varint(len(entry)) + entry
        )  # fmt: skip
        assert log_data(request) == b""
        assert close_file(_string_field(1, session_id.decode())) == b""

    [record] = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert record["timestamp"] == "2023-11-14T22:13:20.000005+00:00"
    assert record["measurement_name"] == "raw"
    assert (
        record["measurement_configurations"] == record["measurement_outputs"] == {"voltage": "5.0"}
    )


def test_health_and_reflection_are_served(logger_address: str) -> None:
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    with grpc.insecure_channel(logger_address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        status = health.Check(health_pb2.HealthCheckRequest(service="json_logger.JsonLogger"))
        assert status.status == health_pb2.HealthCheckResponse.SERVING

        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        [response] = list(reflection.ServerReflectionInfo(iter([request])))
        names = {service.name for service in response.list_services_response.service}
        assert "json_logger.JsonLogger" in names


def test_sigterm_finishes_in_flight_calls_closes_files_and_exits_0(tmp_path: Path) -> None:
    process = logger_service_process(["--no-discovery"])
    process.start()
    log_path = tmp_path / "shutdown.ndjson"
    acknowledged = 0
    stopped = threading.Event()
    with grpc.insecure_channel(process.address) as channel:
        stub = JsonLoggerStub(channel)
        session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id

        def keep_logging() -> None:
            nonlocal acknowledged
            while True:
                try:
                    stub.LogMeasurementData(
                        pb.LogMeasurementDataRequest(session_id=session_id), timeout=10
                    )
                except grpc.RpcError:
                    stopped.set()
                    return
                acknowledged += 1

        writer = threading.Thread(target=keep_logging)
        writer.start()
        while acknowledged < 50:
            writer.join(timeout=0.01)
        process.send_signal(signal.SIGTERM)
        writer.join(timeout=30)

    assert stopped.is_set()
    assert process.wait() == 0
    lines = log_path.read_text().splitlines()
    assert len(lines) >= acknowledged  # every acknowledged record is in the file, whole
    assert all(json.loads(line)["session_id"] == session_id for line in lines)


def test_sigterm_right_after_the_ready_line_still_stops_cleanly() -> None:
    for _ in range(5):
        process = logger_service_process(["--no-discovery"])
        process.start()
        process.send_signal(signal.SIGTERM)
        assert process.wait() == 0, process.stderr_tail


def test_enter_on_a_terminal_stops_the_service(tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "logger_service", "--no-discovery"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(terminal)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().startswith("JSON Logger Service listening on")
        os.write(controller, b"\n")
        assert child.wait(timeout=15) == 0
    finally:
        if child.poll() is None:
            child.kill()
        os.close(controller)
        child.communicate()


# -- streams that end without their client ending them ----------------------------------------

STREAMING_CLIENT = """
import sys, time, grpc
from json_logger import json_logger_pb2 as pb
from json_logger.json_logger_pb2_grpc import JsonLoggerStub

address, session_id = sys.argv[1], sys.argv[2]

big = {"points": "x" * 500_000}  # large messages: the kill cuts one in the middle

def batches():
    for index in range(1_000_000):
        yield pb.LogMeasurementDataBatch(
            session_id=session_id,
            records=[pb.MeasurementRecord(measurement_name=f"r{index}", measurement_outputs=big)],
        )
        if index == 2:
            print("streaming", flush=True)

with grpc.insecure_channel(address) as channel:
    JsonLoggerStub(channel).StreamMeasurementData(batches())
"""


def test_a_client_killed_mid_stream_is_a_cancelled_call_in_one_log_line(tmp_path: Path) -> None:
    log_path = tmp_path / "killed.ndjson"
    with logger_service_process(["--no-discovery", "-v"]) as service:
        with grpc.insecure_channel(service.address) as channel:
            stub = JsonLoggerStub(channel)
            session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
            client = subprocess.Popen(
                [sys.executable, "-c", STREAMING_CLIENT, service.address, session_id],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert client.stdout is not None and client.stdout.readline() == "streaming\n"
            client.kill()
            client.wait(timeout=10)
            stub.CloseFile(pb.CloseFileRequest(session_id=session_id), timeout=10)
    log = service.stderr_tail  # complete: the service has stopped

    assert "Traceback" not in log and "Unexpected failure" not in log, log
    assert "INTERNAL" not in log
    # a kill between two messages ends the stream as if the client had ended it (nothing to
    # log); one in the middle of a message is a cancelled call, said in one line with the count
    said = [line for line in log.splitlines() if "StreamMeasurementData" in line]
    assert all(
        "CANCELLED: the client cancelled the stream" in line
        and "records of this stream were written before the error" in line
        for line in said
    ), said


def test_sigterm_ends_an_open_stream_with_unavailable_and_what_it_wrote(tmp_path: Path) -> None:
    log_path = tmp_path / "stopped.ndjson"
    process = logger_service_process(["--no-discovery"])
    process.start()
    sent = threading.Event()

    def batches(session_id: str) -> Iterator[pb.LogMeasurementDataBatch]:
        for index in range(1_000_000):
            yield pb.LogMeasurementDataBatch(
                session_id=session_id, records=[pb.MeasurementRecord(measurement_name=f"r{index}")]
            )
            if index == 4:
                sent.set()
            time.sleep(0.01)

    with grpc.insecure_channel(process.address) as channel:
        stub = JsonLoggerStub(channel)
        session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
        stopper = threading.Thread(
            target=lambda: sent.wait(10) and process.send_signal(signal.SIGTERM)
        )
        stopper.start()
        with pytest.raises(grpc.RpcError) as ended:
            stub.StreamMeasurementData(batches(session_id), timeout=30)
        stopper.join()
    assert process.wait(timeout=15) == 0

    written = len(log_path.read_text(encoding="utf-8").splitlines())
    assert ended.value.code() is grpc.StatusCode.UNAVAILABLE
    assert "the service is stopping" in (ended.value.details() or "")
    assert f"({written} records of this stream were written" in (ended.value.details() or "")
