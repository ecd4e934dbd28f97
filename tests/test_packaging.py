"""pyproject.toml's Poetry tables must repeat exactly what the standard tables say.

Poetry < 2.2 ignores ``[dependency-groups]`` and Poetry installs the root project with its own
builder, not hatchling, so ``[tool.poetry.group.dev.dependencies]`` and ``[tool.poetry] packages``
restate the dev group and the wheel's packages. These tests keep the copies in step, and keep
the setting that makes ``poetry install`` hand the root project to pip (and so to hatchling, which
ships the activation ``.pth``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest depends on tomli before Python 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _pep735(requirement: str) -> tuple[str, SpecifierSet, frozenset[str], str]:
    parsed = Requirement(requirement)
    marker = str(parsed.marker) if parsed.marker else ""
    return canonicalize_name(parsed.name), parsed.specifier, frozenset(parsed.extras), marker


def _poetry(
    name: str, constraint: str | dict[str, Any]
) -> tuple[str, SpecifierSet, frozenset[str], str]:
    table = {"version": constraint} if isinstance(constraint, str) else constraint
    version = table.get("version", "*")
    marker = table.get("markers", "")
    marker = str(Requirement(f"x; {marker}").marker) if marker else ""
    return (
        canonicalize_name(name),
        SpecifierSet("" if version == "*" else version),
        frozenset(table.get("extras", [])),
        marker,
    )


def test_poetry_dev_group_matches_dependency_groups() -> None:
    standard = sorted(map(_pep735, PYPROJECT["dependency-groups"]["dev"]), key=str)
    poetry_group = PYPROJECT["tool"]["poetry"]["group"]["dev"]["dependencies"]
    poetry = sorted((_poetry(n, c) for n, c in poetry_group.items()), key=str)
    assert poetry == standard


def test_poetry_packages_match_the_wheel() -> None:
    wheel = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    poetry = [entry["include"] for entry in PYPROJECT["tool"]["poetry"]["packages"]]
    assert poetry == wheel


def test_poetry_installs_the_root_project_through_the_build_backend() -> None:
    # Poetry's editable builder runs `pip install -e .` only for a build script that asks for a
    # generated setup file; pip then builds with [build-system], whose hook adds the .pth.
    build = PYPROJECT["tool"]["poetry"]["build"]
    assert build["generate-setup-file"] is True
    assert (ROOT / build["script"]).is_file()
    assert PYPROJECT["build-system"]["build-backend"] == "hatchling.build"
    hook = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["hooks"]["custom"]
    assert (ROOT / hook["path"]).is_file()
