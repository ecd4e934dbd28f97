"""The committed stubs are exactly what the generation script produces from each proto."""

from __future__ import annotations

from pathlib import Path

import pytest

from json_logger.codegen import CONTRACT as JSON_LOGGER
from results_database.codegen import CONTRACT as RESULTS_DATABASE
from session_core.codegen import Contract

CONTRACTS = [JSON_LOGGER, RESULTS_DATABASE]


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.package_dir.name)
def test_regenerating_the_stubs_changes_nothing(contract: Contract, tmp_path: Path) -> None:
    generated = contract.generate(tmp_path)

    assert [path.name for path in generated] == contract.generated_file_names()
    for path in generated:
        committed = contract.package_dir / path.name
        assert committed.read_bytes() == path.read_bytes(), f"{path.name} is stale: run codegen"


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.package_dir.name)
def test_generated_modules_import_each_other_through_the_package(contract: Contract) -> None:
    name = contract.package_dir.name
    grpc_module = (contract.package_dir / f"{name}_pb2_grpc.py").read_text()

    assert f"from {name} import {name}_pb2" in grpc_module
    assert f"\nimport {name}_pb2" not in grpc_module
