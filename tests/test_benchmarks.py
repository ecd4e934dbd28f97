"""Smoke test of the throughput benchmark: it runs and prints every figure (no timing asserted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).parents[1]

RATES = [
    f"{call}, {server}, {clients}"
    for call, counts in (
        ("LogMeasurementData", ("1 client", "8 clients")),
        ("StreamMeasurementData", ("1 client", "4 clients")),
    )
    for server in ("service", "no-op", "service/no-op")
    for clients in counts
]
LATENCIES = [
    f"InitializeFile {kind}, {log}"
    for kind in ("new", "attach")
    for log in ("1-line log", "large log (1 MB)")
]
NUMBER = r"([\d,]+(?:\.\d+)?)"


def number(text: str) -> float:
    return float(text.replace(",", ""))


def run_quick(script: str, *, timeout: float = 120) -> str:
    """Run ``benchmarks/<script> --quick``; check it succeeded and return what it printed."""
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "benchmarks" / script), "--quick"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_quick_run_prints_every_figure() -> None:
    output = run_quick("logger_throughput.py")

    for label in RATES:
        unit = "" if "/" in label else " records/s"
        match = re.search(rf"^{re.escape(label)}\s*: {NUMBER}{unit}$", output, re.MULTILINE)
        assert match, f"no figure for {label!r} in:\n{output}"
        assert number(match[1]) > 0, match[0]

    for label in LATENCIES:
        match = re.search(
            rf"^{re.escape(label)}\s*: median {NUMBER} ms, p95 {NUMBER} ms$", output, re.MULTILINE
        )
        assert match, f"no figure for {label!r} in:\n{output}"
        assert number(match[1]) > 0, match[0]
        assert number(match[2]) >= number(match[1]), match[0]

    assert "Summary" in output


def test_platform_benchmark_quick_run_prints_every_figure() -> None:
    output = run_quick("platform_throughput.py")
    for label in (
        "reserve+unreserve, 1 client",
        "reserve+unreserve, 4 clients",
        "nidcpower measure_multiple()",
        "nidmm read()",
    ):
        match = re.search(rf"^{re.escape(label)}\s*: {NUMBER} calls/s$", output, re.MULTILINE)
        assert match, f"no figure for {label!r} in:\n{output}"
        assert number(match[1]) > 0, match[0]


STRESS_LATENCIES = [
    "discovery resolve, with 128 abandoned waits",
    "health check, with 128 abandoned waits",
    "unreserve, 21 reservation waiters",
    "unreserve to a waiter's answer, 21 waiters",
    "parse DCPower1/0-1000000 (refused)",
    "init DCPower1/0-1000000 (refused), with 128 abandoned waits",
]


def test_platform_stress_quick_run_prints_every_figure() -> None:
    output = run_quick("platform_stress.py")
    for label in STRESS_LATENCIES:
        match = re.search(
            rf"^{re.escape(label)}\s*: p50 {NUMBER} ms, p99 {NUMBER} ms"
            rf"   \(ceiling, nothing waiting: p50 {NUMBER} ms, p99 {NUMBER} ms",
            output,
            re.MULTILINE,
        )
        assert match, f"no figure for {label!r} in:\n{output}"
        assert 0 < number(match[1]) <= number(match[2]), match[0]
        assert 0 < number(match[3]) <= number(match[4]), match[0]


RESULTS_RATES = [
    f"{backend}, {side} {call}"
    for backend in ("SQLite", "PostgreSQL")
    for side, calls in (
        ("raw", ("execute per row", "executemany (500)")),
        ("service", ("record_result per call", "record_results (500)")),
    )
    for call in calls
]
RESULTS_RATIOS = [
    f"{backend}, service/raw, {mode}"
    for backend in ("SQLite", "PostgreSQL")
    for mode in ("per row", "batched")
]
POSTGRES_UNAVAILABLE = "PostgreSQL unavailable, measuring SQLite only"


def test_results_benchmark_quick_run_prints_every_figure() -> None:
    output = run_quick("results_throughput.py")

    # PostgreSQL is measured whenever its binaries are installed (always on CI); a developer
    # machine without them gets the SQLite figures only.
    sqlite_only = POSTGRES_UNAVAILABLE in output
    assert not (sqlite_only and os.environ.get("CI")), output
    backends = ("SQLite",) if sqlite_only else ("SQLite", "PostgreSQL")

    for label in RESULTS_RATES + RESULTS_RATIOS:
        if not label.startswith(backends):
            assert label not in output, output
            continue
        unit = "" if "/" in label else " rows/s"
        match = re.search(rf"^{re.escape(label)}\s*: {NUMBER}{unit}$", output, re.MULTILINE)
        assert match, f"no figure for {label!r} in:\n{output}"
        assert number(match[1]) > 0, match[0]

    assert "Summary" in output
    for backend in backends:
        assert re.search(
            rf"^Batched target 0\.5x raw \({backend}\): (met|NOT met) \({NUMBER}x\)$",
            output,
            re.MULTILINE,
        ), output


def test_crash_recovery_quick_run_reopens_every_file_and_loses_nothing() -> None:
    output = run_quick("crash_recovery.py", timeout=300)
    rows = [line.split() for line in output.splitlines() if line.startswith(("no ", "--"))]
    assert len(rows) == 2
    for row in rows:  # ... files reopened, torn tails, acknowledged, lost, the ceiling (4 words)
        reopened, files = row[-8].split("/")
        assert reopened == files
        assert row[-5] == "0"


def test_service_stress_quick_run_stays_available_and_refuses_past_the_limit() -> None:
    output = run_quick("service_stress.py")
    for streams in ("no streams (ceiling)", "16 idle streams", "16 slow streams"):
        match = re.search(
            rf"^LogMeasurementData, {re.escape(streams)}\s*: p50 {NUMBER} ms, p99 {NUMBER} ms$",
            output,
            re.MULTILINE,
        )
        assert match, f"no latency for {streams!r} in:\n{output}"
        assert 0 < number(match[1]) <= number(match[2]), match[0]
    for mode in ("idle", "slow"):
        assert re.search(rf"^health Check, 16 {mode} streams\s*: SERVING in ", output, re.M), output
        assert re.search(
            rf"^stream 17, 16 {mode} streams\s*: RESOURCE_EXHAUSTED in ", output, re.MULTILINE
        ), output
        records = re.search(
            rf"^records of the 16 {mode} streams\s*: (\d+) sent, (\d+) acknowledged, "
            rf"(\d+) in the log, 0 streams failed$",
            output,
            re.MULTILINE,
        )
        assert records, output
        assert records[1] == records[2] == records[3], records[0]
    assert "Summary" in output


def test_the_stations_benchmark_prints_every_figure_for_both_backends() -> None:
    output = run_quick("results_stations.py")

    for backend in ("SQLite", "PostgreSQL"):
        for figure in ("runs refused", "first-row wait median", "runs finished per station"):
            assert re.search(rf"^{backend}, 2 stations, {figure} : ", output, re.MULTILINE), output


def test_the_plugin_step_benchmark_breaks_each_step_into_its_rpcs() -> None:
    output = run_quick("plugin_step.py")

    for plugin in ("NI-DCPower", "NI-DMM"):
        for figure in ("warm step median", "RPCs per step", "RPC floor", "channels opened"):
            assert re.search(rf"^{plugin}, {figure}", output, re.MULTILINE), output
        assert re.search(rf"^{plugin}, JsonLogger.LogMeasurementData : 1 per step", output, re.M)
        # the plug-ins reuse their channel pool: a warm step opens no connection
        assert re.search(rf"^{plugin}, channels opened per warm step : 0$", output, re.M), output


def test_the_lock_benchmark_finds_no_overlap_and_prints_the_hand_over_beside_a_round_trip() -> None:
    output = run_quick("lock_handover.py")

    for backend in ("in memory", "PostgreSQL, 2 services"):
        assert f"{backend}, critical sections present : 100 of 100" in output, output
        assert f"{backend}, overlapping marks          : 0" in output, output
        assert re.search(
            rf"^{backend}, hand-over median / p95 +: [\d.]+ ms / [\d.]+ ms \(one loopback round "
            r"trip: [\d.]+ ms; [\d.]+ round trips\)$",
            output,
            re.MULTILINE,
        ), output


def test_the_connection_benchmark_prints_queries_beside_pyvisa_direct_and_a_round_trip() -> None:
    output = run_quick("connection_throughput.py")

    assert re.search(
        r"^PyVISA direct, 1 client +: +[\d,]+ queries/s \(the ceiling\)$", output, re.M
    )
    assert re.search(
        r"^direct \+ one gRPC round trip +: +[\d,]+ queries/s \([\d.]+ x direct; a round trip "
        r"is [\d.]+ ms\)$",
        output,
        re.M,
    ), output
    for clients in ("1 client ", "4 clients"):
        assert re.search(
            rf"^through the service, {clients} +: +[\d,]+ queries/s \([\d.]+ x direct\)$",
            output,
            re.M,
        ), output
    assert re.search(
        r"^through the service, batches of 100: +[\d,]+ queries/s \([\d.]+ x direct\)$",
        output,
        re.M,
    ), output
    assert "every answer was its own question's" in output
