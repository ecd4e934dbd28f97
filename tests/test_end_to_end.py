"""The whole TestStand-style run on one machine: the local platform, the logger service and both
plug-ins in their own processes, the sequence run headlessly (the demo's building blocks).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_ni_platform.device_server import DeviceServerPart
from logger_client import read_records
from session_sharing_demo.__main__ import with_configuration
from session_sharing_demo.leftovers import leftovers
from session_sharing_demo.services import Services, start_services
from teststand.runner import StepStatus, run_sequence
from teststand.sequence import load_sequence

DCPOWER_STEP = "NI-DCPower measurement with logger"


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, Path]]:
    log_path = tmp_path_factory.mktemp("e2e") / "shared.ndjson"
    with pytest.MonkeyPatch.context() as patch, contextlib.ExitStack() as stack:
        patch.setenv("NI_LOCAL_PLATFORM_DIR", str(tmp_path_factory.mktemp("platform")))
        yield start_services(stack, log_path), log_path


def device_sessions(services: Services) -> list[str]:
    parts = getattr(services.local_platform, "parts", [])
    return [name for p in parts if isinstance(p, DeviceServerPart) for name in p.repository.names()]


def committed_rows(log_path: Path, run_id: str) -> list[tuple[str, str, float]]:
    """The committed rows of one run, read with a connection of our own (as any reader would)."""
    with sqlite3.connect(log_path.with_suffix(".db")) as connection:
        return connection.execute(
            "SELECT step_name, measurement_name, value FROM results WHERE run_id = ? "
            "ORDER BY row_id",
            (run_id,),
        ).fetchall()


def test_one_file_session_is_shared_from_setup_to_cleanup(rig: tuple[Services, Path]) -> None:
    services, log_path = rig
    log_path.unlink(missing_ok=True)

    report = run_sequence(load_sequence(), services.pin_map_id)

    assert report.passed, [(r.name, r.message) for r in report.failed]
    [setup_session_id] = report.result("Create JSON logger sessions").value
    records = read_records(log_path)
    assert [r["measurement_name"] for r in records] == [
        "NI-DCPower with Logger (Py)",
        "NI-DMM with Logger (Py)",
    ]
    assert {r["session_id"] for r in records} == {setup_session_id}
    assert records[0]["measurement_outputs"]["voltage_measurements"] == "[5.0]"
    [run_id] = report.result("Create results database sessions").value
    assert committed_rows(log_path, run_id) == [
        ("NI-DCPower with Logger (Py)", "DCPowerPin voltage", 5.0),
        ("NI-DCPower with Logger (Py)", "DCPowerPin current", 0.0001),
        ("NI-DMM with Logger (Py)", "DMMPin DC_VOLTS", 2.49995),
    ]
    assert leftovers(services) == []
    assert device_sessions(services) == []


def test_a_failing_measurement_step_still_gets_a_full_cleanup(
    rig: tuple[Services, Path],
) -> None:
    services, log_path = rig
    log_path.unlink(missing_ok=True)

    report = run_sequence(
        with_configuration(load_sequence(), DCPOWER_STEP, nidcpower_pins=["NoSuchPin"]),
        services.pin_map_id,
    )

    failed = report.result(DCPOWER_STEP)
    assert failed.status is StepStatus.FAILED and "NoSuchPin" in failed.message
    assert report.result("NI-DMM measurement with logger").status is StepStatus.PASSED
    cleanup = [r for r in report.results if r.group.value == "cleanup"]
    assert [r.status for r in cleanup] == [StepStatus.PASSED] * 4
    assert [r["measurement_name"] for r in read_records(log_path)] == ["NI-DMM with Logger (Py)"]
    # The DMM step recorded a row, but the run failed: Cleanup rolled the transaction back.
    [run_id] = report.result("Create results database sessions").value
    assert committed_rows(log_path, run_id) == []
    assert leftovers(services) == []
    assert device_sessions(services) == []


def test_leftovers_notice_a_session_still_reserved(rig: tuple[Services, Path]) -> None:
    from ni.measurementlink.sessionmanagement.v1.client import (
        PinMapContext,
        SessionManagementClient,
    )

    services, _ = rig
    context = PinMapContext(services.pin_map_id, sites=[0])
    with SessionManagementClient().reserve_session(context, "DMMPin", timeout=0):
        found = leftovers(services)

    assert any("still reserved" in problem for problem in found), found
