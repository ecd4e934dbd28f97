"""Programs started without a console (the NI Discovery Service on Windows) leave a log file in a
per-user folder, rotated so it never grows without bound; ``start.bat`` says why it failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from service_cli import logs
from session_sharing_demo.programs import logger_service_process

ROOT = Path(__file__).resolve().parents[1]
START_SCRIPTS = sorted(ROOT.glob("*/start.bat")) + sorted(ROOT.glob("measurements/*/start.bat"))


def test_a_service_logs_to_the_configured_folder_and_says_where(tmp_path: Path) -> None:
    env = {**os.environ, logs.LOG_DIR_ENV_VAR: str(tmp_path)}
    with logger_service_process(["--no-discovery"], env=env) as service:
        with grpc.insecure_channel(service.address) as channel:
            grpc.channel_ready_future(channel).result(timeout=10)
        stderr = service.stderr_tail

    log_file = tmp_path / "json-logger-service.log"
    assert f"Logging to {log_file}" in stderr
    assert f"Logging to {log_file}" in log_file.read_text(encoding="utf-8")


def test_the_log_file_is_rotated_and_bounded(tmp_path: Path) -> None:
    program = (
        "import logging\n"
        "from service_cli import logs\n"
        "logs.configure_logging(0, program='chatty')\n"
        "for _ in range(8_000): logging.getLogger('t').warning('x' * 1_000)\n"
    )
    env = {**os.environ, logs.LOG_DIR_ENV_VAR: str(tmp_path)}
    subprocess.run(
        [sys.executable, "-c", program], env=env, check=True, capture_output=True, timeout=60
    )

    files = sorted(path.name for path in tmp_path.iterdir())
    assert files == ["chatty.log", *(f"chatty.log.{n}" for n in range(1, 5))]
    assert all((tmp_path / name).stat().st_size <= logs.LOG_FILE_MAX_BYTES for name in files)


def test_no_log_file_unless_asked_off_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(logs.LOG_DIR_ENV_VAR, raising=False)
    expected = logs.default_log_dir() if sys.platform == "win32" else None
    assert logs.log_file_dir() in (None, expected)
    monkeypatch.setenv(logs.LOG_DIR_ENV_VAR, "")
    assert logs.log_file_dir() is None


@pytest.mark.parametrize("script", START_SCRIPTS, ids=lambda path: path.parent.name)
def test_start_bat_tells_a_missing_uv_from_a_failed_sync(script: Path) -> None:
    text = script.read_bytes()

    assert b"\r\n" in text and b"\n" not in text.replace(b"\r\n", b"")  # Windows line endings
    assert b"where uv" in text
    assert b"uv was not found on PATH" in text
    assert b"uv sync --no-dev failed" in text


def test_every_start_script_is_checked() -> None:
    assert len(START_SCRIPTS) == 7
