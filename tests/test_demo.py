"""The README's main job: the demo runs from a clean state and stops everything it started."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from session_sharing_demo import dut_supply
from simulated_instrument.scpi import IDENTITY
from teststand.runner import RunReport, StepResult, StepStatus
from teststand.sequence import StepGroup


def test_demo_shares_one_session_and_leaves_nothing_running(tmp_path: Path) -> None:
    env = {**os.environ, "NI_LOCAL_PLATFORM_DIR": str(tmp_path / "platform")}
    log_path = tmp_path / "demo.ndjson"

    result = run_demo(env, "session_sharing_demo", "--log", str(log_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "started the local NI platform" in result.stdout
    assert "Demo succeeded" in result.stdout
    records = [json.loads(line) for line in log_path.read_text().splitlines()]
    # Run 1 logs both steps; run 2 (its DMM step fails) logs the DCPower step only.
    assert [r["measurement_name"] for r in records] == [
        "NI-DCPower with Logger (Py)",
        "NI-DMM with Logger (Py)",
        "NI-DCPower with Logger (Py)",
    ]
    assert "Result: Passed (10 passed, 0 failed, 0 skipped)" in result.stdout
    assert "Result: Failed (9 passed, 1 failed, 0 skipped)" in result.stdout
    assert records[0]["session_id"] == records[1]["session_id"] != records[2]["session_id"]
    # Only run 1's rows are in the database, all recorded through one session (its run id).
    with contextlib.closing(sqlite3.connect(log_path.with_suffix(".db"))) as connection:
        rows = connection.execute("SELECT run_id, session_id, step_name FROM results").fetchall()
    assert [step for _, _, step in rows] == [
        "NI-DCPower with Logger (Py)",
        "NI-DCPower with Logger (Py)",
        "NI-DMM with Logger (Py)",
    ]
    assert len({(run, session) for run, session, _ in rows}) == 1
    assert "Rows of run 2 left in the database: 0." in result.stdout
    assert "PROBLEM" not in result.stderr
    assert processes_with_env(env["NI_LOCAL_PLATFORM_DIR"]) == []
    assert not list((tmp_path / "platform").glob("DiscoveryService*.json"))


def run_demo(env: dict[str, str], module: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m module arguments`` as a user would, with ``env``."""
    return subprocess.run(
        [sys.executable, "-m", module, *arguments],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def processes_with_env(value: str) -> list[int]:
    """Processes whose environment holds ``value``: the demo's children, if any survived."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if value.encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def test_the_demo_waits_for_the_ready_line_the_platform_prints() -> None:
    from local_ni_platform.cli import READY_PREFIX
    from session_sharing_demo.programs import LOCAL_PLATFORM_READY_PREFIX

    assert LOCAL_PLATFORM_READY_PREFIX == READY_PREFIX


def test_two_sockets_take_turns_on_the_shared_dmm_and_draw_the_timeline(tmp_path: Path) -> None:
    env = {**os.environ, "NI_LOCAL_PLATFORM_DIR": str(tmp_path / "platform")}
    log_path = tmp_path / "two-sockets.ndjson"
    svg_path = tmp_path / "timeline.svg"

    result = run_demo(
        env,
        "session_sharing_demo.two_sockets",
        "--log",
        str(log_path),
        "--timeline-svg",
        str(svg_path),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Demo succeeded" in result.stdout and "PROBLEM" not in result.stderr
    assert result.stdout.count("Result: Passed (4 passed, 0 failed, 0 skipped)") == 2
    records = [json.loads(line) for line in log_path.read_text().splitlines()]
    sites = sorted(
        r["measurement_outputs"]["measurement_sites"]
        for r in records
        if "DCPower" in r["measurement_name"]
    )
    assert sites == ["[0]", "[1]"]
    tokens = [
        int(r["measurement_configurations"]["fencing_token"])
        for r in records
        if "DMM" in r["measurement_name"]
    ]
    assert len(tokens) == 2 and tokens[0] < tokens[1]
    for token in tokens:
        assert str(token) in result.stdout  # the timeline table shows each hold's token
    svg = svg_path.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and svg.count("held the lock") == 2
    assert processes_with_env(env["NI_LOCAL_PLATFORM_DIR"]) == []


@pytest.mark.parametrize("device", ["socket", "pyvisa-sim"])
def test_the_dut_supply_steps_share_the_devices_one_connection(tmp_path: Path, device: str) -> None:
    env = {**os.environ, "NI_LOCAL_PLATFORM_DIR": str(tmp_path / "platform")}
    log_path = tmp_path / "dut.ndjson"

    result = run_demo(
        env, "session_sharing_demo.dut_supply", "--device", device, "--log", str(log_path)
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Demo succeeded" in result.stdout and "PROBLEM" not in result.stderr
    assert "Result: Passed (8 passed, 0 failed, 0 skipped)" in result.stdout
    assert "set to 2.5 V over its one connection and read back 2.5 V" in result.stdout
    if device == "socket":
        assert "accepted 1 connection(s) and refused 0 during the run; it is free again" in (
            result.stdout
        )
    records = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [r["measurement_name"] for r in records] == [
        "DUT Supply with Connection (Py)",
        "NI-DMM with Logger (Py)",
    ]
    assert records[0]["measurement_outputs"]["identity"] == IDENTITY
    assert records[0]["session_id"] == records[1]["session_id"]
    assert processes_with_env(env["NI_LOCAL_PLATFORM_DIR"]) == []


def test_the_dut_supply_demo_names_a_reading_away_from_the_level_set() -> None:
    def step(name: str, value: dict[str, float]) -> StepResult:
        return StepResult(StepGroup.MAIN, name, StepStatus.PASSED, value=value)

    report = RunReport(
        "DutSupply",
        "pin map",
        (
            step(dut_supply.DUT_STEP, {"measured_voltage": 2.5}),
            step(dut_supply.DMM_STEP, {"measured_value": 0.0}),
        ),
        duration=0.1,
    )

    assert dut_supply.check_readings(report, 2.5) == [
        "the DUT's supply was set to 2.5 V but measured by the NI-DMM 0 V"
    ]
