"""A pytest plug-in: the local NI platform for a test session, so measurement plug-ins and code
that uses NI's clients can be tested on Linux, macOS and CI, with NI's packages unchanged.

Enable it in the ``conftest.py`` at the root of your tests::

    pytest_plugins = ["local_ni_platform.pytest_plugin"]

(or run ``pytest -p local_ni_platform.pytest_plugin``), then ask for the ``ni_platform`` fixture.
For the whole test session, NI's Discovery, Pin Map and Session Management services and a
simulated NI gRPC Device Server (NI-DCPower, NI-DMM) run in the test process; NI's clients in
that process, and in the processes it starts, find them. A plug-in hosted with NI's SDK
(``measurement_service.host_service()``) registers with it and can be called as InstrumentStudio
and TestStand call it. On Windows, NI's own services are used and the fixture skips.

A test that needs a platform of its own (one it starts and stops itself) asks for
``ni_platform_state_dir`` and runs ``LocalPlatform(state_dir=ni_platform_state_dir)`` there.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_ni_platform import activation
from local_ni_platform.platform import LocalPlatform, default_parts


def _point_ni_clients_at(state_dir: Path, environment: pytest.MonkeyPatch) -> None:
    """Make NI's clients in this process and its children read the key file in ``state_dir``."""
    environment.setenv(activation.STATE_DIR_ENV_VAR, str(state_dir))
    environment.delenv(activation.DISABLE_ENV_VAR, raising=False)
    for name in activation.CLUSTER_ID_ENV_VARS:
        environment.delenv(name, raising=False)
    activation.activate()


@pytest.fixture(scope="session")
def ni_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    """The local NI platform, running for the test session in a folder of its own."""
    if sys.platform == "win32":
        pytest.skip("on Windows, NI's own services are used")
    state_dir = tmp_path_factory.mktemp("ni-platform")
    with pytest.MonkeyPatch.context() as environment:
        _point_ni_clients_at(state_dir, environment)
        with LocalPlatform(state_dir=state_dir, parts=default_parts()) as platform:
            yield platform


@pytest.fixture
def ni_platform_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A platform state folder of this test's own (not created yet), which NI's clients in this
    process and its children read the key file from, for the duration of the test.
    """
    if sys.platform == "win32":
        pytest.skip("on Windows, NI's own services are used")
    state_dir = tmp_path / "ni-platform"
    _point_ni_clients_at(state_dir, monkeypatch)
    return state_dir
