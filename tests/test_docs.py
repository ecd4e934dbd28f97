"""The site: built strictly (every notebook executed), then every page opened in headless Chromium.

The build is ``mkdocs build --strict`` with the repository's ``mkdocs.yml``: a warning, a broken
Markdown link or a notebook cell that raises (``allow_errors: false``) fails it. The built site is
then served on loopback and every page is loaded in Debian's Chromium, after its scripts ran: it
must show its title, and every link, script, stylesheet and image it references on the same
origin must exist in the built site. Screenshots of the home page and of the behaviours notebook
go to ``$DOCS_SCREENSHOT_DIR`` (default: a temporary folder).

Chromium missing: skipped locally, a failure in CI (``$CI`` set; ``.ci/run`` installs it).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import pytest

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
    "--virtual-time-budget=5000",  # let the page's scripts run before the DOM is dumped
)
BUILD_TIMEOUT_SECONDS = 270.0
CELL_TIMEOUT_SECONDS = 120  # one notebook cell, while the site builds (nbclient has none)
CHROMIUM_TIMEOUT_SECONDS = 60.0
MIN_SCREENSHOT_BYTES = 10_000
SCREENSHOTS = {
    "home.png": "",
    "03_initialization_behaviors.png": "notebooks/03_initialization_behaviors/",
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
        output = f"{error.stdout or ''}{error.stderr or ''}"
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


# -- what the site should contain ------------------------------------------------------------------


class _ConfigLoader(yaml.SafeLoader):
    """Reads mkdocs.yml without importing what its ``!!python/name:`` tags name."""


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
    docs_dir = ROOT / config.get("docs_dir", "docs")
    titles: dict[str, set[str]] = {}
    for title, source in _nav_pages(config["nav"]):
        accepted = {title}
        if source.endswith(".ipynb"):
            h1 = _notebook_h1(docs_dir / source)
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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base_url(site_dir: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
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


def load_dom(chromium: Path, profile: Path, url: str) -> Dom:
    return parse_dom(run_chromium(chromium, profile, "--dump-dom", url).stdout)


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


def test_every_page_renders_its_title_without_broken_links(
    site_dir: Path, base_url: str, chromium: Path, tmp_path: Path
) -> None:
    titles = expected_titles()
    pages = site_pages(site_dir)
    missing = sorted(set(titles) - set(pages))
    assert not missing, f"nav pages missing from the built site: {missing}"

    def check(index_and_page: tuple[int, str]) -> list[str]:
        index, page = index_and_page
        dom = load_dom(chromium, tmp_path / f"profile-{index}", base_url + page)
        problems = []
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
        return problems

    with ThreadPoolExecutor(max_workers=2) as pool:
        problems = [p for result in pool.map(check, enumerate(pages)) for p in result]
    assert not problems, "\n".join(problems)


def test_screenshots(site_dir: Path, base_url: str, chromium: Path, tmp_path: Path) -> None:
    folder = Path(os.environ.get("DOCS_SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    for index, (name, page) in enumerate(SCREENSHOTS.items()):
        assert (site_dir / page / "index.html").is_file(), f"{page or '/'} is not in the site"
        screenshot = folder / name
        screenshot.unlink(missing_ok=True)
        run_chromium(
            chromium,
            tmp_path / f"profile-{index}",
            f"--screenshot={screenshot}",
            "--window-size=1280,900",
            base_url + page,
        )
        assert screenshot.is_file(), f"no screenshot of {page or '/'}"
        size = screenshot.stat().st_size
        assert size > MIN_SCREENSHOT_BYTES, f"{screenshot}: {size} bytes, a blank page?"
