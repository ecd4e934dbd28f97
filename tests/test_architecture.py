"""What the layout promises: the shipped services, clients, plug-ins, TestStand modules and core
reach NI's services only through NI's own clients, never through the local NI platform's code."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_FREE = [
    "session_core",
    "json_logger",
    "logger_service",
    "logger_client",
    "results_database",
    "results_service",
    "results_client",
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
        for path in (ROOT / package).rglob("*.py")
        if any(
            name == "local_ni_platform" or name.startswith("local_ni_platform.")
            for name in _imported_modules(path)
        )
    )

    assert importers == []
