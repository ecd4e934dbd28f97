"""Throughput and latency of the JSON Logger Service, with a no-op servicer as the gRPC ceiling.

Run from the project root::

    uv run python benchmarks/logger_throughput.py           # full run (well under a minute)
    uv run python benchmarks/logger_throughput.py --quick   # tiny run, a smoke test

It measures, against the real service (``python -m logger_service --no-discovery``) and against a
servicer that does nothing (this script re-run as ``--serve-noop``), each in its own process:

- LogMeasurementData records/s into one session, from 1 and from 8 concurrent clients (raw stubs,
  one channel and one connection per client), and the ratio service/no-op;
- StreamMeasurementData records/s through ``JsonLoggerClient.log_data_stream`` into one session,
  from 1 and from 4 concurrent clients, and the ratio service/no-op;

and, against the real service only, InitializeFile latency (median, p95): opening a new session
(INITIALIZE_NEW, then CloseFile) and attaching (ATTACH_TO_EXISTING) to an open one, on a 1-line
log and on a large (100 MB) log.

Every figure is printed on its own line as ``<label> : <value>``, and again in a summary table.
The servers bind 127.0.0.1 only; every process and file started or written is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior

from json_logger import json_logger_pb2 as pb
from json_logger import json_logger_pb2_grpc
from logger_client.session import JsonLoggerClient, MeasurementRecord, to_text
from logger_service.servicer import SERVICE_NAME
from session_core import hosting
from session_core.decoding import RequestDecodeGuard
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.programs import start_logger_service

_logger = logging.getLogger("benchmarks.logger_throughput")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
NOOP_READY_PREFIX = "No-op JSON Logger listening on "
CALL_TIMEOUT_SECONDS = 30.0
BARRIER_TIMEOUT_SECONDS = 60.0
WARMUP_CALLS = 20
STREAM_TARGET_RECORDS_PER_SECOND = 50_000
# One connection per raw client, as separate client processes would have (by default, channels
# of one process with the same target share one connection).
RAW_CHANNEL_OPTIONS = [("grpc.use_local_subchannel_pool", 1), ("grpc.enable_http_proxy", 0)]

UNARY_CLIENTS = (1, 8)
STREAM_CLIENTS = (1, 4)

NEW = pb.SESSION_INITIALIZATION_BEHAVIOR_INITIALIZE_NEW
ATTACH = pb.SESSION_INITIALIZATION_BEHAVIOR_ATTACH_TO_EXISTING

# A realistic record: a measurement name, 4 configuration entries, 3 outputs.
MEASUREMENT_NAME = "dc_voltage_sweep"
CONFIGURATIONS: dict[str, object] = {
    "pin_names": "SMU1/0",
    "voltage_level_V": 3.3,
    "current_limit_A": 0.01,
    "aperture_time_s": 0.001,
}
OUTPUTS: dict[str, object] = {"voltage_V": 3.298712, "current_A": 0.001234, "passed": True}
STREAM_RECORD = MeasurementRecord(MEASUREMENT_NAME, CONFIGURATIONS, OUTPUTS)


@dataclass(frozen=True)
class Settings:
    """How long and how much each measurement runs."""

    duration: float
    """Seconds per throughput figure."""
    repetitions: int
    """InitializeFile calls per latency figure."""
    large_log_bytes: int
    """Size of the large log for the InitializeFile figures."""


FULL = Settings(duration=2.5, repetitions=50, large_log_bytes=100 * 2**20)
QUICK = Settings(duration=0.2, repetitions=5, large_log_bytes=2**20)


@dataclass(frozen=True)
class Latency:
    """Median and 95th percentile of a series of calls, in seconds."""

    median: float
    p95: float

    @classmethod
    def of(cls, samples: list[float]) -> Latency:
        """Summarise at least two samples."""
        return cls(
            statistics.median(samples),
            statistics.quantiles(samples, n=20, method="inclusive")[18],
        )

    def __str__(self) -> str:
        return f"median {self.median * 1e3:.2f} ms, p95 {self.p95 * 1e3:.2f} ms"


# -- the no-op servicer ------------------------------------------------------------------------


class NoopJsonLoggerServicer(json_logger_pb2_grpc.JsonLoggerServicer):
    """Answers at once and writes nothing: what gRPC alone costs per call on this machine."""

    def InitializeFile(  # noqa: N802 - gRPC method name
        self, request: pb.InitializeFileRequest, context: grpc.ServicerContext
    ) -> pb.InitializeFileResponse:
        """Return a dummy session."""
        return pb.InitializeFileResponse(
            session_id="noop", new_session_initialized=True, resource_name=request.resource_name
        )

    def LogMeasurementData(  # noqa: N802 - gRPC method name
        self, request: pb.LogMeasurementDataRequest, context: grpc.ServicerContext
    ) -> pb.LogMeasurementDataResponse:
        """Drop the record."""
        return pb.LogMeasurementDataResponse()

    def StreamMeasurementData(  # noqa: N802 - gRPC method name
        self,
        request_iterator: Iterator[pb.LogMeasurementDataBatch],
        context: grpc.ServicerContext,
    ) -> pb.StreamMeasurementDataResponse:
        """Receive (deserialise) every batch and drop its records."""
        count = 0
        for batch in request_iterator:
            count += len(batch.records)
        return pb.StreamMeasurementDataResponse(records_written=count)

    def CloseFile(  # noqa: N802 - gRPC method name
        self, request: pb.CloseFileRequest, context: grpc.ServicerContext
    ) -> pb.CloseFileResponse:
        """Close nothing."""
        return pb.CloseFileResponse()

    def ListSessions(  # noqa: N802 - gRPC method name
        self, request: pb.ListSessionsRequest, context: grpc.ServicerContext
    ) -> pb.ListSessionsResponse:
        """List nothing."""
        return pb.ListSessionsResponse()


def serve_noop() -> None:
    """Host the no-op servicer like the real one (same thread pool and stream limits, the same
    interceptors, health, reflection).
    """
    limits = hosting.DEFAULT_CALL_LIMITS
    server = hosting.create_server(
        max_workers=limits.unary_workers,
        stream_limiter=hosting.StreamLimiter(
            max_streams=limits.max_streams, idle_timeout=limits.stream_idle_timeout
        ),
        interceptors=[RequestDecodeGuard()],  # as ServiceHost hosts every session service
    )
    json_logger_pb2_grpc.add_JsonLoggerServicer_to_server(NoopJsonLoggerServicer(), server)
    hosting.add_health_and_reflection(server, [SERVICE_NAME])
    with hosting.StopRequests(watch_stdin=False) as stop_requests:
        port = hosting.bind_insecure(server, HOST, 0)
        server.start()
        try:
            hosting.announce_ready(f"{NOOP_READY_PREFIX}{HOST}:{port}")
            stop_requests.wait()
        finally:
            server.stop(grace=1.0).wait()


def start_noop_service() -> ServiceProcess:
    """Start this script as ``python -m benchmarks.logger_throughput --serve-noop``."""
    process = ServiceProcess(
        ["--serve-noop"],
        module="benchmarks.logger_throughput",
        ready_prefix=NOOP_READY_PREFIX,
        cwd=PROJECT_ROOT,
    )
    process.start()
    return process


# -- measurements ------------------------------------------------------------------------------


Worker = Callable[[threading.Barrier, float], tuple[int, float]]
"""``(start barrier, duration) -> (records, end time)``: sets up, waits at the barrier, runs."""


def run_clients(clients: int, duration: float, worker: Worker) -> float:
    """Run ``clients`` workers in their own threads, started together; return records/s."""
    start = threading.Barrier(clients + 1, timeout=BARRIER_TIMEOUT_SECONDS)

    def guarded() -> tuple[int, float]:
        try:
            return worker(start, duration)
        except BaseException:
            start.abort()  # do not leave the others (and the main thread) waiting
            raise

    with ThreadPoolExecutor(max_workers=clients, thread_name_prefix="client") as pool:
        futures = [pool.submit(guarded) for _ in range(clients)]
        try:
            start.wait()
        except threading.BrokenBarrierError:
            for future in futures:
                future.result()  # re-raise the worker's error
            raise
        began = time.perf_counter()
        results = [future.result() for future in futures]
    records = sum(count for count, _ in results)
    elapsed = max(end for _, end in results) - began
    return records / elapsed


def unary_request(session_id: str) -> pb.LogMeasurementDataRequest:
    """The record sent by the raw clients (values as ``JsonLoggerClient`` would send them)."""
    timestamp = Timestamp()
    timestamp.GetCurrentTime()
    return pb.LogMeasurementDataRequest(
        session_id=session_id,
        measurement_name=MEASUREMENT_NAME,
        timestamp=timestamp,
        measurement_configurations={key: to_text(value) for key, value in CONFIGURATIONS.items()},
        measurement_outputs={key: to_text(value) for key, value in OUTPUTS.items()},
    )


def unary_worker(address: str, session_id: str) -> Worker:
    """A raw-stub client calling LogMeasurementData in a loop on its own channel."""

    def work(start: threading.Barrier, duration: float) -> tuple[int, float]:
        with grpc.insecure_channel(address, options=RAW_CHANNEL_OPTIONS) as channel:
            stub = json_logger_pb2_grpc.JsonLoggerStub(channel)
            request = unary_request(session_id)
            for _ in range(WARMUP_CALLS):
                stub.LogMeasurementData(request, timeout=CALL_TIMEOUT_SECONDS)
            start.wait()
            deadline = time.perf_counter() + duration
            count = 0
            while time.perf_counter() < deadline:
                stub.LogMeasurementData(request, timeout=CALL_TIMEOUT_SECONDS)
                count += 1
            return count, time.perf_counter()

    return work


def records_until(deadline: float) -> Iterator[MeasurementRecord]:
    """The same record (stamped by the client when sent) until the deadline."""
    while time.perf_counter() < deadline:
        yield STREAM_RECORD


def stream_worker(address: str, path: Path) -> Worker:
    """A ``JsonLoggerClient`` attached to the open session, streaming for the duration."""

    def work(start: threading.Barrier, duration: float) -> tuple[int, float]:
        with JsonLoggerClient(
            path,
            address=address,
            initialization_behavior=SessionInitializationBehavior.ATTACH_TO_SERVER_SESSION,
        ) as client:
            client.log_data_stream([STREAM_RECORD] * WARMUP_CALLS)
            start.wait()
            written = client.log_data_stream(records_until(time.perf_counter() + duration))
            return written, time.perf_counter()

    return work


def initialize(
    stub: json_logger_pb2_grpc.JsonLoggerStub,
    path: Path,
    behavior: pb.SessionInitializationBehavior.ValueType,
) -> str:
    """InitializeFile; return the session id."""
    response: pb.InitializeFileResponse = stub.InitializeFile(
        pb.InitializeFileRequest(resource_name=str(path), session_initialization_behavior=behavior),
        timeout=CALL_TIMEOUT_SECONDS,
    )
    return response.session_id


def close(stub: json_logger_pb2_grpc.JsonLoggerStub, session_id: str) -> None:
    """CloseFile."""
    stub.CloseFile(pb.CloseFileRequest(session_id=session_id), timeout=CALL_TIMEOUT_SECONDS)


def new_session_latency(
    stub: json_logger_pb2_grpc.JsonLoggerStub, path: Path, repetitions: int
) -> Latency:
    """InitializeFile(INITIALIZE_NEW) on a file with no open session; CloseFile (not timed)."""
    close(stub, initialize(stub, path, NEW))  # warm-up
    samples = []
    for _ in range(repetitions):
        began = time.perf_counter()
        session_id = initialize(stub, path, NEW)
        samples.append(time.perf_counter() - began)
        close(stub, session_id)
    return Latency.of(samples)


def attach_latency(
    stub: json_logger_pb2_grpc.JsonLoggerStub, path: Path, repetitions: int
) -> Latency:
    """InitializeFile(ATTACH_TO_EXISTING) to an open session of the file."""
    session_id = initialize(stub, path, NEW)
    try:
        initialize(stub, path, ATTACH)  # warm-up
        samples = []
        for _ in range(repetitions):
            began = time.perf_counter()
            initialize(stub, path, ATTACH)
            samples.append(time.perf_counter() - began)
    finally:
        close(stub, session_id)
    return Latency.of(samples)


def write_log(path: Path, size: int) -> int:
    """Write an NDJSON log of about ``size`` bytes (whole lines, in big chunks); return its size."""
    line = (
        json.dumps(
            {
                "timestamp": "2024-01-01T00:00:00.000000+00:00",
                "measurement_name": MEASUREMENT_NAME,
                "measurement_configurations": {k: to_text(v) for k, v in CONFIGURATIONS.items()},
                "measurement_outputs": {k: to_text(v) for k, v in OUTPUTS.items()},
                "session_id": "00000000-0000-0000-0000-000000000000",
            }
        )
        + "\n"
    ).encode("ascii")
    lines = max(1, round(size / len(line)))
    lines_per_chunk = max(1, 8 * 2**20 // len(line))
    written = 0
    with path.open("wb") as file:
        while lines > 0:
            count = min(lines, lines_per_chunk)
            file.write(line * count)
            written += count * len(line)
            lines -= count
    return written


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Report:
    """Prints each figure as it is measured and keeps it for the summary."""

    throughput: dict[tuple[str, str, int], float]
    latency: dict[str, Latency]

    def rate(self, call: str, server: str, clients: int, value: float) -> None:
        """Record and print records/s."""
        self.throughput[(call, server, clients)] = value
        print(figure(f"{call}, {server}, {_clients(clients)}", f"{value:,.0f} records/s"))

    def ratio(self, call: str, clients: int) -> None:
        """Print service/no-op for a measured pair."""
        ratio = (
            self.throughput[(call, "service", clients)] / self.throughput[(call, "no-op", clients)]
        )
        print(figure(f"{call}, service/no-op, {_clients(clients)}", f"{ratio:.2f}"))

    def initialize(self, label: str, value: Latency) -> None:
        """Record and print a latency."""
        self.latency[label] = value
        print(figure(label, str(value)))


def figure(label: str, value: str) -> str:
    """One labelled figure line."""
    return f"{label:<48} : {value}"


def _clients(count: int) -> str:
    return f"{count} client" if count == 1 else f"{count} clients"


def measure_throughput(
    report: Report, server: str, address: str, directory: Path, settings: Settings
) -> None:
    """Unary and streamed records/s into one session of a fresh log file."""
    path = directory / f"throughput-{server}.ndjson"
    with grpc.insecure_channel(address, options=RAW_CHANNEL_OPTIONS) as channel:
        stub = json_logger_pb2_grpc.JsonLoggerStub(channel)
        session_id = initialize(stub, path, NEW)
        try:
            for clients in UNARY_CLIENTS:
                rate = run_clients(clients, settings.duration, unary_worker(address, session_id))
                report.rate("LogMeasurementData", server, clients, rate)
            for clients in STREAM_CLIENTS:
                rate = run_clients(clients, settings.duration, stream_worker(address, path))
                report.rate("StreamMeasurementData", server, clients, rate)
        finally:
            close(stub, session_id)
    path.unlink(missing_ok=True)


def measure_initialize(report: Report, address: str, directory: Path, settings: Settings) -> None:
    """InitializeFile latency, new and attach, on a 1-line and on a large log."""
    small = directory / "one-line.ndjson"
    large = directory / "large.ndjson"
    write_log(small, 1)
    size = write_log(large, settings.large_log_bytes)
    large_label = f"large log ({size / 2**20:.0f} MB)"
    try:
        with grpc.insecure_channel(address, options=RAW_CHANNEL_OPTIONS) as channel:
            stub = json_logger_pb2_grpc.JsonLoggerStub(channel)
            for kind, measure in (("new", new_session_latency), ("attach", attach_latency)):
                for path, label in ((small, "1-line log"), (large, large_label)):
                    report.initialize(
                        f"InitializeFile {kind}, {label}", measure(stub, path, settings.repetitions)
                    )
    finally:
        large.unlink(missing_ok=True)
        small.unlink(missing_ok=True)


def print_summary(report: Report) -> None:
    """All figures in one table."""
    print()
    print("Summary (records/s into one session; ratio = service / no-op)")
    header = f"{'call':<22} {'clients':>7} {'service':>12} {'no-op':>12} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for call, counts in (
        ("LogMeasurementData", UNARY_CLIENTS),
        ("StreamMeasurementData", STREAM_CLIENTS),
    ):
        for clients in counts:
            service = report.throughput[(call, "service", clients)]
            noop = report.throughput[(call, "no-op", clients)]
            print(
                f"{call:<22} {clients:>7} {service:>12,.0f} {noop:>12,.0f} {service / noop:>6.2f}"
            )
    print()
    print(f"{'InitializeFile (service)':<40} {'median ms':>10} {'p95 ms':>10}")
    print("-" * 62)
    for label, value in report.latency.items():
        name = label.removeprefix("InitializeFile ")
        print(f"{name:<40} {value.median * 1e3:>10.2f} {value.p95 * 1e3:>10.2f}")
    stream = report.throughput[("StreamMeasurementData", "service", 1)]
    verdict = "met" if stream >= STREAM_TARGET_RECORDS_PER_SECOND else "NOT met"
    print()
    print(
        f"Stream target {STREAM_TARGET_RECORDS_PER_SECOND:,} records/s (1 client): {verdict} "
        f"({stream:,.0f} records/s)"
    )


def run(settings: Settings, quick: bool) -> None:
    """Measure the real service, then the no-op one, each in its own process; print it all."""
    print(
        f"JSON Logger Service benchmark ({'quick' if quick else 'full'} run): "
        f"Python {platform.python_version()}, grpcio {grpc.__version__}, "
        f"{os.cpu_count()} CPUs, {settings.duration:g} s per throughput figure, "
        f"{settings.repetitions} InitializeFile calls per latency figure"
    )
    report = Report({}, {})
    with tempfile.TemporaryDirectory(prefix="logger-benchmark-") as temporary:
        directory = Path(temporary)
        service = start_logger_service(discovery=False)
        try:
            measure_throughput(report, "service", service.address, directory, settings)
            measure_initialize(report, service.address, directory, settings)
        finally:
            if service.stop() != 0:
                _logger.warning("The service exited uncleanly:\n%s", service.stderr_tail)
        noop = start_noop_service()
        try:
            measure_throughput(report, "no-op", noop.address, directory, settings)
        finally:
            if noop.stop() != 0:
                _logger.warning("The no-op service exited uncleanly:\n%s", noop.stderr_tail)
    for call, counts in (
        ("LogMeasurementData", UNARY_CLIENTS),
        ("StreamMeasurementData", STREAM_CLIENTS),
    ):
        for clients in counts:
            report.ratio(call, clients)
    print_summary(report)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the benchmark (or serve the no-op servicer)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    parser.add_argument("--serve-noop", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if arguments.serve_noop:
        serve_noop()
        return 0
    run(QUICK if arguments.quick else FULL, arguments.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
