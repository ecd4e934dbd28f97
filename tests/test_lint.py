"""Code quality gates run with the test suite: ruff (lint + format) and strict mypy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


GATES = {
    "ruff-check": ["ruff", "check", "."],
    "ruff-format": ["ruff", "format", "--check", "."],
    "mypy": ["mypy"],
}


@pytest.mark.parametrize("command", list(GATES.values()), ids=list(GATES))
def test_quality_gate(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_pre_commit_hooks_run_the_same_gates() -> None:
    """.pre-commit-config.yaml runs each gate, in the project's environment, on the whole tree."""
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}

    assert set(hooks) == set(GATES)
    for name, command in GATES.items():
        hook = hooks[name]
        assert hook["entry"].split() == ["uv", "run", *[part for part in command if part != "."]]
        assert hook["language"] == "system" and hook["pass_filenames"] is False
