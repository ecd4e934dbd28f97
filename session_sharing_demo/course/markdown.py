"""Markdown the notebooks display (rendered by Jupyter and by the docs site alike)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table; ``|`` and line breaks inside cells are escaped."""

    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(cell(title) for title in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def code_block(text: str, language: str) -> str:
    """``text`` as a fenced Markdown code block."""
    return f"```{language}\n{text.rstrip()}\n```"
