"""The README's main job: the demo runs from a clean state and stops everything it started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_demo_shares_one_session_and_leaves_nothing_running(tmp_path: Path) -> None:
    env = {**os.environ, "NI_LOCAL_PLATFORM_DIR": str(tmp_path / "platform")}
    log_path = tmp_path / "demo.ndjson"

    result = subprocess.run(
        [sys.executable, "-m", "session_sharing_demo", "--log", str(log_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "started the local NI platform" in result.stdout
    assert "Demo succeeded" in result.stdout
    records = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [r["measurement_name"] for r in records] == [
        "NI-DCPower with Logger (Py)",
        "NI-DMM with Logger (Py)",
    ]
    assert "Result: Passed (8 passed, 0 failed, 0 skipped)" in result.stdout
    assert len({r["session_id"] for r in records}) == 1
    assert "PROBLEM" not in result.stderr
    assert processes_with_env(env["NI_LOCAL_PLATFORM_DIR"]) == []
    assert not list((tmp_path / "platform").glob("DiscoveryService*.json"))


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
