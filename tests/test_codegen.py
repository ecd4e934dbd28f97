"""The committed stubs are exactly what ``tools/generate_stubs.py`` produces from each proto."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

GENERATOR = Path(__file__).resolve().parents[1] / "tools" / "generate_stubs.py"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_stubs", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_stubs"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


generate_stubs = _load_generator()
CONTRACTS: dict[str, Any] = generate_stubs.CONTRACTS


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_regenerating_the_stubs_changes_nothing(name: str, tmp_path: Path) -> None:
    contract = CONTRACTS[name]
    generated = contract.generate(tmp_path)

    assert [path.name for path in generated] == contract.generated_file_names()
    for path in generated:
        committed = contract.package_dir / path.name
        assert committed.read_bytes() == path.read_bytes(), f"{path.name} is stale: regenerate"


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_generated_modules_import_each_other_through_the_package(name: str) -> None:
    grpc_module = (CONTRACTS[name].package_dir / f"{name}_pb2_grpc.py").read_text()

    assert f"from {name} import {name}_pb2" in grpc_module
    assert f"\nimport {name}_pb2" not in grpc_module


def test_the_command_writes_one_contract_where_it_is_told(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(GENERATOR), "results_database", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    assert sorted(path.name for path in (tmp_path / "results_database").iterdir()) == sorted(
        CONTRACTS["results_database"].generated_file_names()
    )
    assert not (tmp_path / "json_logger").exists()
