"""``local_ni_platform.pytest_plugin``: a test suite of its own (run by pytest in a child process,
as a plug-in author's CI would run it) gets a platform for its session, hosts an NI SDK plug-in
and calls it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PLUGINS = Path(__file__).resolve().parent / "plugins"

CONFTEST = 'pytest_plugins = ["local_ni_platform.pytest_plugin"]\n'

TESTS = f"""
import sys

from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.sessionmanagement.v1.client import PinMapContext

from measurements.client import MeasurementClient

sys.path.insert(0, {str(PLUGINS)!r})
import echo_measurement  # a plug-in built with NI's SDK


def test_a_plugin_registers_with_the_platform_and_is_called(ni_platform):
    with echo_measurement.measurement_service.host_service():
        with MeasurementClient(echo_measurement.SERVICE_CLASS) as client:
            outputs = client.measure(PinMapContext(pin_map_id="", sites=[0]), x=2.0)

    assert outputs["doubled"] == [2.0, 4.0]


def test_the_platform_lives_for_the_session(ni_platform):
    assert ni_platform.is_running
    location = DiscoveryClient().resolve_service(
        provided_interface="ni.measurementlink.sessionmanagement.v1.SessionManagementService"
    )
    assert location.insecure_address.startswith("127.0.0.1:")
"""


def test_a_plugin_authors_suite_runs_on_the_platform_the_fixture_starts(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (tmp_path / "test_echo.py").write_text(TESTS, encoding="utf-8")

    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts="],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
