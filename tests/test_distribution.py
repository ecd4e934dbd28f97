"""What a user installs: the wheel carries the licence, a ``py.typed`` marker in every package (so a
user's ``mypy --strict`` reads our annotations) and no development-only code; the platform's CLI
says what it runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path, PureWindowsPath

import pytest
from click.testing import CliRunner

from local_ni_platform.cli import main as local_platform_main

ROOT = Path(__file__).resolve().parents[1]
_WHEEL_PACKAGES = re.search(
    r"\[tool\.hatch\.build\.targets\.wheel\]\npackages = \[([^\]]*)\]",
    (ROOT / "pyproject.toml").read_text(encoding="utf-8"),
)
assert _WHEEL_PACKAGES is not None
PACKAGES = re.findall(r'"(\w+)"', _WHEEL_PACKAGES.group(1))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    uv = os.environ.get("UV") or shutil.which("uv")  # uv run sets UV to its own executable
    if uv is None:
        if os.environ.get("CI"):
            pytest.fail("uv is needed to build the wheel (run the tests with uv run)")
        pytest.skip("uv is not on PATH")
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(folder), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = folder.glob("*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_carries_the_licence(wheel: zipfile.ZipFile) -> None:
    licences = [name for name in wheel.namelist() if name.endswith(".dist-info/licenses/LICENSE")]
    assert len(licences) == 1
    assert "MIT License" in wheel.read(licences[0]).decode("utf-8")


def test_every_package_is_marked_typed(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert [package for package in PACKAGES if f"{package}/py.typed" not in names] == []


def test_development_code_stays_out_of_the_wheel(wheel: zipfile.ZipFile) -> None:
    top_level = {name.split("/", 1)[0] for name in wheel.namelist()}
    assert not top_level & {"tests", "tools", "notebooks", "benchmarks", "docs"}


def test_the_platform_cli_names_every_service_it_hosts() -> None:
    result = CliRunner().invoke(local_platform_main, ["--help"])

    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for service in ("Discovery", "Pin Map", "Session Management", "Device Server"):
        assert service in text


def test_every_start_bat_in_the_wheel_finds_the_python_it_was_installed_into(
    wheel: zipfile.ZipFile,
) -> None:
    """Installed by pip or uv, ``start.bat`` is under ``<env>\\Lib\\site-packages``: its PREFIX
    must climb from its own folder to ``<env>``, where ``Scripts\\python.exe`` is.
    """
    environment = PureWindowsPath(r"C:\MyPlugin\.venv")
    scripts = [name for name in wheel.namelist() if name.endswith("/start.bat")]
    assert len(scripts) == 4
    for name in scripts:
        text = wheel.read(name).decode("ascii")
        prefix = re.search(r'^set "PREFIX=%~dp0([^"]*)"\r$', text, re.MULTILINE)
        assert prefix is not None, name
        folder = environment / "Lib" / "site-packages" / PureWindowsPath(name).parent
        assert _normalized(folder / prefix.group(1)) == environment, name
        assert 'if exist "%PREFIX%\\Scripts\\python.exe"' in text


def _normalized(path: PureWindowsPath) -> PureWindowsPath:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            parts.pop()
        else:
            parts.append(part)
    return PureWindowsPath(*parts)
