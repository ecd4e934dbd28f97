"""The logger service registers with the (local) NI Discovery Service; NI's own DiscoveryClient and
the logger client find it there; it unregisters when it stops.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from ni.measurementlink.discovery.v1.client import DiscoveryClient

from local_ni_platform.activation import activate
from local_ni_platform.platform import LocalPlatform
from logger_client import JsonLoggerClient, JsonLoggerServiceNotFoundError, read_records
from logger_client.session import PROVIDED_INTERFACE, SERVICE_CLASS
from logger_service.server import SERVICE_CONFIG_PATH
from session_core.registration import load_service_config
from session_sharing_demo.child_process import ServiceProcessError
from session_sharing_demo.programs import logger_service_process, start_logger_service


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalPlatform]:
    state_dir = tmp_path / "platform"
    monkeypatch.setenv("NI_LOCAL_PLATFORM_DIR", str(state_dir))
    activate()
    with LocalPlatform(state_dir=state_dir) as running:
        yield running


def test_service_config_keeps_the_values_existing_clients_resolve() -> None:
    config = load_service_config(SERVICE_CONFIG_PATH)

    assert config.display_name == "JSON Logger Service"
    assert config.service_class == SERVICE_CLASS == "ni.logger.JSONLogService"
    assert config.provided_interfaces == (PROVIDED_INTERFACE,) == ("ni.logger.v1.json",)


def test_ni_discovery_client_resolves_the_running_service(
    platform: LocalPlatform, log_path: Path
) -> None:
    service = start_logger_service()
    try:
        location = DiscoveryClient().resolve_service(
            provided_interface="ni.logger.v1.json", service_class="ni.logger.JSONLogService"
        )
        assert location.insecure_address == service.address

        with JsonLoggerClient(log_path) as client:  # no address: resolved through discovery
            client.log_data("via discovery", {}, {})
        assert read_records(log_path)[0]["measurement_name"] == "via discovery"
    finally:
        assert service.stop() == 0

    with pytest.raises(grpc.RpcError) as raised:
        DiscoveryClient().resolve_service(provided_interface="ni.logger.v1.json")
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND


def test_client_says_clearly_when_the_service_is_not_registered(
    platform: LocalPlatform, log_path: Path
) -> None:
    with pytest.raises(JsonLoggerServiceNotFoundError, match="python -m logger_service"):
        JsonLoggerClient(log_path).__enter__()


def test_service_refuses_to_start_without_a_discovery_service(tmp_path: Path) -> None:
    env = {**os.environ, "NI_LOCAL_PLATFORM_DIR": str(tmp_path / "nothing-here")}

    with pytest.raises(ServiceProcessError, match="local-ni-platform"):
        logger_service_process([], env=env).start()


def test_python_m_logger_service_help_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "logger_service", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )

    assert "--no-discovery" in result.stdout and "--fsync" in result.stdout


class CountingDiscoveryClient(DiscoveryClient):
    """NI's discovery client, counting its look-ups (a plug-in's shared one, in the tests)."""

    def __init__(self) -> None:
        super().__init__()
        self.look_ups = 0

    def resolve_service(self, *args: Any, **kwargs: Any) -> Any:
        self.look_ups += 1
        return super().resolve_service(*args, **kwargs)


def test_a_shared_discovery_client_looks_the_service_up_once_for_many_steps(
    platform: LocalPlatform, log_path: Path
) -> None:
    service = start_logger_service()
    discovery = CountingDiscoveryClient()
    try:
        for step in range(3):
            with JsonLoggerClient(log_path, discovery_client=discovery) as client:
                client.log_data(f"step {step}", {}, {})
    finally:
        assert service.stop() == 0

    assert discovery.look_ups == 1
    assert len(read_records(log_path)) == 3


def test_a_service_that_moved_is_looked_up_again_once(
    platform: LocalPlatform, log_path: Path
) -> None:
    discovery = CountingDiscoveryClient()
    first = start_logger_service()
    try:
        with JsonLoggerClient(log_path, discovery_client=discovery) as client:
            client.log_data("before the restart", {}, {})
    finally:
        assert first.stop() == 0
    second = start_logger_service()  # a new port, registered anew
    try:
        with JsonLoggerClient(log_path, discovery_client=discovery) as client:
            client.log_data("after the restart", {}, {})
        assert second.address != first.address
    finally:
        assert second.stop() == 0

    assert discovery.look_ups == 2
    assert [r["measurement_name"] for r in read_records(log_path)] == [
        "before the restart",
        "after the restart",
    ]
