"""Run notebooks in place and store their outputs, as nbval will compare them.

    uv run python tools/execute_notebook.py notebooks/03_initialization_behaviors.ipynb

Each notebook runs in its own folder (as nbval runs it) with this environment's kernel; the
timing metadata the run adds to every cell is dropped, so a diff shows only what changed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> None:
    """Execute ``path`` and write it back with its new outputs."""
    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": path.parent}}
    ).execute()
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, path)  # type: ignore[no-untyped-call]


def main() -> None:
    """Execute each notebook named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    for path in parser.parse_args().notebooks:
        print(f"executing {path}", file=sys.stderr)
        execute(path.resolve())


if __name__ == "__main__":
    main()
