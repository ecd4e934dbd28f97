"""Shared fixtures: real servers in real processes on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from json_logger import json_logger_pb2_grpc
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.programs import start_logger_service

# ni_platform (a platform for the session) and ni_platform_state_dir (a private key-file folder)
pytest_plugins = ["local_ni_platform.pytest_plugin"]


@pytest.fixture(scope="session")
def logger_process() -> Iterator[ServiceProcess]:
    """One JSON Logger Service process for the session, without discovery."""
    process = start_logger_service(discovery=False)
    yield process
    assert process.stop() == 0, process.stderr_tail


@pytest.fixture(scope="session")
def logger_address(logger_process: ServiceProcess) -> str:
    return logger_process.address


@pytest.fixture
def stub(logger_address: str) -> Iterator[json_logger_pb2_grpc.JsonLoggerStub]:
    with grpc.insecure_channel(logger_address) as channel:
        yield json_logger_pb2_grpc.JsonLoggerStub(channel)


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "measurements.ndjson"


def open_fd_targets(pid: int) -> list[str]:
    """Paths of the files a process has open (Linux /proc)."""
    fd_dir = Path(f"/proc/{pid}/fd")
    targets = []
    for entry in fd_dir.iterdir():
        try:
            targets.append(os.readlink(entry))
        except OSError:
            continue
    return targets


@pytest.fixture
def state_dir(ni_platform_state_dir: Path) -> Path:
    """A private local-platform state folder (``local_ni_platform.pytest_plugin``'s)."""
    return ni_platform_state_dir
