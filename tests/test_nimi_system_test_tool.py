"""``tools/nimi_system_tests``: NI's way of starting its device server starts ours instead.

NI's ``GrpcServerProcess`` runs ``<exe> <config.json>``, reads stdout until ``Server listening on
port N`` and connects to ``localhost:N``; this does the same with the tool's server (NI's tests
themselves need nimi-python, which CI cannot fetch).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grpc
import nidcpower

SERVER = Path(__file__).resolve().parents[1] / "tools" / "nimi_system_tests" / "device_server.py"


def test_the_server_prints_nis_ready_line_and_serves_the_drivers(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, str(SERVER), str(tmp_path / "grpc_server_config.json")],
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        match = re.search(rb"Server listening on port (\d+)", process.stdout.readline())
        assert match is not None
        with grpc.insecure_channel(f"localhost:{int(match.group(1))}") as channel:
            options = nidcpower.GrpcSessionOptions(channel, "")
            with nidcpower.Session("4162", options="Simulate=1", grpc_options=options) as smu:
                assert smu.channel_count == 4  # no Model: the default PXIe-4141
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
