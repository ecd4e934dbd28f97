"""pytest plugin: nimi-python's gRPC system tests start :mod:`device_server` instead of NI's exe.

NI's test files stay as NI wrote them. Their ``TestGrpc`` fixture starts the server through
``system_test_utilities.GrpcServerProcess``, whose ``_get_grpc_server_exe`` looks NI's executable
up in the Windows registry (and skips every test elsewhere). Only that method is replaced: it
returns a two-line launcher that runs :mod:`device_server` with this Python, so NI's own code
still starts the server, reads its port and kills it when the test class ends.
"""

from __future__ import annotations

import stat
import sys
import tempfile
from pathlib import Path

import system_test_utilities  # type: ignore[import-not-found]  # NI's, from src/shared

_LAUNCHER_DIR = Path(tempfile.mkdtemp(prefix="nimi-system-tests-launcher-"))
_DEVICE_SERVER = Path(__file__).with_name("device_server.py")


def _launcher() -> Path:
    launcher = _LAUNCHER_DIR / "ni_grpc_device_server"
    if not launcher.exists():
        launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{_DEVICE_SERVER}" "$@"\n')
        launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    return launcher


def _get_grpc_server_exe(self: object) -> Path:
    return _launcher()


system_test_utilities.GrpcServerProcess._get_grpc_server_exe = _get_grpc_server_exe
