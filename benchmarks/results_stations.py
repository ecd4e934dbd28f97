"""Many test stations on one results database: how long a run waits to start, and how many are
refused, on one SQLite file beside one PostgreSQL database (the ceiling) in the same run.

Run from the project root::

    uv run python benchmarks/results_stations.py                 # 2, 4 and 8 stations
    uv run python benchmarks/results_stations.py --quick         # tiny run, a smoke test

Each station is its own Results Database Service process (as on its own test station) with its
own session on the shared database. A station runs paced runs one after another: a run records
``rows`` rows one call at a time, ``step`` seconds apart (the steps of a sequence), then commits.
On SQLite a run holds the file's one write lock from its first row to its commit, so the
stations take turns; on PostgreSQL they do not wait for each other at all.

For each backend and station count it prints the runs refused (the first row got UNAVAILABLE:
the lock stayed taken past the service's 5 s wait), and the wait of each run's first row (how
long a station waited for its turn: median, 95th percentile, worst), and how evenly the turns
went round (the most and fewest runs a station finished). The servers bind 127.0.0.1 only; every
process and file is removed at the end.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from results_throughput import load_postgres_server  # this folder's: the tests' PostgreSQL

from results_client import ResultRow, ResultsDatabaseClient
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.programs import start_results_service

_logger = logging.getLogger("benchmarks.results_stations")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
POSTGRES_SERVER_MODULE = PROJECT_ROOT / "tests" / "postgres_server.py"


@dataclass(frozen=True)
class Settings:
    """The load of one measurement."""

    stations: tuple[int, ...]
    runs: int
    """Runs each station starts, one after another."""
    rows: int
    """Rows of a run, one call each."""
    step: float
    """Seconds between two rows of a run."""


FULL = Settings(stations=(2, 4, 8), runs=5, rows=10, step=0.02)
QUICK = Settings(stations=(2,), runs=2, rows=3, step=0.0)


@dataclass
class Outcome:
    """What the stations saw."""

    first_row_waits: list[float] = field(default_factory=list)
    refused: int = 0
    finished: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def station(
    index: int, address: str, resource: str, settings: Settings, outcome: Outcome, label: str
) -> None:
    """One station: ``runs`` paced runs through its own service, each committed."""
    finished = 0
    with ResultsDatabaseClient(resource, address=address, timeout=30) as client:
        for run in range(settings.runs):
            rows = [
                ResultRow(f"m{row}", 1.0, run_id=f"{label}-station{index}-run{run}")
                for row in range(settings.rows)
            ]
            started = time.perf_counter()
            try:
                client.record(rows[0])
            except grpc.RpcError as error:  # the client's typed errors keep the code
                if error.code() is not grpc.StatusCode.UNAVAILABLE:
                    raise
                with outcome.lock:
                    outcome.refused += 1
                continue
            waited = time.perf_counter() - started
            for row in rows[1:]:
                time.sleep(settings.step)
                client.record(row)
            client.commit()
            finished += 1
            with outcome.lock:
                outcome.first_row_waits.append(waited)
    with outcome.lock:
        outcome.finished[index] = finished


def measure(
    resource: str, services: list[ServiceProcess], count: int, settings: Settings
) -> Outcome:
    """``count`` stations at once on ``resource``, each through its own service."""
    outcome = Outcome()
    threads = [
        threading.Thread(
            target=station,
            args=(index, services[index].address, resource, settings, outcome, f"{count}st"),
        )
        for index in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def report(backend: str, count: int, outcome: Outcome, settings: Settings) -> None:
    """One line per figure, ``<label> : <value>``."""
    label = f"{backend}, {count} stations"
    waits = outcome.first_row_waits
    runs = settings.runs * count
    print(f"{label}, runs refused : {outcome.refused} of {runs}")
    if waits:
        print(f"{label}, first-row wait median : {statistics.median(waits) * 1000:,.1f} ms")
        print(f"{label}, first-row wait p95 : {percentile(waits, 0.95) * 1000:,.1f} ms")
        print(f"{label}, first-row wait worst : {max(waits) * 1000:,.1f} ms")
    finished = list(outcome.finished.values())
    print(f"{label}, runs finished per station : {min(finished)} to {max(finished)}")


def run(settings: Settings, quick: bool) -> None:
    """Start the stations' services and a PostgreSQL server; measure; print."""
    run_seconds = settings.rows * settings.step
    print(
        f"Results stations benchmark ({'quick' if quick else 'full'} run): Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, {settings.runs} runs per station "
        f"of {settings.rows} rows, {settings.step * 1000:g} ms apart (~{run_seconds:.2f} s)"
    )
    postgres_server = load_postgres_server()
    services = [start_results_service(discovery=False) for _ in range(max(settings.stations))]
    try:
        with tempfile.TemporaryDirectory(prefix="results-stations-") as temporary:
            for count in settings.stations:
                database = str(Path(temporary) / f"stations-{count}.db")
                report("SQLite", count, measure(database, services, count, settings), settings)
        try:
            bin_dir = postgres_server.find_bin_dir()
        except postgres_server.PostgresUnavailableError as error:
            print(f"PostgreSQL unavailable, measured SQLite only: {error}")
            return
        with postgres_server.PostgresServer(bin_dir) as server:
            for count in settings.stations:
                report(
                    "PostgreSQL", count, measure(server.url, services, count, settings), settings
                )
    finally:
        for service in services:
            if service.stop() != 0:
                _logger.warning("A service exited uncleanly:\n%s", service.stderr_tail)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    run(QUICK if arguments.quick else FULL, arguments.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
