"""Run a module as ``python -m`` does, under resource limits taken from the environment: how the
tests give a real service a full disk (``LIMIT_FILE_BYTES``: RLIMIT_FSIZE, so writes past it fail
as on a full disk) or few file descriptors (``LIMIT_OPEN_FILES``: RLIMIT_NOFILE).

With ``KILLED_AT_FILE_LIMIT=1`` a write past ``LIMIT_FILE_BYTES`` kills the process instead
(SIGXFSZ's default action, which Python turns off): the kernel first writes what fits, so the
process dies in the middle of a large write, as a crash or a SIGKILL can leave it.

    python -m tests.limited_process results_service --no-discovery

:func:`limited_service` gives the tests such a process of either service.
"""

from __future__ import annotations

import os
import resource
import runpy
import signal
import sys

from logger_service.server import DISPLAY_NAME as LOGGER_DISPLAY_NAME
from results_service.server import DISPLAY_NAME as RESULTS_DISPLAY_NAME
from session_core.hosting import ready_prefix
from session_sharing_demo.child_process import ServiceProcess

LIMITS = {"LIMIT_FILE_BYTES": resource.RLIMIT_FSIZE, "LIMIT_OPEN_FILES": resource.RLIMIT_NOFILE}


def limited_service(service: str, **limits: int) -> ServiceProcess:
    """A not yet started ``logger`` or ``results`` service process with ``limits`` applied."""
    module, display_name = {
        "logger": ("logger_service", LOGGER_DISPLAY_NAME),
        "results": ("results_service", RESULTS_DISPLAY_NAME),
    }[service]
    env = {**os.environ, **{name: str(value) for name, value in limits.items()}}
    return ServiceProcess(
        [module, "--no-discovery"],
        module="tests.limited_process",
        ready_prefix=ready_prefix(display_name),
        env=env,
    )


if __name__ == "__main__":
    if os.environ.get("KILLED_AT_FILE_LIMIT") == "1":
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    for variable, limit in LIMITS.items():
        if variable in os.environ:
            value = int(os.environ[variable])
            resource.setrlimit(limit, (value, resource.getrlimit(limit)[1]))
    module, sys.argv = sys.argv[1], [sys.argv[1], *sys.argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
