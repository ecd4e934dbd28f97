"""The Hardware Lock Service under contention: mutual exclusion and hand-over latency, beside one
loopback round trip to the same service measured in the same run (the floor of a hand-over).

Run from the project root::

    uv run python benchmarks/lock_handover.py            # 2 processes x 500 critical sections
    uv run python benchmarks/lock_handover.py --quick    # 2 x 50, a smoke test

Two client processes take one lock in turn, each ``sections`` times; holding it, each appends a
start and an end mark to one file (``tests/lock_marks.py``, the same check the tests run). Then
the file is read: every section present and whole, none overlapping another, and the hand-over
time between holders (one holder's end mark → the next holder's start mark: its ReleaseLock, the
service waking the waiter, the waiter's answer). Measured on the in-memory backend (one service)
and on PostgreSQL advisory locks (two services on one PostgreSQL server, as two stations; skipped
with a message without PostgreSQL's server binaries). Everything binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import grpc
from results_throughput import load_postgres_server  # this folder's: the tests' PostgreSQL

from hardware_lock import hardware_lock_pb2 as pb
from hardware_lock.hardware_lock_pb2_grpc import HardwareLockStub
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.programs import start_lock_service

_logger = logging.getLogger("benchmarks.lock_handover")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MARKS_SCRIPT = PROJECT_ROOT / "tests" / "lock_marks.py"
ROUND_TRIPS = 2000
LOCK = "Benchmark switch matrix"


def load_marks() -> ModuleType:
    """``tests/lock_marks.py``, loaded from its file."""
    spec = importlib.util.spec_from_file_location("lock_marks", MARKS_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["lock_marks"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def round_trip_ms(address: str, count: int) -> float:
    """Median of ``count`` ListSessions calls: one loopback round trip to this service."""
    with grpc.insecure_channel(address) as channel:
        stub = HardwareLockStub(channel)
        stub.ListSessions(pb.ListSessionsRequest(), timeout=10)  # connect first
        times = []
        for _ in range(count):
            started = time.perf_counter()
            stub.ListSessions(pb.ListSessionsRequest(), timeout=10)
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def contend(addresses: list[str], sections: int, marks_file: Path) -> float:
    """Two client processes, each ``sections`` critical sections; return the seconds it took."""
    started = time.perf_counter()
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                str(MARKS_SCRIPT),
                address,
                LOCK,
                str(marks_file),
                str(sections),
                f"p{index}",
            ]
        )
        for index, address in enumerate(addresses)
    ]
    for worker in workers:
        if worker.wait(600) != 0:
            raise RuntimeError(f"a marking client failed (exit code {worker.returncode})")
    return time.perf_counter() - started


def measure(label: str, services: list[ServiceProcess], sections: int, folder: Path) -> None:
    """Contend through ``services`` (one per client process), then print the figures."""
    marks_module = load_marks()
    marks_file = folder / f"{label}.marks"
    addresses = [services[index % len(services)].address for index in range(2)]
    seconds = contend(addresses, sections, marks_file)
    marks = marks_module.read_marks(marks_file)
    floor = round_trip_ms(services[0].address, ROUND_TRIPS)
    handovers = sorted(ns / 1e6 for ns in marks.handovers_ns)
    expected = 2 * sections
    print(f"{label}, critical sections present : {marks.sections} of {expected}")
    print(f"{label}, overlapping marks          : {marks.overlaps}")
    print(f"{label}, hand-overs between holders : {len(handovers)}")
    if handovers:
        p95 = handovers[int(0.95 * (len(handovers) - 1))]
        median = statistics.median(handovers)
        print(
            f"{label}, hand-over median / p95     : {median:.2f} ms / {p95:.2f} ms "
            f"(one loopback round trip: {floor:.3f} ms; {median / floor:.1f} round trips)"
        )
    print(f"{label}, sections per second        : {expected / seconds:,.0f}")


def run(sections: int, quick: bool) -> None:
    """Measure both backends and print the figures."""
    print(
        f"Hardware lock hand-over benchmark ({'quick' if quick else 'full'} run): Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, 2 processes x {sections} "
        "critical sections"
    )
    with tempfile.TemporaryDirectory(prefix="lock-handover-") as temporary:
        folder = Path(temporary)
        with start_lock_service(discovery=False) as service:
            measure("in memory", [service], sections, folder)
        postgres_server = load_postgres_server()
        try:
            bin_dir = postgres_server.find_bin_dir()
        except postgres_server.PostgresUnavailableError as error:
            print(f"PostgreSQL unavailable, measured in memory only: {error}")
            return
        with postgres_server.PostgresServer(bin_dir) as server:
            env = {**os.environ, "HARDWARE_LOCK_POSTGRESQL": server.url}
            services = [start_lock_service(discovery=False, env=env) for _ in range(2)]
            try:
                measure("PostgreSQL, 2 services", services, sections, folder)
            finally:
                for each in services:
                    if each.stop() != 0:
                        _logger.warning("A service exited uncleanly:\n%s", each.stderr_tail)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    run(50 if arguments.quick else 500, arguments.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
