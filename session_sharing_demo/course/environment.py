"""What a notebook starts: a private work folder, the NI platform, the logger, the plug-ins.

Everything is stopped by :meth:`Course.close` (the last cell of every notebook). Logs go to a file
in the work folder, never to a cell's output, so stored outputs stay comparable (nbval).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from session_core.process import ServiceProcess
from session_sharing_demo.services import (
    PLUGINS,
    register_pin_map,
    start_ni_platform,
    start_processes,
)

WORK_DIR_PREFIX = "course-"


class Course:
    """The services one notebook uses, in a private folder; :meth:`close` stops them all."""

    def __init__(self) -> None:
        self.work_dir = Path(tempfile.mkdtemp(prefix=WORK_DIR_PREFIX))
        self._stack = contextlib.ExitStack()
        self._stack.callback(shutil.rmtree, self.work_dir, ignore_errors=True)
        self.platform_description = ""
        self.local_platform: object | None = None
        """The in-process local platform, when this notebook started one."""
        self.pin_map_id = ""
        self.logger: ServiceProcess | None = None
        self.results: ServiceProcess | None = None
        self.plugins: dict[str, ServiceProcess] = {}
        handler = _log_to_file(self.work_dir / "course.log")
        self._stack.callback(_stop_logging_to, handler)
        # A platform of our own, found by every child process through this variable.
        os.environ["NI_LOCAL_PLATFORM_DIR"] = str(self.work_dir / "platform")

    @property
    def log_path(self) -> Path:
        """The shared log file the notebook's clients and plug-ins write to."""
        return self.work_dir / "shared-session.ndjson"

    def start_platform(self) -> str:
        """Start the NI platform stand-ins (or use NI's on Windows); return what was done."""
        self.platform_description, self.local_platform = start_ni_platform(self._stack)
        return self.platform_description

    def start_logger(self) -> ServiceProcess:
        """Start the JSON Logger Service in its own process (registered with discovery)."""
        self.logger, _, _ = start_processes(self._stack, plugins=(), results_service=False)
        return self.logger

    def start_logger_and_plugins(self) -> dict[str, ServiceProcess]:
        """Start the logger and both measurement plug-ins, each in its own process."""
        self.logger, self.results, self.plugins = start_processes(self._stack, plugins=PLUGINS)
        return self.plugins

    def register_pin_map(self) -> str:
        """Register the session-sharing pin map, naming :attr:`log_path` as the log file."""
        self.pin_map_id = register_pin_map(self._stack, self.log_path)
        return self.pin_map_id

    def close(self) -> str:
        """Stop everything this notebook started and remove its work folder."""
        self._stack.close()
        os.environ.pop("NI_LOCAL_PLATFORM_DIR", None)
        return "stopped everything this notebook started"


def _log_to_file(path: Path) -> logging.Handler:
    """Send this kernel's logs to a file: a cell's output must hold only what the cell shows."""
    handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler


def _stop_logging_to(handler: logging.Handler) -> None:
    logging.getLogger().removeHandler(handler)
    handler.close()
