"""What a user installs: three wheels (the project, session-core and local-ni-platform), each with
the licence, a ``py.typed`` marker in every package (so a user's ``mypy --strict`` reads our
annotations) and no development-only code; the local platform's own, with its activation ``.pth``
and its tests runnable without the rest; the platform's CLI says what it runs.
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
PLATFORM = ROOT / "packages" / "local-ni-platform"
CORE = ROOT / "packages" / "session-core"
DISTRIBUTIONS = {"project": ROOT, "session-core": CORE, "local-ni-platform": PLATFORM}


def _wheel_packages(project: Path) -> list[str]:
    listed = re.search(
        r"\[tool\.hatch\.build\.targets\.wheel\]\npackages = \[([^\]]*)\]",
        (project / "pyproject.toml").read_text(encoding="utf-8"),
    )
    assert listed is not None
    return [path.rsplit("/", 1)[-1] for path in re.findall(r'"([\w/]+)"', listed.group(1))]


PACKAGES = _wheel_packages(ROOT)


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")  # uv run sets UV to its own executable
    if uv is None:
        if os.environ.get("CI"):
            pytest.fail("uv is needed to build the wheels (run the tests with uv run)")
        pytest.skip("uv is not on PATH")
    return uv


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, zipfile.ZipFile]:
    built = {}
    for name, project in DISTRIBUTIONS.items():
        folder = tmp_path_factory.mktemp("wheel")
        subprocess.run(
            [_uv(), "build", "--wheel", "--out-dir", str(folder), str(project)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        (wheel,) = folder.glob("*.whl")
        built[name] = zipfile.ZipFile(wheel)
    return built


@pytest.fixture(scope="module")
def wheel(wheels: dict[str, zipfile.ZipFile]) -> zipfile.ZipFile:
    return wheels["project"]


def _top_level(wheel: zipfile.ZipFile) -> set[str]:
    return {name.split("/", 1)[0] for name in wheel.namelist()}


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_each_wheel_carries_the_licence(
    wheels: dict[str, zipfile.ZipFile], distribution: str
) -> None:
    wheel = wheels[distribution]
    licences = [name for name in wheel.namelist() if name.endswith(".dist-info/licenses/LICENSE")]
    assert len(licences) == 1
    assert "MIT License" in wheel.read(licences[0]).decode("utf-8")


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_every_package_is_marked_typed(
    wheels: dict[str, zipfile.ZipFile], distribution: str
) -> None:
    names = set(wheels[distribution].namelist())
    packages = _wheel_packages(DISTRIBUTIONS[distribution])
    assert [package for package in packages if f"{package}/py.typed" not in names] == []


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_development_code_stays_out_of_the_wheels(
    wheels: dict[str, zipfile.ZipFile], distribution: str
) -> None:
    top_level = _top_level(wheels[distribution])
    assert not top_level & {"tests", "tools", "notebooks", "benchmarks", "docs", "packages"}


def test_each_package_ships_in_exactly_one_wheel(wheels: dict[str, zipfile.ZipFile]) -> None:
    packages = {
        name: _top_level(wheel) - {"local_ni_platform_activation.pth"}
        for name, wheel in wheels.items()
    }
    for name, top_level in packages.items():
        packages[name] = {entry for entry in top_level if ".dist-info" not in entry}

    assert packages["session-core"] == {"session_core"}
    assert packages["local-ni-platform"] == {"local_ni_platform"}
    assert packages["project"] == set(PACKAGES)


def test_only_the_platform_wheel_installs_the_activation_pth(
    wheels: dict[str, zipfile.ZipFile],
) -> None:
    carriers = [
        name
        for name, wheel in wheels.items()
        if "local_ni_platform_activation.pth" in wheel.namelist()
    ]
    assert carriers == ["local-ni-platform"]


def test_the_project_needs_the_local_platform_only_off_windows(
    wheels: dict[str, zipfile.ZipFile],
) -> None:
    wheel = wheels["project"]
    (metadata,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
    requires = [
        line.split(":", 1)[1].strip()
        for line in wheel.read(metadata).decode("utf-8").splitlines()
        if line.startswith("Requires-Dist:")
    ]

    assert "local-ni-platform; sys_platform != 'win32'" in requires
    assert "session-core" in requires


@pytest.mark.slow
def test_the_platform_tests_run_with_only_the_platform_installed() -> None:
    # an isolated environment of the platform and its dependencies alone: collecting imports
    # every test module, so an import of the rest of the project would fail here
    run = subprocess.run(
        [
            _uv(),
            "run",
            "--isolated",
            "--package",
            "local-ni-platform",
            "--directory",
            str(PLATFORM),
            "python",
            "-c",
            "import importlib.util, sys, pytest\n"
            "assert importlib.util.find_spec('logger_service') is None\n"
            "sys.exit(pytest.main(['--collect-only', '-q', '-p', 'no:cacheprovider']))",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"\b(\d{3}) tests collected", run.stdout), run.stdout


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
    assert len(scripts) == 7
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
