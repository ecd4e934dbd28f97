"""The site: built strictly (every notebook executed), then every page opened in headless Chromium.

The build is ``mkdocs build --strict`` with the repository's ``mkdocs.yml``: a warning, a broken
Markdown link or a notebook cell that raises (``allow_errors: false``) fails it. The built site is
then served on loopback and every page is loaded in Debian's Chromium, after its scripts ran: it
must show its title, and every link, script, stylesheet and image it references on the same
origin must exist in the built site.

Every page is also laid out at 1280 px (a laptop) and 400 px (a phone), offline, and measured
in the browser by a script the test server adds to it (``?layout-check``): nothing wider than
the window unless it scrolls in its own box, code never broken inside words, no diagram left as
source text, the notebooks' In/Out prompts small on a phone; SVG diagrams load nothing else and
their text is 12 px or more on the phone; at 1280 px a notebook's tables show every column, and no
label of an SVG drawing (a session picture) is cut by its own viewBox. Screenshots of the home page
and of the behaviours notebook at both widths go to ``$DOCS_SCREENSHOT_DIR`` (default: a temporary
folder).

The repository holds no symlink (a Windows checkout would turn it into a text file): the
notebooks join the site through docs/hooks.py, before mkdocs-jupyter turns them into pages.

Chromium missing: skipped locally, a failure in CI (``$CI`` set; ``.ci/run`` installs it).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import pytest

pytestmark = pytest.mark.slow

pytest.importorskip("mkdocs", reason="the docs toolchain is installed on Python >= 3.11 only")
pytest.importorskip("mkdocs_jupyter", reason="the docs toolchain is installed on Python >= 3.11")
yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # Offline, as a reader without internet sees the site (and no 5 s DNS timeouts that stall
    # the virtual clock): every host name but the test server's fails at once.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--virtual-time-budget=5000",  # let the page's scripts run before the DOM is dumped
)
BUILD_TIMEOUT_SECONDS = 270.0
CELL_TIMEOUT_SECONDS = 120  # one notebook cell, while the site builds (nbclient has none)
CHROMIUM_TIMEOUT_SECONDS = 60.0
MIN_SCREENSHOT_BYTES = 10_000
DESKTOP = 1280
PHONE = 400
LAYOUT_WIDTHS = (DESKTOP, PHONE)
WINDOW_HEIGHT = 900
# Headless Chromium 150 makes no window narrower than 500 px (``window.innerWidth`` is 500 for
# ``--window-size=400,900``): narrower widths are laid out in an iframe of that width.
MIN_WINDOW_WIDTH = 500
NARROW = 600  # at most this wide, the notebooks' prompts must leave the width to the code
MAX_PROMPT_SHARE = 0.12  # of the window's width, for one In [n]: / Out[n]: prompt
MIN_DIAGRAM_FONT_PX = 12  # the smallest text of an SVG image, as shown on a phone
PROBLEMS_SHOWN = 10  # of one page at one width (one broken rule can make hundreds)
PHONE_SCREENSHOT_HEIGHT = 2400  # a phone's screen is small: show what scrolling would show
SCREENSHOTS = {  # file name: (page, width, height)
    "home.png": ("", DESKTOP, WINDOW_HEIGHT),
    "home-400.png": ("", PHONE, PHONE_SCREENSHOT_HEIGHT),
    "03_initialization_behaviors.png": (
        "notebooks/03_initialization_behaviors/",
        DESKTOP,
        WINDOW_HEIGHT,
    ),
    "03_initialization_behaviors-400.png": (
        "notebooks/03_initialization_behaviors/",
        PHONE,
        PHONE_SCREENSHOT_HEIGHT,
    ),
}


# -- the build ------------------------------------------------------------------------------------


@dataclass
class Build:
    site_dir: Path
    returncode: int
    output: str


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Build the site once, as documented: ``NO_MKDOCS_2_WARNING=1 mkdocs build --strict``."""
    site_dir = tmp_path_factory.mktemp("site")
    # mkdocs-jupyter has no timeout option; nbclient reads this one from the Jupyter config.
    jupyter_config = tmp_path_factory.mktemp("jupyter-config")
    (jupyter_config / "jupyter_nbconvert_config.json").write_text(
        json.dumps({"NotebookClient": {"timeout": CELL_TIMEOUT_SECONDS}}), encoding="utf-8"
    )
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "JUPYTER_CONFIG_DIR": str(jupyter_config)}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        # the output read so far: bytes, even with text=True
        output = b"".join(
            part if isinstance(part, bytes) else part.encode()
            for part in (error.stdout, error.stderr)
            if part
        ).decode(errors="replace")
        return Build(site_dir, -1, f"timed out after {BUILD_TIMEOUT_SECONDS} s\n{output}")
    return Build(site_dir, result.returncode, result.stdout + result.stderr)


@pytest.fixture(scope="module")
def site_dir(build: Build) -> Path:
    if build.returncode != 0:
        pytest.fail("the site did not build (see test_site_builds_strictly)")
    return build.site_dir


def test_site_builds_strictly(build: Build) -> None:
    assert build.returncode == 0, build.output[-20_000:]
    assert (build.site_dir / "index.html").is_file()


def test_no_tracked_file_is_a_symlink() -> None:
    """A checkout without symlinks (Windows, ``core.symlinks=false``) makes them text files."""
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(
        [git, "ls-files", "--stage", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    # each entry: "<mode> <object> <stage>\t<path>"; mode 120000 is a symbolic link
    entries = result.stdout.split("\0")
    links = [entry.split("\t", 1)[1] for entry in entries if entry.startswith("120000 ")]
    assert not links, f"symlinks tracked by git: {links}"


def test_notebooks_join_the_files_before_mkdocs_jupyter_makes_them_pages() -> None:
    """docs/hooks.py's on_files must run first: mkdocs-jupyter only wraps files it is given."""
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    owners = [getattr(handler, "__module__", "") for handler in config.plugins.events["files"]]
    hook = next(i for i, owner in enumerate(owners) if owner.endswith("hooks.py"))
    plugin = next(i for i, owner in enumerate(owners) if owner.startswith("mkdocs_jupyter"))
    assert hook < plugin, f"on_files handlers in the order they run: {owners}"


# -- what the site should contain ------------------------------------------------------------------


# Reads mkdocs.yml without importing what its ``!!python/name:`` tags name (yaml is untyped: a
# class made by type() rather than a class statement, which strict mypy refuses to derive from Any).
_ConfigLoader: Any = type("_ConfigLoader", (yaml.SafeLoader,), {})
_ConfigLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)
_ConfigLoader.add_multi_constructor("!", lambda *_: None)


def _config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.load(
        (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_ConfigLoader
    )
    return config


def _nav_pages(nav: list[Any]) -> Iterator[tuple[str, str]]:
    """(title, source file) of every page in the nav."""
    for item in nav:
        if isinstance(item, dict):
            for title, value in item.items():
                if isinstance(value, list):
                    yield from _nav_pages(value)
                else:
                    yield str(title), str(value)


def _page_path(source: str) -> str:
    """The site path of a source file (``use_directory_urls``): ``a/b.md`` -> ``a/b/``."""
    stem = source.rsplit(".", 1)[0]
    if stem == "index":
        return ""
    if stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


def _notebook_h1(path: Path) -> str | None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None


def expected_titles() -> dict[str, set[str]]:
    """Site path of each nav page -> the titles it may show (nav title, notebook H1)."""
    config = _config()
    titles: dict[str, set[str]] = {}
    for title, source in _nav_pages(config["nav"]):
        accepted = {title}
        if source.endswith(".ipynb"):
            h1 = _notebook_h1(ROOT / source)  # docs/hooks.py adds them from the repository root
            if h1:
                accepted.add(h1)
        path = _page_path(source)
        if path == "":
            accepted.add(config["site_name"])  # Material titles the home page with the site name
        titles[path] = accepted
    return titles


def site_pages(site_dir: Path) -> list[str]:
    """Site path of every HTML page of the built site (not the 404 page, not theme assets)."""
    pages = []
    for html in sorted(site_dir.rglob("*.html")):
        relative = html.relative_to(site_dir).as_posix()
        if relative == "404.html" or relative.startswith(("assets/", "search/")):
            continue
        pages.append(relative[: -len("index.html")] if html.name == "index.html" else relative)
    return pages


# -- a browser on the served site ------------------------------------------------------------------


LAYOUT_CHECK = "layout-check"  # query parameter: serve the page with LAYOUT_SCRIPT added
LAYOUT_FRAME = "layout-frame"  # query parameter: serve a window holding the page in an iframe
LAYOUT_HEIGHT = "height"  # query parameter: the iframe's height (default WINDOW_HEIGHT)
LAYOUT_REPORT = re.compile(r'<pre id="layout-report">(.*?)</pre>', re.S)

# Runs in the page after it loaded (and Material's scripts set it up), and writes a JSON report
# into <pre id="layout-report">, of the window that holds the page (the page's own, or its
# frame's parent), where --dump-dom shows it:
# - problems: what does not fit the window (the document wider than it; a pre, code, table or
#   image of the article outside it, or cut off, unless in a box of its own that scrolls
#   sideways and fits), code blocks that wrap their lines, code that may break inside words
#   (word-break break-all or break-word, overflow-wrap anywhere) or does (a word of inline code
#   on two lines), diagram source shown as text (mermaid not rendered);
# - prompts: the widest notebook In/Out prompt shown; images: the shown width of each image;
#   checked: how many elements of each kind were measured.
LAYOUT_SCRIPT = r"""<script>
addEventListener("load", () => setTimeout(() => {
  "use strict";
  const viewport = document.documentElement.clientWidth;
  const WIDE = 1000;  // a laptop's window, or wider
  const article = document.querySelector("article") || document.body;
  const problems = [];
  const rawDiagram =
    /^(flowchart\b|graph\s+(TB|TD|BT|RL|LR)\b|(sequence|class|state|er)Diagram|gantt\b|mindmap\b)/;
  const describe = (element) => {
    const classes = typeof element.className === "string"
      ? element.className.split(/\s+/).filter(Boolean).map((name) => "." + name).join("")
      : "";
    const text = (element.innerText ?? element.textContent ?? "").replace(/\s+/g, " ").trim();
    return "<" + element.tagName.toLowerCase() + classes + "> " +
      JSON.stringify(text.length > 60 ? text.slice(0, 60) + "..." : text);
  };
  const shown = (element) => {
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  };
  const scrollsSideways = (element) =>
    ["auto", "scroll"].includes(getComputedStyle(element).overflowX) &&
    // the article, or a whole notebook, scrolling sideways is no better than the page doing it
    !element.contains(article) && !element.querySelector(".jp-Cell");
  // Why an element cannot be seen whole, or null: it must fit the window, or sit in a box of
  // its own that scrolls sideways (which must itself be seen whole); a box that clips its
  // content (overflow-x hidden or clip) must hold it.
  const extent = (element) => {
    if (getComputedStyle(element).display !== "inline") return element.getBoundingClientRect();
    const text = document.createRange();  // inline code: its text, not its background's padding
    text.selectNodeContents(element);
    return text.getBoundingClientRect();
  };
  const cutOff = (element) => {
    const box = extent(element);
    for (let up = element.parentElement; up; up = up.parentElement) {
      if (scrollsSideways(up)) {
        const why = cutOff(up);
        return why && "in " + describe(up) + ", which " + why;
      }
      if (["hidden", "clip"].includes(getComputedStyle(up).overflowX)) {
        const clip = up.getBoundingClientRect();
        if (box.left < clip.left - 1 || box.right > clip.right + 1) {
          return "is cut off at " + Math.round(clip.right) + " px by " + describe(up);
        }
      }
    }
    if (box.left < -1 || box.right > viewport + 1) {
      return "spans " + Math.round(box.left) + " to " + Math.round(box.right) + " px of the " +
        viewport + " px window, in no box that scrolls sideways";
    }
    return null;
  };

  const scrollWidth = document.documentElement.scrollWidth;
  if (scrollWidth > viewport + 1) {
    const scrolled = (element) => {
      for (let up = element.parentElement; up; up = up.parentElement) {
        if (scrollsSideways(up)) return true;
      }
      return false;
    };
    const outermost = [...document.body.querySelectorAll("*")].filter((element) =>
      element.getBoundingClientRect().right > viewport + 1 &&
      !(element.parentElement.getBoundingClientRect().right > viewport + 1) &&
      !scrolled(element));
    problems.push("the document is " + scrollWidth + " px wide, the window " + viewport +
      " px; too wide: " + outermost.slice(0, 5).map(describe).join(", "));
  }
  const checked = {pre: 0, code: 0, table: 0, img: 0};
  const cut = [];
  for (const element of article.querySelectorAll("pre, code, table, img")) {
    if (!shown(element)) continue;
    const tag = element.tagName.toLowerCase();
    checked[tag] += 1;
    if (tag === "code" && element.closest("pre")) continue;  // its pre is measured
    if (cut.some((outer) => outer.contains(element))) continue;  // reported with its table
    const why = cutOff(element);
    if (why) {
      cut.push(element);
      problems.push(describe(element) + " " + why);
    }
  }
  for (const element of article.querySelectorAll("pre, code")) {
    if (!shown(element)) continue;
    const style = getComputedStyle(element);
    const anywhere = ["break-all", "break-word"].includes(style.wordBreak);
    if (anywhere || style.overflowWrap === "anywhere") {
      problems.push(describe(element) + " breaks inside words (word-break: " + style.wordBreak +
        ", overflow-wrap: " + style.overflowWrap + ")");
    }
    if (element.closest("pre") && !["pre", "nowrap"].includes(style.whiteSpace)) {
      problems.push(describe(element) + " wraps its lines (white-space: " + style.whiteSpace +
        "): long lines must scroll");
    }
  }
  // Whatever the CSS says: a word of inline code (an identifier) laid out on two lines.
  for (const element of article.querySelectorAll("code")) {
    if (!shown(element) || element.closest("pre")) continue;
    let split = null;
    const texts = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = texts.nextNode(); node && !split; node = texts.nextNode()) {
      for (const word of node.data.matchAll(/[\p{L}\p{N}_]{2,}/gu)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const lines = new Set([...range.getClientRects()].map((box) => Math.round(box.bottom)));
        if (lines.size > 1) {
          split = word[0];
          break;
        }
      }
    }
    if (split) problems.push(describe(element) + " is broken inside " + JSON.stringify(split));
  }
  const text = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = text.nextNode(); node; node = text.nextNode()) {
    const parent = node.parentElement;
    if (parent.closest("script, style, template, noscript, #layout-report")) continue;
    if (rawDiagram.test(node.data.trimStart())) {
      problems.push("diagram source shown as text: " + describe(parent));
    }
  }
  // A notebook's table on a laptop: every column visible, none behind a sideways scroll.
  if (viewport >= WIDE) {
    for (const element of article.querySelectorAll(".jupyter-wrapper table")) {
      if (!shown(element)) continue;
      for (let up = element.parentElement; up && up !== article; up = up.parentElement) {
        if (scrollsSideways(up) && up.scrollWidth > up.clientWidth + 1) {
          problems.push(describe(element) + " hides columns: " + up.scrollWidth + " px wide in " +
            up.clientWidth + " px that scroll sideways");
          break;
        }
      }
    }
  }
  // An SVG drawing of the article (a notebook's session picture, shown as an <img> of a data URL,
  // or inline): no text cut off by its own viewBox. An image's SVG is measured in a copy.
  const labelsCut = (svg, where) => {
    const view = svg.viewBox.baseVal;
    if (!view || !view.width) return;
    for (const label of svg.querySelectorAll("text")) {
      const box = label.getBBox();
      if (box.x < view.x - 0.5 || box.y < view.y - 0.5 ||
          box.x + box.width > view.x + view.width + 0.5 ||
          box.y + box.height > view.y + view.height + 0.5) {
        problems.push(where + ": the label " + JSON.stringify(label.textContent) +
          " is cut by its viewBox (" + view.width + " x " + view.height + "): it spans x " +
          Math.round(box.x) + " to " + Math.round(box.x + box.width));
      }
    }
  };
  for (const svg of article.querySelectorAll("svg[viewBox]")) {
    if (shown(svg)) labelsCut(svg, describe(svg));
  }
  for (const image of article.querySelectorAll('img[src^="data:image/svg+xml"]')) {
    const source = image.getAttribute("src");
    const comma = source.indexOf(",");
    const data = source.slice(comma + 1);
    const markup = source.slice(0, comma).endsWith(";base64")
      ? new TextDecoder().decode(Uint8Array.from(atob(data), (c) => c.charCodeAt(0)))
      : decodeURIComponent(data);
    const copy = document.createElement("div");
    copy.style.cssText = "position: absolute; left: -10000px; top: 0; width: 4000px";
    copy.innerHTML = markup;
    document.body.append(copy);
    const svg = copy.querySelector("svg");
    if (svg) labelsCut(svg, "<img> " + JSON.stringify(image.alt));
    copy.remove();
  }
  for (const element of document.querySelectorAll("pre.mermaid, div.mermaid, .jp-Mermaid")) {
    if (!element.querySelector("svg")) problems.push("diagram not rendered: " + describe(element));
  }
  let prompts = {shown: 0, widest: 0, element: ""};
  for (const element of document.querySelectorAll(".jp-InputPrompt, .jp-OutputPrompt")) {
    if (!shown(element)) continue;
    const width = element.getBoundingClientRect().width;
    prompts.shown += 1;
    if (width > prompts.widest) prompts = {...prompts, widest: width, element: describe(element)};
  }
  const images = [...article.querySelectorAll("img")].filter(shown).map((image) => ({
    src: image.currentSrc || image.src, width: image.getBoundingClientRect().width}));

  const report = JSON.stringify({innerWidth: window.innerWidth, clientWidth: viewport,
    scrollWidth, checked, problems, prompts, images});
  const host = window.parent === window ? document : window.parent.document;
  let out = host.getElementById("layout-report");
  if (!out) {
    out = host.createElement("pre");
    out.id = "layout-report";
    host.body.append(out);
  }
  out.textContent = report;
}, 300));
</script>
"""

# The window for a width narrower than headless Chromium's windows: the page in an iframe of that
# width (centred, grey beside it), as tall as the window, with the report below.
LAYOUT_FRAME_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{width} px</title>
<style>html, body {{ margin: 0; background: #777; }}
iframe {{ display: block; margin: 0 auto; border: 0; background: #fff; }}</style></head>
<body><iframe src="?{check}" width="{width}" height="{height}"></iframe>
<pre id="layout-report"></pre></body></html>
"""


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site; with ``?layout-check`` or ``?layout-frame=W``, measured pages."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        if LAYOUT_FRAME in query:
            width = int(query[LAYOUT_FRAME][0])
            height = int(query.get(LAYOUT_HEIGHT, [WINDOW_HEIGHT])[0])
            self._send_html(
                LAYOUT_FRAME_PAGE.format(width=width, height=height, check=LAYOUT_CHECK)
            )
            return
        file = Path(self.translate_path(url.path))
        if file.is_dir():
            file /= "index.html"
        if LAYOUT_CHECK in query and file.suffix == ".html" and file.is_file():
            page = file.read_text(encoding="utf-8")
            end = page.rfind("</body>")
            self._send_html(page[:end] + LAYOUT_SCRIPT + page[end:])
            return
        super().do_GET()

    def _send_html(self, text: str) -> None:
        body = text.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def layout_url(
    base_url: str, page: str, width: int, height: int = WINDOW_HEIGHT
) -> tuple[str, int]:
    """The URL that lays ``page`` out ``width`` px wide and measures it; the window's width."""
    if width >= MIN_WINDOW_WIDTH:
        return f"{base_url}{page}?{LAYOUT_CHECK}", width
    frame = f"{LAYOUT_FRAME}={width}&{LAYOUT_HEIGHT}={height}"
    return f"{base_url}{page}?{frame}", MIN_WINDOW_WIDTH


def layout_report(dumped_dom: str) -> dict[str, Any] | None:
    """The measuring script's report in a page's DOM, or None if it did not run."""
    match = LAYOUT_REPORT.search(dumped_dom)
    if not match or not match[1].strip():
        return None
    report: dict[str, Any] = json.loads(unescape(match[1]))
    return report


@pytest.fixture(scope="module")
def base_url(site_dir: Path) -> Iterator[str]:
    handler = functools.partial(_SiteHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (Debian package chromium; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


def run_chromium(chromium: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a new empty profile (its own ``--user-data-dir``)."""
    profile.mkdir(parents=True)
    result = subprocess.run(
        [str(chromium), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=CHROMIUM_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"chromium {' '.join(args)}: {result.stderr[-3000:]}"
    return result


@dataclass
class Dom:
    """What a page shows after its scripts ran, from Chromium's ``--dump-dom``."""

    title: str = ""
    h1: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    has_content: bool = False


REFERENCE_ATTRIBUTES = {"a": "href", "link": "href", "script": "src", "img": "src"}


class _DomParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.dom = Dom()
        self._in_title = False
        self._h1_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        reference = attributes.get(REFERENCE_ATTRIBUTES.get(tag, ""))
        if reference:
            self.dom.references.append(reference)
        for name in ("id", "name") if tag != "meta" else ():
            if attributes.get(name):
                self.dom.ids.add(str(attributes[name]))
        if tag == "title":
            self._in_title = True
        elif tag == "h1":
            self._h1_depth += 1
            self.dom.h1.append("")
        elif tag == "article" and "md-content__inner" in (attributes.get("class") or ""):
            self.dom.has_content = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "h1" and self._h1_depth:
            self._h1_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.dom.title += data
        if self._h1_depth:
            self.dom.h1[-1] += data


def parse_dom(html: str) -> Dom:
    parser = _DomParser()
    parser.feed(html)
    parser.close()
    return parser.dom


@functools.cache
def static_ids(file: Path) -> frozenset[str]:
    """The element ids of a built page as served (before scripts run)."""
    return frozenset(parse_dom(file.read_text(encoding="utf-8")).ids)


def _normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("¶", "")).strip().casefold()


def _site_file(site_dir: Path, path: str) -> Path:
    file = site_dir / path
    return file / "index.html" if path == "" or path.endswith("/") else file


def broken_references(site_dir: Path, base_url: str, page: str, dom: Dom) -> list[str]:
    """References of ``page`` to the site's own origin that name no file of the built site.

    A ``#fragment`` must name an element of the page it points to: of the rendered page itself,
    or of another page's built HTML.
    """
    origin = urlsplit(base_url).netloc
    page_file = _site_file(site_dir, page)
    broken = []
    for reference in dom.references:
        target = urlsplit(urljoin(base_url + page, reference))
        if target.scheme not in ("http", "https") or target.netloc != origin:
            continue  # another site, mailto:, javascript:, data:
        file = _site_file(site_dir, unquote(target.path).lstrip("/"))
        if not file.is_file():
            broken.append(reference)
            continue
        fragment = unquote(target.fragment)
        if fragment and file.suffix == ".html":
            ids = dom.ids if file == page_file else static_ids(file)
            if fragment not in ids:
                broken.append(reference)
    return broken


# -- the browser tests -----------------------------------------------------------------------------


@dataclass
class Rendered:
    """A page after its scripts ran, at one width: its DOM and the measuring script's report."""

    dom: Dom
    report: dict[str, Any] | None


@pytest.fixture(scope="module")
def rendered(
    site_dir: Path, base_url: str, chromium: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, int], Rendered]:
    """Every page at every width of LAYOUT_WIDTHS, each loaded once, two browsers at a time."""
    profiles = tmp_path_factory.mktemp("chromium")
    jobs = [(page, width) for width in LAYOUT_WIDTHS for page in site_pages(site_dir)]

    def render(index_and_job: tuple[int, tuple[str, int]]) -> Rendered:
        index, (page, width) = index_and_job
        url, window_width = layout_url(base_url, page, width)
        result = run_chromium(
            chromium,
            profiles / f"profile-{index}",
            "--dump-dom",
            f"--window-size={window_width},{WINDOW_HEIGHT}",
            url,
        )
        return Rendered(parse_dom(result.stdout), layout_report(result.stdout))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(jobs, pool.map(render, enumerate(jobs)), strict=True))


def test_every_page_renders_its_title_without_broken_links(
    site_dir: Path, base_url: str, rendered: dict[tuple[str, int], Rendered]
) -> None:
    titles = expected_titles()
    pages = site_pages(site_dir)
    missing = sorted(set(titles) - set(pages))
    assert not missing, f"nav pages missing from the built site: {missing}"
    problems = []
    for page in pages:
        dom = rendered[page, DESKTOP].dom  # the page itself (narrow widths show it in a frame)
        shown = [_normalize(dom.title), *(_normalize(h1) for h1 in dom.h1)]
        accepted = titles.get(page)
        if not dom.has_content or not dom.h1 or not dom.title.strip():
            problems.append(f"{page or '/'}: no content, title or h1 (title {dom.title!r})")
        elif accepted and not any(_normalize(a) in text for a in accepted for text in shown):
            problems.append(f"{page or '/'}: shows {shown}, expected one of {sorted(accepted)}")
        problems.extend(
            f"{page or '/'}: broken internal link {reference!r}"
            for reference in broken_references(site_dir, base_url, page, dom)
        )
    assert not problems, "\n".join(problems)


def test_notebook_pages_offer_their_notebook_for_download(
    site_dir: Path, rendered: dict[tuple[str, int], Rendered]
) -> None:
    """The download button (docs/overrides/main.html, from mkdocs-jupyter's ``page.nb_url``)."""
    notebooks = [source for _, source in _nav_pages(_config()["nav"]) if source.endswith(".ipynb")]
    assert notebooks, "no notebook in the nav"
    for source in notebooks:
        page, name = _page_path(source), Path(source).name
        copy = site_dir / page / name
        assert copy.is_file(), f"{page}: {name} is not in the site"
        assert copy.read_bytes() == (ROOT / source).read_bytes(), f"{copy} is not {source}"
        assert name in rendered[page, DESKTOP].dom.references, f"{page}: no link to {name}"


@pytest.mark.parametrize("width", LAYOUT_WIDTHS)
def test_every_page_fits_the_width(
    site_dir: Path, rendered: dict[tuple[str, int], Rendered], width: int
) -> None:
    """Nothing cut off or wider than the window, code not broken in words, no raw diagram."""
    problems = []
    measured = 0
    for page in site_pages(site_dir):
        where = f"{page or '/'} at {width} px"
        report = rendered[page, width].report
        if report is None:
            problems.append(f"{where}: no layout report (the measuring script did not run)")
            continue
        measured += 1
        if report["innerWidth"] != width:
            problems.append(f"{where}: laid out {report['innerWidth']} px wide instead")
        found = report["problems"]
        problems.extend(f"{where}: {problem}" for problem in found[:PROBLEMS_SHOWN])
        if len(found) > PROBLEMS_SHOWN:
            problems.append(f"{where}: and {len(found) - PROBLEMS_SHOWN} more")
        if page.startswith("notebooks/") and not report["checked"]["pre"]:
            problems.append(f"{where}: no code measured ({report['checked']})")
        prompts = report["prompts"]
        if width <= NARROW and prompts["widest"] > MAX_PROMPT_SHARE * width:
            problems.append(
                f"{where}: a notebook prompt takes {prompts['widest']:.0f} px of {width} "
                f"(at most {MAX_PROMPT_SHARE:.0%}): {prompts['element']}"
            )
    assert not problems, "\n".join(problems)
    assert measured == len(site_pages(site_dir))


def _svg_geometry(svg: str) -> tuple[float, float]:
    """The width of an SVG's ``viewBox`` and the smallest ``font-size`` it sets."""
    view_box = re.search(r'<svg\b[^>]*\bviewBox="([^"]+)"', svg)
    assert view_box, "no viewBox: the SVG cannot scale to the page"
    sizes = [float(size) for size in re.findall(r"font-size\s*[:=]\s*\"?([\d.]+)", svg)]
    assert sizes, "no font-size: the text's size depends on the browser"
    return float(view_box[1].split()[2]), min(sizes)


def test_diagrams_are_self_contained_and_readable_on_a_phone(
    site_dir: Path, base_url: str, rendered: dict[tuple[str, int], Rendered]
) -> None:
    """SVG images load nothing else (no network) and their smallest text is >= 12 px at 400 px."""
    diagrams = 0
    problems = []
    for page in site_pages(site_dir):
        report = rendered[page, PHONE].report
        for image in report["images"] if report else ():
            url = urlsplit(image["src"])
            if not url.path.endswith(".svg") or not image["src"].startswith(base_url):
                continue
            diagrams += 1
            svg = _site_file(site_dir, unquote(url.path).lstrip("/")).read_text(encoding="utf-8")
            outside = [
                reference
                for reference in re.findall(r'(?:href|src)="([^"]*)"|url\(([^)]*)\)', svg)
                if not "".join(reference).lstrip("'\"").startswith("#")
            ]
            if outside or "<script" in svg:
                problems.append(f"{url.path}: loads {outside} or has a script")
            view_width, smallest = _svg_geometry(svg)
            shown = smallest * image["width"] / view_width
            if shown < MIN_DIAGRAM_FONT_PX:
                problems.append(
                    f"{page or '/'} at {PHONE} px: {url.path} is {image['width']:.0f} px wide, "
                    f"its smallest text {shown:.1f} px (font-size {smallest} of {view_width})"
                )
    assert diagrams, "no SVG diagram found (the home page has one)"
    assert not problems, "\n".join(problems)


def test_screenshots(site_dir: Path, base_url: str, chromium: Path, tmp_path: Path) -> None:
    folder = Path(os.environ.get("DOCS_SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    for index, (name, (page, width, height)) in enumerate(SCREENSHOTS.items()):
        assert (site_dir / page / "index.html").is_file(), f"{page or '/'} is not in the site"
        screenshot = folder / name
        screenshot.unlink(missing_ok=True)
        url, window_width = layout_url(base_url, page, width, height)
        run_chromium(
            chromium,
            tmp_path / f"profile-{index}",
            f"--screenshot={screenshot}",
            f"--window-size={window_width},{height}",
            url,
        )
        assert screenshot.is_file(), f"no screenshot of {page or '/'}"
        size = screenshot.stat().st_size
        assert size > MIN_SCREENSHOT_BYTES, f"{screenshot}: {size} bytes, a blank page?"


def _text(path: Path) -> str:
    """A built page's text, tags removed and spaces folded."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))).split())


def test_the_pages_show_the_evidence(site_dir: Path) -> None:
    """Every served resource on the home page and in its picture; whole step messages; what a
    downloaded notebook needs; the clients' constructors and inherited members; session pictures
    described by their titles."""
    home = _text(site_dir / "index.html")
    architecture = (site_dir / "architecture.svg").read_text(encoding="utf-8")
    for service in ("logger_service", "results_service"):
        assert service in home, service
        assert f">{service}</text>" in architecture, service

    teststand = _text(site_dir / "notebooks" / "05_teststand_session_sharing" / "index.html")
    assert "is not a pin, pin group, relay or relay group of the pin map." in teststand

    notebooks = [source for _, source in _nav_pages(_config()["nav"]) if source.endswith(".ipynb")]
    for source in notebooks:
        page = (site_dir / _page_path(source) / "index.html").read_text(encoding="utf-8")
        note = _text(site_dir / _page_path(source) / "index.html")
        assert "Run this notebook yourself" in note, source
        assert "course_support.py" in note and "jupyter lab notebooks/" in note, source
        assert 'href="../../install/#the-notebooks"' in page, source
        assert "No description has been provided for this image" not in page, source

    behaviours = (site_dir / "notebooks" / "03_initialization_behaviors" / "index.html").read_text(
        encoding="utf-8"
    )
    assert 'alt="MyLoggerClient"' in behaviours and 'alt="JsonLoggerClient"' in behaviours

    for page, client in (
        ("logger_client", "logger_client.session.JsonLoggerClient"),
        ("results_database", "results_client.session.ResultsDatabaseClient"),
    ):
        built = (site_dir / "reference" / page / "index.html").read_text(encoding="utf-8")
        heading = built.index(f'id="{client}"')
        signature = " ".join(
            unescape(re.sub(r"<[^>]+>", " ", built[heading : heading + 4000])).split()
        )
        assert re.search(r"\( resource_name ?: .*initialization_behavior ?: Session", signature), (
            client
        )
        for inherited in ("initialize", "close_session", "is_open"):
            assert f'id="{client}.{inherited}"' in built, f"{client}.{inherited}"
