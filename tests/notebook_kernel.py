"""Run a notebook's cells in a real kernel, changed as a learner would change them.

The course's mutation tests start one kernel per notebook (in the notebook's folder, as nbval
does), run its cells, then run one cell edited and the check that must catch it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import KernelManager

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@dataclass
class CellRun:
    """What running one cell gave: an error name and value, or none; what it printed."""

    error: str = ""
    message: str = ""
    output: str = field(default="", compare=False)
    """Printed text and displayed Markdown, in order."""

    @property
    def ok(self) -> bool:
        return not self.error


class NotebookKernel:
    """A kernel running one notebook's cells, found by a piece of their source."""

    def __init__(self, name: str, client: Any) -> None:
        notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
        self.cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
        self._client = client

    def cell(self, containing: str) -> str:
        """The one code cell whose source contains ``containing``."""
        found = [source for source in self.cells if containing in source]
        assert len(found) == 1, f"{len(found)} cells contain {containing!r}"
        return found[0]

    def run(self, source: str) -> CellRun:
        """Run ``source`` as a cell; return its error, if any."""
        printed: list[str] = []

        def collect(message: dict[str, Any]) -> None:
            content = message["content"]
            printed.append(content.get("text") or content.get("data", {}).get("text/markdown", ""))

        reply = self._client.execute_interactive(
            source, timeout=180, store_history=False, output_hook=collect
        )
        content = reply["content"]
        output = "".join(printed)
        if content["status"] == "ok":
            return CellRun(output=output)
        return CellRun(content.get("ename", "error"), content.get("evalue", ""), output)

    def run_ok(self, source: str) -> str:
        """Run ``source``; fail with its error; return what it printed."""
        result = self.run(source)
        assert result.ok, f"{result.error}: {result.message}\n{result.output}"
        return result.output

    def run_edited(self, containing: str, old: str, new: str, *, then: str) -> CellRun:
        """Run the cell holding ``containing`` with ``old`` replaced by ``new``, then the cell
        holding ``then``; restore the original cell. Return what the ``then`` cell gave."""
        original = self.cell(containing)
        assert old in original, old
        try:
            edited = self.run(original.replace(old, new, 1))
            assert edited.ok, f"{edited.error}: {edited.message}"
            return self.run(self.cell(then))
        finally:
            restored = self.run(original)
            assert restored.ok, f"{restored.error}: {restored.message}"

    def run_until(self, containing: str) -> None:
        """Run every code cell up to and including the one containing ``containing``."""
        for source in self.cells:
            result = self.run(source)
            assert result.ok, f"{result.error}: {result.message}\nin:\n{source}"
            if containing in source:
                return
        raise AssertionError(f"no cell contains {containing!r}")


@contextmanager
def notebook_kernel(name: str) -> Iterator[NotebookKernel]:
    """A kernel for ``notebooks/<name>``, started in that folder and shut down afterwards."""
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(NOTEBOOKS))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield NotebookKernel(name, client)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@contextmanager
def running_notebook(
    name: str, *, until: str, stop: str = "course.close()"
) -> Iterator[NotebookKernel]:
    """A kernel that ran ``name``'s cells up to the one holding ``until`` (they must pass);
    ``stop`` (what the notebook's last cell does) runs when the block ends."""
    with notebook_kernel(name) as kernel:
        kernel.run_until(until)
        yield kernel
        kernel.run_ok(stop)
