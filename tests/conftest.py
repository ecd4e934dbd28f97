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
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private local-platform state folder that this process's NI clients read their key file
    from (the activation's variables pointed at it, the others cleared)."""
    from local_ni_platform import activation

    directory = tmp_path / "state"
    monkeypatch.setenv(activation.STATE_DIR_ENV_VAR, str(directory))
    monkeypatch.delenv(activation.DISABLE_ENV_VAR, raising=False)
    for name in activation.CLUSTER_ID_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    return directory


@pytest.fixture
def device_server_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[grpc.Channel]:
    """A channel to a running simulated NI gRPC Device Server (a local platform with that part)."""
    from local_ni_platform import activation
    from local_ni_platform.device_server import DeviceServerPart
    from local_ni_platform.platform import LocalPlatform

    monkeypatch.setenv(activation.STATE_DIR_ENV_VAR, str(tmp_path / "platform"))
    with LocalPlatform(state_dir=tmp_path / "platform", parts=[DeviceServerPart()]) as platform:
        with grpc.insecure_channel(platform.discovery_address) as channel:
            yield channel
