"""MkDocs hooks that fix two rendering defects of the toolchain.

1. Sphinx roles in docstrings: mkdocstrings renders Google-style docstrings as Markdown, where
   ``:class:`X``` shows up as the literal text ``:class:`` followed by ``X`` in code. The role
   name is removed from the HTML.
2. Notebook tables of contents: mkdocs-jupyter 0.26.3 builds a notebook's table of contents from
   a copy of its Markdown with every inline code span deleted, so a heading such as
   ``### `AUTO` attaches`` is listed as "attaches" and linked to an anchor that does not exist
   (the page's heading id keeps the code). The table of contents (and the title, from the H1) is
   rebuilt from the headings of the notebook's rendered Markdown cells.
"""

from __future__ import annotations

import html
import re
from typing import Any

from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc

_SPHINX_ROLE = re.compile(r":(?:py:)?(?:attr|class|const|data|exc|func|meth|mod|obj):(?=<code>)")
_NOTEBOOK_CELL = re.compile(r'<div class="jp-Cell (?P<kind>jp-\w+)')
_HEADING = re.compile(
    r'<h(?P<level>[1-6]) id="(?P<id>[^"]+)"[^>]*>(?P<inner>.*?)</h(?P=level)>', re.S
)
_ANCHOR_LINK = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>', re.S)
_TAG = re.compile(r"<[^>]+>")


def on_page_content(html_content: str, *, page: Page, **_: Any) -> str:
    """Remove Sphinx role prefixes; give notebook pages a table of contents that matches."""
    if page.file.src_uri.endswith(".ipynb"):
        _rebuild_notebook_toc(page, html_content)
    return _SPHINX_ROLE.sub("", html_content)


def _rebuild_notebook_toc(page: Page, html_content: str) -> None:
    headings = []
    cells = _NOTEBOOK_CELL.split(html_content)
    # split() alternates: text before the first cell, then (kind, cell html) pairs.
    for kind, cell in zip(cells[1::2], cells[2::2], strict=True):
        if kind != "jp-MarkdownCell":
            continue  # headings inside outputs are not the notebook's sections
        for match in _HEADING.finditer(cell):
            text = _TAG.sub("", _ANCHOR_LINK.sub("", match["inner"]))
            name = html.escape(html.unescape(" ".join(text.split())), quote=False)
            headings.append((int(match["level"]), match["id"], name))
    if not headings:
        return
    tokens: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []
    for level, anchor, name in headings:
        token = {"level": level, "id": anchor, "name": name, "children": []}
        while stack and stack[-1]["level"] >= level:
            stack.pop()
        (stack[-1]["children"] if stack else tokens).append(token)
        stack.append(token)
    page.toc = get_toc(tokens)  # type: ignore[arg-type]
    first_level, _, first_name = headings[0]
    if first_level == 1:
        page.title = html.unescape(first_name)
