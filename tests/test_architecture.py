"""What the layout promises: the shipped services, clients, plug-ins, TestStand modules and core
reach NI's services only through NI's own clients, never through the local NI platform's code; the
core depends on no other package of the project; the plug-ins' host stays theirs."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = {
    path.parent.name: path.parent
    for path in [*ROOT.glob("*/__init__.py"), *ROOT.glob("packages/*/src/*/__init__.py")]
}
"""Every package of the workspace: the project's at the root, the others' in packages/*/src."""
PLATFORM_FREE = [
    "session_core",
    "service_cli",
    "json_logger",
    "logger_service",
    "logger_client",
    "results_database",
    "results_service",
    "results_client",
    "hardware_lock",
    "lock_service",
    "lock_client",
    "instrument_connection",
    "connection_service",
    "connection_client",
    "simulated_instrument",
    "measurements",
    "teststand",
]


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_service_client_plugin_module_or_core_imports_the_local_platform() -> None:
    importers = sorted(
        str(path.relative_to(ROOT))
        for package in PLATFORM_FREE
        for path in PACKAGE_DIRS[package].rglob("*.py")
        if any(
            name == "local_ni_platform" or name.startswith("local_ni_platform.")
            for name in _imported_modules(path)
        )
    )

    assert importers == []


def _project_imports(package: str) -> dict[str, set[str]]:
    """The project packages each module of ``package`` imports, by module path."""
    return {
        str(path.relative_to(ROOT)): {
            name.split(".")[0]
            for name in _imported_modules(path)
            if name.split(".")[0] in PACKAGE_DIRS
        }
        for path in PACKAGE_DIRS[package].rglob("*.py")
    }


def test_the_workspace_packages_are_all_found() -> None:
    assert {"session_core", "local_ni_platform", "service_cli", "logger_service"} <= set(
        PACKAGE_DIRS
    )
    assert {"session_core", "local_ni_platform"}.isdisjoint(
        path.parent.name for path in ROOT.glob("*/__init__.py")
    ), "the core and the platform are distributions of their own, in packages/"


def test_the_core_imports_no_other_package_of_the_project() -> None:
    # A user's own service depends on the core alone: no service, CLI, demo or platform code.
    outside = {
        module: imported - {"session_core"}
        for module, imported in _project_imports("session_core").items()
        if imported - {"session_core"}
    }

    assert outside == {}


def _source_folders() -> list[Path]:
    """The repository's folders of code: not hidden ones, not virtual environments (any name)."""
    return [
        folder
        for folder in ROOT.iterdir()
        if folder.is_dir()
        and not folder.name.startswith((".", "_"))
        and not (folder / "pyvenv.cfg").exists()
    ]


def test_the_plugin_host_is_imported_only_by_the_plugins() -> None:
    importers = sorted(
        str(path.relative_to(ROOT))
        for folder in _source_folders()
        if folder.name != "measurements"
        for path in folder.rglob("*.py")
        if "measurements._plugin_host" in _imported_modules(path)
    )

    assert importers == []
