"""The platform's tests: NI's own clients against the stand-ins, in this process or a child."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from local_ni_platform.device_server import DeviceServerPart
from local_ni_platform.platform import LocalPlatform

pytest_plugins = ["local_ni_platform.pytest_plugin"]


@pytest.fixture
def state_dir(ni_platform_state_dir: Path) -> Path:
    """A private local-platform state folder (``local_ni_platform.pytest_plugin``'s)."""
    return ni_platform_state_dir


@pytest.fixture
def device_server_channel(ni_platform_state_dir: Path) -> Iterator[grpc.Channel]:
    """A channel to a running simulated NI gRPC Device Server (a local platform with that part)."""
    with LocalPlatform(state_dir=ni_platform_state_dir, parts=[DeviceServerPart()]) as platform:
        with grpc.insecure_channel(platform.discovery_address) as channel:
            yield channel
