"""The committed stubs are exactly what the generation script produces from the proto."""

from __future__ import annotations

from pathlib import Path

from json_logger import codegen


def test_regenerating_the_stubs_changes_nothing(tmp_path: Path) -> None:
    generated = codegen.generate(tmp_path)

    assert [path.name for path in generated] == codegen.generated_file_names()
    for path in generated:
        committed = codegen.PACKAGE_DIR / path.name
        assert committed.read_bytes() == path.read_bytes(), f"{path.name} is stale: run codegen"


def test_generated_modules_import_each_other_through_the_package() -> None:
    grpc_module = (codegen.PACKAGE_DIR / "json_logger_pb2_grpc.py").read_text()

    assert "from json_logger import json_logger_pb2" in grpc_module
    assert "\nimport json_logger_pb2" not in grpc_module
