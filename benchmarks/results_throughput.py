"""Rows/s into one session of the Results Database Service, beside the raw driver as the ceiling.

Run from the project root::

    uv run python benchmarks/results_throughput.py           # full run (well under a minute)
    uv run python benchmarks/results_throughput.py --quick   # tiny run, a smoke test

For each backend, an SQLite file and PostgreSQL (a throw-away server on loopback,
``tests/postgres_server.py``; skipped, with a message, when its binaries are missing), it measures
the rows/s of the same rows inserted into the same table schema in one transaction, committed:

- through the real service (``python -m results_service --no-discovery``, its own process), with
  ``ResultsDatabaseClient``: one row per call (``record_result``), and batched
  (``record_results``, 500 rows per call), then ``commit``;
- with the raw driver in this process (``sqlite3`` / ``psycopg``, the connection set up as the
  service sets up its own): one ``execute`` per row, and ``executemany`` in batches of 500, then
  ``COMMIT``; this is the ceiling;

and the ratio service/raw, per row and batched (the target: batched >= 0.5x raw batched).

Every measurement starts from a fresh state (a new SQLite file; the PostgreSQL table dropped), is
repeated and reported as its best (highest) rate; opening the session or connection is not timed.
Every figure is printed on its own line as ``<label> : <value>``, and again in a summary table.
The servers bind 127.0.0.1 only; every process and file started or written is removed at the end.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
import psycopg

from results_client import ResultRow, ResultsDatabaseClient
from results_service.backends import COLUMNS, POSTGRESQL, SQLITE, Backend
from session_sharing_demo.programs import start_results_service

_logger = logging.getLogger("benchmarks.results_throughput")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
POSTGRES_SERVER_MODULE = PROJECT_ROOT / "tests" / "postgres_server.py"
BATCH_SIZE = 500
TARGET_BATCHED_RATIO = 0.5
SESSION_ID = "benchmark-session"
"""The ``session_id`` column of the raw rows (the service stores its own session id)."""
RUN_ID = "benchmark-run"
MEASURED_AT = datetime(2024, 1, 1, tzinfo=timezone.utc)

BACKENDS = ("SQLite", "PostgreSQL")
MODES = ("per row", "batched")
SERVICE_CALLS = {"per row": "record_result per call", "batched": f"record_results ({BATCH_SIZE})"}
RAW_CALLS = {"per row": "execute per row", "batched": f"executemany ({BATCH_SIZE})"}


@dataclass(frozen=True)
class Settings:
    """How much each measurement inserts and how often it is repeated."""

    rows: int
    """Rows per measurement."""
    repetitions: int
    """Measurements per figure (each from a fresh state); the best is reported."""


FULL = Settings(rows=3000, repetitions=2)
QUICK = Settings(rows=40, repetitions=1)


def make_rows(count: int) -> list[ResultRow]:
    """Realistic, distinct rows (unique per run, step, name and site), all with limits."""
    return [
        ResultRow(
            measurement_name=f"voltage_{index}",
            value=3.3 + (index % 100) * 1e-4,
            unit="V",
            low_limit=3.0,
            high_limit=3.6,
            step_name="dc_voltage_sweep",
            run_id=RUN_ID,
            site=index % 4,
            measured_at=MEASURED_AT + timedelta(microseconds=index),
        )
        for index in range(count)
    ]


def raw_values(row: ResultRow, backend: Backend) -> tuple[Any, ...]:
    """The values of ``row`` as the service binds them (``results_service.store``), in COLUMNS
    order: on SQLite, ``passed`` as 0/1 and the time as ISO text.
    """
    low, high = row.low_limit, row.high_limit
    passed: bool | None = None
    if low is not None or high is not None:
        passed = (low is None or row.value >= low) and (high is None or row.value <= high)
    sqlite = backend is SQLITE
    assert row.measured_at is not None
    return (
        row.run_id or SESSION_ID,
        row.step_name,
        row.measurement_name,
        row.value,
        row.unit,
        low,
        high,
        int(passed) if sqlite and passed is not None else passed,
        row.site,
        row.measured_at.isoformat() if sqlite else row.measured_at,
        SESSION_ID,
    )


def insert_statement(backend: Backend) -> str:
    """A plain INSERT of every column (the service adds ``RETURNING row_id``)."""
    placeholders = ", ".join([backend.placeholder] * len(COLUMNS))
    return f"INSERT INTO results ({', '.join(COLUMNS)}) VALUES ({placeholders})"


# -- PostgreSQL ---------------------------------------------------------------------------------


def load_postgres_server() -> ModuleType:
    """``tests/postgres_server.py`` (the tests' throw-away server), loaded from its file."""
    spec = importlib.util.spec_from_file_location("postgres_server", POSTGRES_SERVER_MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def reset_postgres(url: str) -> None:
    """Drop the table, so the next measurement starts from an empty, freshly created one."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS results")


# -- measurements -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One backend's database: a fresh resource per measurement."""

    name: str
    backend: Backend
    fresh_resource: Callable[[str], str]
    """``(measurement name) -> resource``: a new SQLite file, or the PostgreSQL URL (table
    dropped)."""


def sqlite_target(directory: Path) -> Target:
    """A new SQLite file for each measurement."""
    counter = iter(range(1_000_000))

    def fresh(name: str) -> str:
        return str(directory / f"{name.replace(' ', '-')}-{next(counter)}.db")

    return Target("SQLite", SQLITE, fresh)


def postgres_target(url: str) -> Target:
    """The PostgreSQL database, its table dropped before each measurement."""

    def fresh(_name: str) -> str:
        reset_postgres(url)
        return url

    return Target("PostgreSQL", POSTGRESQL, fresh)


def raw_connect(backend: Backend, resource: str) -> Any:
    """An autocommit connection set up as the service sets up its own, with the table created."""
    connection: Any
    if backend is SQLITE:
        connection = sqlite3.connect(resource, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA foreign_keys=ON")
    else:
        connection = psycopg.connect(resource, autocommit=True)
    connection.execute(backend.create_table)
    return connection


def count_rows(backend: Backend, resource: str) -> int:
    """Committed rows, seen from a new connection."""
    connection: Any = sqlite3.connect(resource) if backend is SQLITE else psycopg.connect(resource)
    try:
        (count,) = connection.execute("SELECT count(*) FROM results").fetchone()
        return int(count)
    finally:
        connection.close()


def raw_rate(target: Target, mode: str, rows: Sequence[ResultRow]) -> float:
    """Rows/s inserted with the driver in one transaction, committed."""
    backend = target.backend
    resource = target.fresh_resource(f"raw {mode}")
    values = [raw_values(row, backend) for row in rows]
    insert = insert_statement(backend)
    connection = raw_connect(backend, resource)
    try:
        began = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE" if backend is SQLITE else "BEGIN")
        if mode == "per row":
            for value in values:
                connection.execute(insert, value)
        else:
            cursor = connection.cursor()
            for start in range(0, len(values), BATCH_SIZE):
                cursor.executemany(insert, values[start : start + BATCH_SIZE])
            cursor.close()
        connection.execute("COMMIT")
        elapsed = time.perf_counter() - began
    finally:
        connection.close()
    committed = count_rows(backend, resource)
    if committed != len(rows):
        raise RuntimeError(f"raw {mode} on {target.name} committed {committed} of {len(rows)}")
    return len(rows) / elapsed


def service_rate(target: Target, mode: str, rows: Sequence[ResultRow], address: str) -> float:
    """Rows/s recorded through the service into one new session, committed."""
    resource = target.fresh_resource(f"service {mode}")
    with ResultsDatabaseClient(resource, address=address) as client:
        began = time.perf_counter()
        if mode == "per row":
            for row in rows:
                client.record_result(
                    row.measurement_name,
                    row.value,
                    unit=row.unit,
                    low_limit=row.low_limit,
                    high_limit=row.high_limit,
                    step_name=row.step_name,
                    run_id=row.run_id,
                    site=row.site,
                    measured_at=row.measured_at,
                )
        else:
            client.record_results(rows, batch_size=BATCH_SIZE)
        committed = client.commit()
        elapsed = time.perf_counter() - began
    if committed != len(rows):
        raise RuntimeError(f"service {mode} on {target.name} committed {committed} of {len(rows)}")
    return len(rows) / elapsed


# -- the run ------------------------------------------------------------------------------------


@dataclass
class Report:
    """Prints each figure as it is measured and keeps it for the summary."""

    rates: dict[tuple[str, str, str], float]
    """(backend, "service" or "raw", mode) -> rows/s."""

    def rate(self, backend: str, side: str, mode: str, value: float) -> None:
        """Record and print rows/s."""
        self.rates[(backend, side, mode)] = value
        call = SERVICE_CALLS[mode] if side == "service" else RAW_CALLS[mode]
        print(figure(f"{backend}, {side} {call}", f"{value:,.0f} rows/s"))

    def ratio(self, backend: str, mode: str) -> float:
        """Service/raw for a measured pair."""
        return self.rates[(backend, "service", mode)] / self.rates[(backend, "raw", mode)]

    def print_ratio(self, backend: str, mode: str) -> None:
        """Print service/raw for a measured pair."""
        print(figure(f"{backend}, service/raw, {mode}", f"{self.ratio(backend, mode):.2f}"))


def figure(label: str, value: str) -> str:
    """One labelled figure line."""
    return f"{label:<52} : {value}"


def measure_backend(report: Report, target: Target, address: str, settings: Settings) -> None:
    """Raw and service, per row and batched, on one backend."""
    rows = make_rows(settings.rows)
    repetitions = range(settings.repetitions)
    for mode in MODES:
        # The best of the repetitions: the least disturbed by the rest of the machine.
        raw = max(raw_rate(target, mode, rows) for _ in repetitions)
        report.rate(target.name, "raw", mode, raw)
        service = max(service_rate(target, mode, rows, address) for _ in repetitions)
        report.rate(target.name, "service", mode, service)
    for mode in MODES:
        report.print_ratio(target.name, mode)


def print_summary(report: Report, backends: Sequence[str]) -> None:
    """All figures in one table, and the batched target per backend."""
    print()
    print("Summary (rows/s into one session, committed; ratio = service / raw driver)")
    header = f"{'backend':<11} {'mode':<8} {'service':>12} {'raw':>12} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for backend in backends:
        for mode in MODES:
            service = report.rates[(backend, "service", mode)]
            raw = report.rates[(backend, "raw", mode)]
            ratio = report.ratio(backend, mode)
            print(f"{backend:<11} {mode:<8} {service:>12,.0f} {raw:>12,.0f} {ratio:>6.2f}")
    print()
    for backend in backends:
        ratio = report.ratio(backend, "batched")
        verdict = "met" if ratio >= TARGET_BATCHED_RATIO else "NOT met"
        print(f"Batched target {TARGET_BATCHED_RATIO:g}x raw ({backend}): {verdict} ({ratio:.2f}x)")


def run(settings: Settings, quick: bool) -> None:
    """Start the service and a PostgreSQL server; measure both backends; print it all."""
    print(
        f"Results Database Service benchmark ({'quick' if quick else 'full'} run): "
        f"Python {platform.python_version()}, grpcio {grpc.__version__}, "
        f"SQLite {sqlite3.sqlite_version}, psycopg {psycopg.__version__}, "
        f"{os.cpu_count()} CPUs, {settings.rows:,} rows per measurement, "
        f"best of {settings.repetitions}"
    )
    postgres_server = load_postgres_server()
    report = Report({})
    backends = ["SQLite"]
    with tempfile.TemporaryDirectory(prefix="results-benchmark-") as temporary:
        service = start_results_service(discovery=False)
        try:
            measure_backend(report, sqlite_target(Path(temporary)), service.address, settings)
            try:
                bin_dir = postgres_server.find_bin_dir()
            except postgres_server.PostgresUnavailableError as error:
                print(f"PostgreSQL unavailable, measuring SQLite only: {error}")
            else:
                with postgres_server.PostgresServer(bin_dir) as server:
                    measure_backend(report, postgres_target(server.url), service.address, settings)
                backends.append("PostgreSQL")
        finally:
            if service.stop() != 0:
                _logger.warning("The service exited uncleanly:\n%s", service.stderr_tail)
    print_summary(report, backends)


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
