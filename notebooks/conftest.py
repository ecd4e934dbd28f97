"""pytest settings for the notebooks (run by nbval)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Stored outputs show temporary paths, sanitized as /tmp/... by sanitize.cfg. The kernels inherit
# this environment, so TMPDIR is pinned where it points elsewhere (e.g. /var/folders on macOS).
if sys.platform != "win32" and Path("/tmp").is_dir():
    os.environ["TMPDIR"] = "/tmp"
