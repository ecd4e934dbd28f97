"""MkDocs hooks: the notebooks join the site; rendering defects of the toolchain are fixed.

1. The notebooks live in the top-level ``notebooks/`` folder (nbval tests them there). They are
   added to the site's files from there rather than through a symlink in ``docs/``: a checkout
   without symlinks (Windows, ``core.symlinks=false``) would hold a text file instead and fail the
   strict build.
2. Sphinx roles in docstrings: mkdocstrings renders Google-style docstrings as Markdown, where
   ``:class:`X``` shows up as the literal text ``:class:`` followed by ``X`` in code. The role
   name is removed from the HTML.
3. Notebook tables of contents: mkdocs-jupyter 0.26.3 builds a notebook's table of contents from
   a copy of its Markdown with every inline code span deleted, so a heading such as
   ``### `AUTO` attaches`` is listed as "attaches" and linked to an anchor that does not exist
   (the page's heading id keeps the code). The table of contents (and the title, from the H1) is
   rebuilt from the headings of the notebook's rendered Markdown cells.
4. Long inline code: the site's CSS never breaks code inside a word (Material's breaks
   ``session_core.registry`` as ``session_core.regist`` + ``ry`` in a narrow table column), so a
   dotted or slashed name longer than a phone's line would stick out. Inline code may break
   after the dots, slashes and opening parentheses between names instead (``<wbr>``, which
   copies as nothing).
5. Notebook pictures: mkdocs-jupyter shows an SVG output as an ``<img>`` of a data URL with the
   alt text "No description has been provided for this image". The session pictures carry their
   title as ``aria-label``; it becomes the image's alt text, for screen readers and for a page
   read without images.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc

_SPHINX_ROLE = re.compile(r":(?:py:)?(?:attr|class|const|data|exc|func|meth|mod|obj):(?=<code>)")
_NOTEBOOK_CELL = re.compile(r'<div class="jp-Cell (?P<kind>jp-\w+)')
_HEADING = re.compile(
    r'<h(?P<level>[1-6]) id="(?P<id>[^"]+)"[^>]*>(?P<inner>.*?)</h(?P=level)>', re.S
)
_ANCHOR_LINK = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>', re.S)
_TAG = re.compile(r"<[^>]+>")
_PRE = re.compile(r"(<pre\b.*?</pre>)", re.S)
_INLINE_CODE = re.compile(r"<code>([^<]*)</code>")  # plain text only (no highlighting, no link)
# after the dot or slash of a.b and a/b and the parenthesis of f(x), not in .pyi or f(...)
_NAME_SEPARATOR = re.compile(r"(?<=\w[./(])(?=[A-Za-z_])")
_NO_ALT = "No description has been provided for this image"
_SVG_IMAGE = re.compile(
    r'<img alt="' + _NO_ALT + r'" src="data:image/svg\+xml;base64,(?P<data>[A-Za-z0-9+/=]+)"'
)
_ARIA_LABEL = re.compile(r'<svg\b[^>]*\baria-label="([^"]*)"')
_NOTEBOOKS = "notebooks"  # beside mkdocs.yml; also their folder in the site, as the nav names them


@event_priority(50)  # before mkdocs-jupyter's on_files (priority 0), which makes them pages
def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Add ``notebooks/*.ipynb`` of the repository, under the same ``notebooks/`` path.

    Their source folder is the repository root, so ``src_uri`` is ``notebooks/NN_name.ipynb``:
    the nav entries and Markdown links name them as if they were in ``docs/``. Only notebooks:
    nbval's ``conftest.py`` and ``sanitize.cfg`` beside them are not part of the site.
    """
    root = Path(config.config_file_path).resolve().parent
    for notebook in sorted((root / _NOTEBOOKS).glob("*.ipynb")):
        files.append(
            File(
                f"{_NOTEBOOKS}/{notebook.name}",
                src_dir=str(root),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    return files


def on_page_content(html_content: str, *, page: Page, **_: Any) -> str:
    """Remove Sphinx role prefixes; give notebook pages a table of contents that matches.

    Inline code gets its break points last: the table of contents is made from the headings as
    they were.
    """
    if page.file.src_uri.endswith(".ipynb"):
        _rebuild_notebook_toc(page, html_content)
        html_content = _SVG_IMAGE.sub(_described, html_content)
    return _code_break_points(_SPHINX_ROLE.sub("", html_content))


def _described(image: re.Match[str]) -> str:
    """The ``<img>`` of an SVG output, with the SVG's ``aria-label`` as its alt text."""
    try:
        svg = base64.b64decode(image["data"], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return image[0]
    label = _ARIA_LABEL.search(svg)
    if label is None:
        return image[0]
    # the label is already escaped for an attribute: it came from one
    return image[0].replace(f'alt="{_NO_ALT}"', f'alt="{label[1]}"', 1)


def _code_break_points(html_content: str) -> str:
    parts = _PRE.split(html_content)
    # split() with a group alternates: text outside code blocks, a code block, outside, ...
    parts[::2] = [_INLINE_CODE.sub(_with_break_points, part) for part in parts[::2]]
    return "".join(parts)


def _with_break_points(code: re.Match[str]) -> str:
    return "<code>" + _NAME_SEPARATOR.sub("<wbr>", code[1]) + "</code>"


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
        token: dict[str, Any] = {"level": level, "id": anchor, "name": name, "children": []}
        while stack and stack[-1]["level"] >= level:
            stack.pop()
        (stack[-1]["children"] if stack else tokens).append(token)
        stack.append(token)
    page.toc = get_toc(tokens)  # type: ignore[arg-type]
    first_level, _, first_name = headings[0]
    if first_level == 1:
        page.title = html.unescape(first_name)
