"""pyproject.toml's Poetry tables must repeat exactly what the standard tables say.

Poetry < 2.2 ignores ``[dependency-groups]`` and Poetry installs the root project with its own
builder, not hatchling, so ``[tool.poetry.group.dev.dependencies]`` and ``[tool.poetry] packages``
restate the dev group and the wheel's packages; Poetry does not read ``[tool.uv.sources]``, so
``[tool.poetry.dependencies]`` says where the workspace's other distributions are. These tests
keep the copies in step.
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


def _workspace_members() -> dict[str, Path]:
    """The uv workspace's distributions (beside the root project), by name."""
    members = {}
    for folder in PYPROJECT["tool"]["uv"]["workspace"]["members"]:
        member = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())
        members[canonicalize_name(member["project"]["name"])] = ROOT / folder
    return members


def test_every_workspace_distribution_has_a_uv_source_and_a_poetry_path() -> None:
    members = _workspace_members()
    uv_sources = {canonicalize_name(name) for name in PYPROJECT["tool"]["uv"]["sources"]}
    poetry = {
        canonicalize_name(name): table
        for name, table in PYPROJECT["tool"]["poetry"]["dependencies"].items()
    }

    assert set(members) == uv_sources == set(poetry) == {"session-core", "local-ni-platform"}
    for name, folder in members.items():
        assert (ROOT / poetry[name]["path"]).resolve() == folder.resolve(), name
        assert poetry[name]["develop"] is True, f"{name}: editable, as uv installs it"


def test_poetry_path_dependencies_keep_the_standard_markers() -> None:
    # "a user with NI software installed never gets the local platform": the Windows marker must
    # reach Poetry's copy too
    standard = {
        canonicalize_name(Requirement(r).name): _pep735(r)[3]
        for r in PYPROJECT["project"]["dependencies"]
    }
    poetry = PYPROJECT["tool"]["poetry"]["dependencies"]

    for name, table in poetry.items():
        assert _poetry(name, {"markers": table.get("markers", "")})[3] == standard[name]
    assert standard["local-ni-platform"] == 'sys_platform != "win32"'
