"""Run a module as ``python -m`` does, under resource limits taken from the environment: how the
tests give a real service a full disk (``LIMIT_FILE_BYTES``: RLIMIT_FSIZE, so writes past it fail
as on a full disk) or few file descriptors (``LIMIT_OPEN_FILES``: RLIMIT_NOFILE).

    python -m tests.limited_process results_service --no-discovery
"""

from __future__ import annotations

import os
import resource
import runpy
import sys

LIMITS = {"LIMIT_FILE_BYTES": resource.RLIMIT_FSIZE, "LIMIT_OPEN_FILES": resource.RLIMIT_NOFILE}

for variable, limit in LIMITS.items():
    if variable in os.environ:
        value = int(os.environ[variable])
        resource.setrlimit(limit, (value, resource.getrlimit(limit)[1]))
module, sys.argv = sys.argv[1], [sys.argv[1], *sys.argv[2:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
