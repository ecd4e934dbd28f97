"""Availability of the JSON Logger Service with many open streams, beside its own ceiling.

Run from the project root::

    uv run python benchmarks/service_stress.py           # 256 streams (well under a minute)
    uv run python benchmarks/service_stress.py --quick   # 16 streams, a smoke test

Against the real service (``python -m logger_service --no-discovery --max-streams N``, its own
process), it first measures the ceiling: unary ``LogMeasurementData`` latency (p50, p99) from one
client with no stream open. Then, for N open **idle** streams (each sent one batch of one record
and then nothing) and for N open **slow** streams (each sends a batch of 10 records every second,
the streams' start times spread over that second), held by a second process of this script
(``--hold``, one asyncio gRPC channel), it prints:

- the same unary latency, beside the ceiling (target: p99 < 50 ms);
- the health status (``grpc.health.v1`` Check) and how long it took;
- what stream number N+1 gets and how fast (expected: RESOURCE_EXHAUSTED at once);
- the service's threads and resident memory (Linux ``/proc``);
- for the slow streams, the records they sent, the records the service acknowledged when they
  ended, and the lines in the log (all three equal: nothing acknowledged is lost).

Every figure is printed on its own line as ``<label> : <value>``, and again in a summary table.
The service binds 127.0.0.1 only; every process and file started or written is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import platform
import queue
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from json_logger import json_logger_pb2 as pb
from json_logger import json_logger_pb2_grpc
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.programs import logger_service_process

_logger = logging.getLogger("benchmarks.service_stress")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CALL_TIMEOUT_SECONDS = 10.0
READY_TIMEOUT_SECONDS = 60.0
WARMUP_CALLS = 20
SLOW_BATCH_RECORDS = 10
SLOW_INTERVAL_SECONDS = 1.0
P99_TARGET_MS = 50.0
HOLDER_READY = "holding"
NEW = pb.SESSION_INITIALIZATION_BEHAVIOR_INITIALIZE_NEW
# Its own connection, as a client in another process would have.
CHANNEL_OPTIONS = [("grpc.use_local_subchannel_pool", 1), ("grpc.enable_http_proxy", 0)]


@dataclass(frozen=True)
class Settings:
    """How many streams and calls."""

    streams: int
    """Streams held open, also the service's --max-streams."""
    calls: int
    """Unary calls per latency figure."""
    slow_seconds: float
    """How long the slow streams run before the latency is measured (so every one has sent)."""


FULL = Settings(streams=256, calls=1000, slow_seconds=2.0)
QUICK = Settings(streams=16, calls=100, slow_seconds=1.0)


@dataclass(frozen=True)
class Latency:
    """p50 and p99 of a series of calls, in milliseconds."""

    p50: float
    p99: float

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        """Summarise at least two samples."""
        milliseconds = [s * 1e3 for s in seconds]
        return cls(
            statistics.median(milliseconds),
            statistics.quantiles(milliseconds, n=100, method="inclusive")[98],
        )

    def __str__(self) -> str:
        return f"p50 {self.p50:.2f} ms, p99 {self.p99:.2f} ms"


@dataclass(frozen=True)
class Outcome:
    """What a call got and how fast."""

    status: str
    milliseconds: float

    def __str__(self) -> str:
        return f"{self.status} in {self.milliseconds:.1f} ms"


# -- the stream holder (this script re-run with --hold) ----------------------------------------


def one_batch(session_id: str, records: int, name: str) -> pb.LogMeasurementDataBatch:
    """A batch of ``records`` small records."""
    return pb.LogMeasurementDataBatch(
        session_id=session_id,
        records=[
            pb.MeasurementRecord(measurement_name=name, measurement_outputs={"i": str(index)})
            for index in range(records)
        ],
    )


async def hold_streams(address: str, session_id: str, streams: int, mode: str) -> None:
    """Open ``streams`` streams, each sending one batch of one record; print the ready line; in
    ``slow`` mode keep sending a batch every second; on a line (or end) of standard input, end
    every stream and print ``sent <records> acknowledged <records> errors <count>``.
    """
    async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        stub = json_logger_pb2_grpc.JsonLoggerStub(channel)
        calls = [stub.StreamMeasurementData(timeout=600) for _ in range(streams)]
        sent = 0
        for call in calls:
            await call.write(one_batch(session_id, 1, "opened"))
            sent += 1
        print(HOLDER_READY, flush=True)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()

        async def trickle(call: grpc.aio.StreamUnaryCall[object, object]) -> int:
            written = 0
            with contextlib.suppress(asyncio.TimeoutError):  # the random start within one interval
                await asyncio.wait_for(stop.wait(), random.uniform(0, SLOW_INTERVAL_SECONDS))
            while not stop.is_set():
                await call.write(one_batch(session_id, SLOW_BATCH_RECORDS, "slow"))
                written += SLOW_BATCH_RECORDS
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), SLOW_INTERVAL_SECONDS)
            return written

        trickling = [asyncio.create_task(trickle(call)) for call in calls] if mode == "slow" else []
        await loop.run_in_executor(None, sys.stdin.readline)
        stop.set()
        sent += sum(await asyncio.gather(*trickling))
        acknowledged = errors = 0
        for call in calls:
            try:
                await call.done_writing()
                response = await call
                acknowledged += response.records_written
            except grpc.aio.AioRpcError:
                errors += 1
        print(f"sent {sent} acknowledged {acknowledged} errors {errors}", flush=True)


class Holder:
    """The holder process, with its output read line by line."""

    def __init__(self, address: str, session_id: str, streams: int, mode: str) -> None:
        self._process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                *("--hold", mode, "--address", address),
                *("--session", session_id, "--streams", str(streams)),
            ],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=_forward, args=(self._process.stdout, self._lines), daemon=True
        ).start()

    def line(self) -> str:
        """The next line it prints (empty when it exited)."""
        try:
            return self._lines.get(timeout=READY_TIMEOUT_SECONDS)
        except queue.Empty:
            raise RuntimeError(
                f"the stream holder printed nothing in {READY_TIMEOUT_SECONDS} s"
            ) from None

    def finish(self) -> tuple[int, int, int]:
        """End its streams; return (records sent, records acknowledged, failed streams)."""
        assert self._process.stdin is not None
        self._process.stdin.write("stop\n")
        self._process.stdin.close()
        words = self.line().split()
        self._process.wait(timeout=READY_TIMEOUT_SECONDS)
        if len(words) != 6 or words[0] != "sent":
            raise RuntimeError(f"the stream holder failed: {' '.join(words)!r}")
        return int(words[1]), int(words[3]), int(words[5])

    def kill(self) -> None:
        """Stop it if it is still running."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def _forward(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.strip())
    lines.put("")


# -- measurements ------------------------------------------------------------------------------


def unary_latency(
    stub: json_logger_pb2_grpc.JsonLoggerStub, session_id: str, calls: int
) -> Latency:
    """``calls`` LogMeasurementData calls in a row from one client."""
    request = pb.LogMeasurementDataRequest(
        session_id=session_id, measurement_name="unary", measurement_outputs={"v": "1.0"}
    )
    for _ in range(WARMUP_CALLS):
        stub.LogMeasurementData(request, timeout=CALL_TIMEOUT_SECONDS)
    samples = []
    for _ in range(calls):
        began = time.perf_counter()
        stub.LogMeasurementData(request, timeout=CALL_TIMEOUT_SECONDS)
        samples.append(time.perf_counter() - began)
    return Latency.of(samples)


def health(channel: grpc.Channel) -> Outcome:
    """The health status of the server and how long the Check took."""
    began = time.perf_counter()
    try:
        response = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=CALL_TIMEOUT_SECONDS
        )
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    except grpc.RpcError as error:
        status = error.code().name
    return Outcome(status, (time.perf_counter() - began) * 1e3)


def one_more_stream(stub: json_logger_pb2_grpc.JsonLoggerStub, session_id: str) -> Outcome:
    """What a stream past the limit gets, and how fast."""
    began = time.perf_counter()
    try:
        stub.StreamMeasurementData(
            iter([one_batch(session_id, 1, "past the limit")]), timeout=CALL_TIMEOUT_SECONDS
        )
        status = "OK (admitted)"
    except grpc.RpcError as error:
        status = error.code().name
    return Outcome(status, (time.perf_counter() - began) * 1e3)


def records_in(stub: json_logger_pb2_grpc.JsonLoggerStub, session_id: str) -> int:
    """Records written so far into one session."""
    for session in stub.ListSessions(
        pb.ListSessionsRequest(), timeout=CALL_TIMEOUT_SECONDS
    ).sessions:
        if session.session_id == session_id:
            return session.records_written
    raise RuntimeError(f"session {session_id} is not open")


def process_use(pid: int) -> str:
    """Threads and resident memory of a process (Linux)."""
    try:
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        )
    except OSError:
        return "n/a"
    return f"{fields['Threads'].strip()} threads, {fields['VmRSS'].strip()} resident"


# -- the run -----------------------------------------------------------------------------------


def figure(label: str, value: object) -> str:
    """One labelled figure line."""
    return f"{label:<44} : {value}"


@dataclass
class Phase:
    """The figures of one phase."""

    name: str
    latency: Latency
    health: Outcome | None = None
    past_limit: Outcome | None = None
    use: str = ""


def measure_with_streams(
    mode: str,
    settings: Settings,
    service: ServiceProcess,
    stub: json_logger_pb2_grpc.JsonLoggerStub,
    channel: grpc.Channel,
    unary_session: str,
    directory: Path,
) -> Phase:
    """Hold the streams open in the holder process while measuring; print every figure."""
    path = directory / f"{mode}-streams.ndjson"
    stream_session = stub.InitializeFile(
        pb.InitializeFileRequest(resource_name=str(path), session_initialization_behavior=NEW),
        timeout=CALL_TIMEOUT_SECONDS,
    ).session_id
    name = f"{settings.streams} {mode} streams"
    holder = Holder(service.address, stream_session, settings.streams, mode)
    try:
        if (line := holder.line()) != HOLDER_READY:
            raise RuntimeError(f"the stream holder failed: {line!r}")
        # Every stream's first batch (one record) written: the service holds them all.
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while records_in(stub, stream_session) < settings.streams:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the service did not admit {settings.streams} streams")
            time.sleep(0.05)
        if mode == "slow":
            time.sleep(settings.slow_seconds)
        phase = Phase(name, unary_latency(stub, unary_session, settings.calls))
        print(figure(f"LogMeasurementData, {name}", phase.latency))
        phase.health = health(channel)
        print(figure(f"health Check, {name}", phase.health))
        phase.past_limit = one_more_stream(stub, stream_session)
        print(figure(f"stream {settings.streams + 1}, {name}", phase.past_limit))
        phase.use = process_use(service.pid)
        print(figure(f"service, {name}", phase.use))
        sent, acknowledged, failed = holder.finish()
    finally:
        holder.kill()
    stub.CloseFile(pb.CloseFileRequest(session_id=stream_session), timeout=CALL_TIMEOUT_SECONDS)
    lines = len(path.read_text(encoding="utf-8").splitlines())
    print(
        figure(
            f"records of the {name}",
            f"{sent} sent, {acknowledged} acknowledged, {lines} in the log, "
            f"{failed} streams failed",
        )
    )
    if not sent == acknowledged == lines or failed:
        raise RuntimeError(f"records lost or streams failed with {name}")
    return phase


def print_summary(ceiling: Latency, phases: list[Phase], streams: int) -> None:
    """All figures in one table, and the verdict."""
    print()
    print(f"Summary (LogMeasurementData from one client; limit --max-streams {streams})")
    header = (
        f"{'open streams':<20} {'p50 ms':>8} {'p99 ms':>8} {'health':>16} "
        f"{f'stream {streams + 1}':>30}"
    )
    print(header)
    print("-" * len(header))
    print(f"{'none (ceiling)':<20} {ceiling.p50:>8.2f} {ceiling.p99:>8.2f}")
    for phase in phases:
        print(
            f"{phase.name:<20} {phase.latency.p50:>8.2f} {phase.latency.p99:>8.2f} "
            f"{phase.health!s:>16} {phase.past_limit!s:>30}"
        )
    worst = max(phase.latency.p99 for phase in phases)
    verdict = "met" if worst < P99_TARGET_MS else "NOT met"
    print()
    print(
        f"Target p99 < {P99_TARGET_MS:g} ms with {streams} open streams: {verdict} ({worst:.2f} ms)"
    )


def run(settings: Settings, quick: bool) -> None:
    """Start the service, measure the ceiling, then idle and slow streams; print it all."""
    print(
        f"JSON Logger Service stress ({'quick' if quick else 'full'} run): "
        f"Python {platform.python_version()}, grpcio {grpc.__version__}, "
        f"{os.cpu_count()} CPUs, {settings.streams} streams, "
        f"{settings.calls} LogMeasurementData calls per latency figure"
    )
    with tempfile.TemporaryDirectory(prefix="service-stress-") as temporary:
        directory = Path(temporary)
        service = logger_service_process(["--no-discovery", "--max-streams", str(settings.streams)])
        service.start()
        try:
            with grpc.insecure_channel(service.address, options=CHANNEL_OPTIONS) as channel:
                stub = json_logger_pb2_grpc.JsonLoggerStub(channel)
                unary_session = stub.InitializeFile(
                    pb.InitializeFileRequest(
                        resource_name=str(directory / "unary.ndjson"),
                        session_initialization_behavior=NEW,
                    ),
                    timeout=CALL_TIMEOUT_SECONDS,
                ).session_id
                ceiling = unary_latency(stub, unary_session, settings.calls)
                print(figure("LogMeasurementData, no streams (ceiling)", ceiling))
                print(figure("health Check, no streams", health(channel)))
                print(figure("service, no streams", process_use(service.pid)))
                phases = [
                    measure_with_streams(
                        mode, settings, service, stub, channel, unary_session, directory
                    )
                    for mode in ("idle", "slow")
                ]
                stub.CloseFile(
                    pb.CloseFileRequest(session_id=unary_session), timeout=CALL_TIMEOUT_SECONDS
                )
        finally:
            if service.stop() != 0:
                _logger.warning("The service exited uncleanly:\n%s", service.stderr_tail)
    print_summary(ceiling, phases, settings.streams)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the benchmark (or hold streams for it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    parser.add_argument("--hold", choices=("idle", "slow"), help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    parser.add_argument("--session", help=argparse.SUPPRESS)
    parser.add_argument("--streams", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if arguments.hold:
        asyncio.run(
            hold_streams(arguments.address, arguments.session, arguments.streams, arguments.hold)
        )
        return 0
    run(QUICK if arguments.quick else FULL, arguments.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
