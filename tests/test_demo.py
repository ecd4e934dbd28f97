"""The README's main job: the demo runs from a clean state and stops everything it started."""

from __future__ import annotations

import json
import os
import re
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
    assert [r["measurement_name"] for r in records] == ["Step 1: DC voltage", "Step 2: DMM read"]
    assert len({r["session_id"] for r in records}) == 1
    service_pid = int(re.search(r"\(pid (\d+)\)", result.stdout).group(1))  # type: ignore[union-attr]
    assert not Path(f"/proc/{service_pid}").exists()
    assert not list((tmp_path / "platform").glob("DiscoveryService*.json"))
