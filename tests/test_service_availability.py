"""Both session services stay available with many open streams: unary calls and health checks
still answer, a stream past the limit is refused at once with RESOURCE_EXHAUSTED, and an idle
stream is ended after the idle timeout with DEADLINE_EXCEEDED (its records kept).

Real servers on loopback (in-process, to read how many streams they hold; one as a child process
for the command-line options). The only timed assertions are generous bounds proving "not hung".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from json_logger import json_logger_pb2 as pb
from json_logger.json_logger_pb2_grpc import JsonLoggerStub
from logger_service.server import JsonLoggerServer
from results_database import results_database_pb2 as results_pb
from results_database.results_database_pb2_grpc import ResultsDatabaseStub
from results_service.server import ResultsDatabaseServer
from session_core.hosting import CallLimits
from session_core.service_host import ServiceHost
from session_sharing_demo.programs import logger_service_process
from tests.test_server_behaviors import INITIALIZE_NEW, close, initialize, lines, log

OPEN_STREAMS = 64
NOT_HUNG_SECONDS = 2.0
"""A call that answers within this is not waiting for a worker (they take milliseconds)."""
SETTLE_SECONDS = 10.0
"""How long to wait for the server to have admitted the streams a test opened."""


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + SETTLE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {SETTLE_SECONDS} s: {what}")
        time.sleep(0.01)


def idle_until(release: threading.Event) -> Iterator[pb.LogMeasurementDataBatch]:
    """A request stream that sends nothing until ``release`` is set, then ends."""
    release.wait()
    yield from ()


def batch(session_id: str, *names: str) -> pb.LogMeasurementDataBatch:
    return pb.LogMeasurementDataBatch(
        session_id=session_id, records=[pb.MeasurementRecord(measurement_name=n) for n in names]
    )


def health_status(channel: grpc.Channel) -> int:
    response = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=""), timeout=NOT_HUNG_SECONDS
    )
    return int(response.status)


def refusal(call: Callable[[], object]) -> tuple[grpc.RpcError, float]:
    """The error ``call`` fails with, and how long it took."""
    began = time.monotonic()
    with pytest.raises(grpc.RpcError) as raised:
        call()
    error = raised.value
    assert isinstance(error, grpc.RpcError)
    return error, time.monotonic() - began


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of the test: every idle request stream then ends."""
    event = threading.Event()
    yield event
    event.set()


def open_idle_streams(
    stub: JsonLoggerStub, server: ServiceHost, release: threading.Event, count: int
) -> list[grpc.Future]:
    """Open ``count`` more idle streams; return once the server holds them all."""
    expected = server.open_streams + count
    streams = [stub.StreamMeasurementData.future(idle_until(release)) for _ in range(count)]
    wait_until(lambda: server.open_streams == expected, f"{expected} streams open on the server")
    return streams


# -- the JSON Logger Service -------------------------------------------------------------------


@pytest.fixture
def logger_server() -> Iterator[JsonLoggerServer]:
    limits = CallLimits(max_streams=OPEN_STREAMS, stream_idle_timeout=60.0)
    with JsonLoggerServer(register_with_discovery=False, limits=limits) as server:
        yield server


@pytest.fixture
def logger_channel(logger_server: JsonLoggerServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(logger_server.address) as channel:
        yield channel


def test_idle_streams_up_to_the_limit_leave_unary_calls_and_health_answering(
    logger_server: JsonLoggerServer,
    logger_channel: grpc.Channel,
    release: threading.Event,
    log_path: Path,
) -> None:
    stub = JsonLoggerStub(logger_channel)
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    streams = open_idle_streams(stub, logger_server, release, OPEN_STREAMS)

    # Before the limits, 32 open streams took every worker and these calls hit their deadlines.
    for index in range(20):
        stub.LogMeasurementData(
            pb.LogMeasurementDataRequest(session_id=session_id, measurement_name=f"u{index}"),
            timeout=NOT_HUNG_SECONDS,
        )
    assert health_status(logger_channel) == health_pb2.HealthCheckResponse.SERVING
    stub.CloseFile(pb.CloseFileRequest(session_id=session_id), timeout=NOT_HUNG_SECONDS)
    assert [record["measurement_name"] for record in lines(log_path)] == [
        f"u{index}" for index in range(20)
    ]

    release.set()  # the idle streams end without sending a batch: nothing to write, no error
    assert [stream.result(timeout=SETTLE_SECONDS).records_written for stream in streams] == [
        0
    ] * OPEN_STREAMS
    wait_until(lambda: logger_server.open_streams == 0, "every stream slot released")


def test_a_stream_past_the_limit_is_refused_at_once_and_admitted_once_one_ends(
    logger_server: JsonLoggerServer,
    logger_channel: grpc.Channel,
    release: threading.Event,
    log_path: Path,
) -> None:
    stub = JsonLoggerStub(logger_channel)
    session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id
    one_release = threading.Event()
    first = stub.StreamMeasurementData.future(idle_until(one_release))
    wait_until(lambda: logger_server.open_streams == 1, "the first stream open")
    others = open_idle_streams(stub, logger_server, release, OPEN_STREAMS - 1)

    error, elapsed = refusal(
        lambda: stub.StreamMeasurementData(
            iter([batch(session_id, "refused")]), timeout=SETTLE_SECONDS
        )
    )
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED, error.details()
    assert f"{OPEN_STREAMS} streaming calls are open" in error.details()
    assert "--max-streams" in error.details()
    assert elapsed < NOT_HUNG_SECONDS
    log(stub, session_id, "unary still served")

    one_release.set()
    assert first.result(timeout=SETTLE_SECONDS).records_written == 0
    wait_until(lambda: logger_server.open_streams == OPEN_STREAMS - 1, "a slot released")
    written = stub.StreamMeasurementData(
        iter([batch(session_id, "s1", "s2")]), timeout=SETTLE_SECONDS
    ).records_written
    assert written == 2
    close(stub, session_id)
    assert [record["measurement_name"] for record in lines(log_path)] == [
        "unary still served",
        "s1",
        "s2",
    ]
    release.set()
    for stream in others:
        stream.result(timeout=SETTLE_SECONDS)


def test_an_idle_stream_is_ended_with_deadline_exceeded_and_its_records_are_kept(
    release: threading.Event, log_path: Path
) -> None:
    idle_timeout = 1.0
    limits = CallLimits(max_streams=4, stream_idle_timeout=idle_timeout)
    with (
        JsonLoggerServer(register_with_discovery=False, limits=limits) as server,
        grpc.insecure_channel(server.address) as channel,
    ):
        stub = JsonLoggerStub(channel)
        session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id

        def pausing_briefly() -> Iterator[pb.LogMeasurementDataBatch]:
            for index in range(3):
                time.sleep(idle_timeout / 10)  # well within the idle timeout
                yield batch(session_id, f"busy{index}")

        assert stub.StreamMeasurementData(pausing_briefly(), timeout=30).records_written == 3

        def one_batch_then_idle() -> Iterator[pb.LogMeasurementDataBatch]:
            yield batch(session_id, "kept1", "kept2")
            release.wait()

        error, elapsed = refusal(
            lambda: stub.StreamMeasurementData(one_batch_then_idle(), timeout=30)
        )
        assert error.code() is grpc.StatusCode.DEADLINE_EXCEEDED, error.details()
        assert f"sent nothing for {idle_timeout:g} s" in error.details()
        assert "--stream-idle-timeout" in error.details()
        assert "2 records of this stream were written" in error.details()
        assert idle_timeout <= elapsed < idle_timeout + 10  # ended by the server, not by us

        wait_until(lambda: server.open_streams == 0, "the idle stream's slot released")
        log(stub, session_id, "after")
        close(stub, session_id)
    assert [record["measurement_name"] for record in lines(log_path)] == [
        "busy0",
        "busy1",
        "busy2",
        "kept1",
        "kept2",
        "after",
    ]


def test_the_command_line_sets_the_stream_limit_and_the_idle_timeout(
    release: threading.Event, log_path: Path
) -> None:
    process = logger_service_process(
        ["--no-discovery", "--max-streams", "1", "--stream-idle-timeout", "0.5"]
    )
    process.start()
    try:
        with grpc.insecure_channel(process.address) as channel:
            stub = JsonLoggerStub(channel)
            session_id = initialize(stub, log_path, INITIALIZE_NEW).session_id

            def one_batch_then_idle() -> Iterator[pb.LogMeasurementDataBatch]:
                yield batch(session_id, "first")
                release.wait()

            first = stub.StreamMeasurementData.future(one_batch_then_idle(), timeout=30)

            def first_batch_written() -> bool:
                sessions = stub.ListSessions(pb.ListSessionsRequest(), timeout=5).sessions
                return [session.records_written for session in sessions] == [1]

            wait_until(first_batch_written, "the first stream's batch written")
            if not first.done():  # the one slot is taken: a second stream is refused
                error, _ = refusal(
                    lambda: stub.StreamMeasurementData(iter([batch(session_id, "x")]), timeout=5)
                )
                assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED, error.details()
            idle_error = first.exception(timeout=30)
            assert isinstance(idle_error, grpc.RpcError)
            assert idle_error.code() is grpc.StatusCode.DEADLINE_EXCEEDED
            assert "sent nothing for 0.5 s" in idle_error.details()
            close(stub, session_id)
    finally:
        assert process.stop() == 0, process.stderr_tail
    assert [record["measurement_name"] for record in lines(log_path)] == ["first"]


# -- the Results Database Service: no streaming RPC of its own, the same hosting ----------------


def watch(channel: grpc.Channel) -> Iterator[health_pb2.HealthCheckResponse]:
    return health_pb2_grpc.HealthStub(channel).Watch(
        health_pb2.HealthCheckRequest(service=""), timeout=60
    )


def test_results_service_refuses_streams_past_its_limit_and_keeps_serving_unary_calls(
    tmp_path: Path,
) -> None:
    limit = 4
    limits = CallLimits(max_streams=limit, stream_idle_timeout=60.0)
    with (
        ResultsDatabaseServer(register_with_discovery=False, limits=limits) as server,
        grpc.insecure_channel(server.address) as channel,
    ):
        watches = [watch(channel) for _ in range(limit)]  # health Watch: a server stream
        assert [next(w).status for w in watches] == [health_pb2.HealthCheckResponse.SERVING] * limit
        wait_until(lambda: server.open_streams == limit, "every Watch open")

        error, elapsed = refusal(lambda: next(watch(channel)))
        assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED, error.details()
        assert f"{limit} streaming calls are open" in error.details()
        assert elapsed < NOT_HUNG_SECONDS

        stub = ResultsDatabaseStub(channel)
        session_id = stub.InitializeDatabase(
            results_pb.InitializeDatabaseRequest(resource_name=str(tmp_path / "results.db")),
            timeout=NOT_HUNG_SECONDS,
        ).session_id
        stub.CloseDatabase(
            results_pb.CloseDatabaseRequest(session_id=session_id), timeout=NOT_HUNG_SECONDS
        )
        assert health_status(channel) == health_pb2.HealthCheckResponse.SERVING

        watches.pop().cancel()
        wait_until(lambda: server.open_streams == limit - 1, "the cancelled Watch's slot released")
        assert next(watch(channel)).status == health_pb2.HealthCheckResponse.SERVING
        for remaining in watches:
            remaining.cancel()


def test_results_service_ends_an_idle_request_stream(release: threading.Event) -> None:
    # Its only request stream is reflection's (ServerReflectionInfo, bidirectional).
    limits = CallLimits(max_streams=4, stream_idle_timeout=0.5)
    with (
        ResultsDatabaseServer(register_with_discovery=False, limits=limits) as server,
        grpc.insecure_channel(server.address) as channel,
    ):
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)

        def one_question_then_idle() -> Iterator[reflection_pb2.ServerReflectionRequest]:
            yield reflection_pb2.ServerReflectionRequest(list_services="")
            release.wait()

        responses = reflection.ServerReflectionInfo(one_question_then_idle(), timeout=30)
        services = [s.name for s in next(responses).list_services_response.service]
        assert "results_database.ResultsDatabase" in services
        error, _ = refusal(lambda: next(responses))
        assert error.code() is grpc.StatusCode.DEADLINE_EXCEEDED, error.details()
        assert "sent nothing for 0.5 s" in error.details()
        wait_until(lambda: server.open_streams == 0, "the idle stream's slot released")
