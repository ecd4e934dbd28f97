"""Stand-in for NI's ``ni_grpc_device_server.exe`` as nimi-python's gRPC system tests start it.

NI's ``system_test_utilities.GrpcServerProcess`` runs ``<server> <config.json>`` and reads the
server's standard output until ``Server listening on port <N>``; the tests then connect to
``localhost:<N>``. This hosts the local platform (its Discovery, Pin Map, Session Management and
Device Server parts, as ``local-ni-platform`` does) on a free loopback port, in a private state
folder so it never disturbs a platform already running, and prints that line. The config file
is ignored. It stops on SIGTERM/SIGINT, or when the process that started it is gone.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

from local_ni_platform.platform import LocalPlatform

READY_LINE = "Server listening on port {port}"
"""What NI's ``GrpcServerProcess`` waits for (``Server listening on port (\\d+)``)."""


def main() -> int:
    """Serve until stopped; the platform's log goes to stderr."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    parent = os.getppid()
    with (
        tempfile.TemporaryDirectory(prefix="nimi-system-tests-") as state_dir,
        LocalPlatform(state_dir=Path(state_dir)) as platform,
    ):
        print(READY_LINE.format(port=platform.discovery_port), flush=True)
        while not stop.wait(0.5) and os.getppid() == parent:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
