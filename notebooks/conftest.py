"""pytest settings for the notebooks (run by nbval)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Stored outputs show temporary paths, sanitized as /tmp/... by sanitize.cfg. The kernels inherit
# this environment, so TMPDIR is pinned where it points elsewhere (e.g. /var/folders on macOS).
if sys.platform != "win32" and Path("/tmp").is_dir():
    os.environ["TMPDIR"] = "/tmp"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The notebooks' cells are slow tests (``-m "not slow"`` leaves them out)."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
