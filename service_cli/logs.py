"""Where this project's programs (both services, the plug-ins) write their logs.

A service started by the NI Discovery Service on Windows has no console: without a log file, a
service that fails to start leaves no trace. The folder is per user and the files are rotated.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

LOG_DIR_ENV_VAR = "SESSION_SHARING_LOG_DIR"
LOG_FILE_MAX_BYTES = 1024 * 1024
LOG_FILE_BACKUPS = 4
"""A log file is rotated at 1 MiB and 4 old ones are kept: at most 5 MiB a program, never more."""


def default_log_dir() -> Path:
    """The per-user folder for log files: ``ni-arbitrary-session-sharing/logs`` in
    ``%LOCALAPPDATA%`` on Windows, in ``$XDG_STATE_HOME`` (default ``~/.local/state``) elsewhere.
    """
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "ni-arbitrary-session-sharing" / "logs"


def log_file_dir() -> Path | None:
    """Where this process writes its log file, if anywhere.

    ``$SESSION_SHARING_LOG_DIR`` when set (empty: nowhere). Otherwise, on Windows, when the process
    has no console (the NI Discovery Service starts services and plug-ins without one), the
    per-user :func:`default_log_dir`: a service that fails there must leave a trace.
    """
    configured = os.environ.get(LOG_DIR_ENV_VAR)
    if configured is not None:
        return Path(configured) if configured.strip() else None
    if sys.platform == "win32" and (sys.stderr is None or not sys.stderr.isatty()):
        return default_log_dir()
    return None


def configure_logging(verbose: int, *, program: str | None = None) -> Path | None:
    """Log to stderr: warnings by default, ``-v`` info, ``-vv`` debug; and, where
    :func:`log_file_dir` says so, to a rotated ``<program>.log`` (info and above). Return that file.
    """
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handlers: list[logging.Handler] = []
    if sys.stderr is not None:
        handlers.append(logging.StreamHandler(sys.stderr))
        handlers[0].setLevel(level)
    folder = log_file_dir()
    log_file = None
    if folder is not None:
        name = program or Path(sys.argv[0]).stem or "python"
        log_file = folder / f"{name}.log"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            file_handler = logging.handlers.RotatingFileHandler(
                log_file,
                maxBytes=LOG_FILE_MAX_BYTES,
                backupCount=LOG_FILE_BACKUPS,
                encoding="utf-8",
            )
        except OSError as error:
            log_file = None
            print(f"cannot write the log file in {folder}: {error}", file=sys.stderr or sys.stdout)
        else:
            file_handler.setLevel(min(level, logging.INFO))
            handlers.append(file_handler)
    for handler in handlers:
        handler.setFormatter(logging.Formatter(log_format))
    logging.basicConfig(
        level=min(h.level for h in handlers) if handlers else level, handlers=handlers
    )
    if log_file is not None:
        logging.getLogger(__name__).warning("Logging to %s (pid %d).", log_file, os.getpid())
    return log_file
