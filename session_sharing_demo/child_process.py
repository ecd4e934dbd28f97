"""Start a server as a child process and wait for its ready line.

Used by the demo, the tests, the benchmarks and the notebooks: a real server in a real process,
found by the address it prints (or through discovery), stopped with SIGTERM (CTRL_BREAK on
Windows). Not part of the session core: a service never starts another.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

_logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0


class ServiceProcessError(RuntimeError):
    """The child process did not become ready."""


class ServiceProcess:
    """A child process running ``python -m <module>`` that prints one ready line."""

    def __init__(
        self,
        arguments: Sequence[str] = (),
        *,
        module: str,
        ready_prefix: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.arguments = list(arguments)
        self.module = module
        self.ready_prefix = ready_prefix
        self.ready_line = ""
        self._env = dict(os.environ if env is None else env)
        self._cwd = cwd
        self._log_file = log_file
        self._process: subprocess.Popen[str] | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=200)
        self._stderr_thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        """``host:port`` from the ready line."""
        rest = self.ready_line[len(self.ready_prefix) :]
        return rest.split()[0]

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._require_process().pid

    def start(self, timeout: float = STARTUP_TIMEOUT_SECONDS) -> str:
        """Start the child and return its ready line; raise with its output if it fails."""
        creationflags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        self._process = subprocess.Popen(
            [sys.executable, "-m", self.module, *self.arguments],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self._env,
            cwd=self._cwd,
            creationflags=creationflags,
        )
        assert self._process.stdout is not None and self._process.stderr is not None
        self._stderr_thread = threading.Thread(
            target=_drain_stderr,
            args=(self._process.stderr, self._stderr_tail, self._log_file),
            daemon=True,
        )
        self._stderr_thread.start()
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=_forward_lines, args=(self._process.stdout, lines), daemon=True
        ).start()
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise ServiceProcessError(
                f"{self.module} printed no ready line within {timeout} s"
            ) from None
        if not line.startswith(self.ready_prefix):
            output = self._collect_failure_output(line)
            raise ServiceProcessError(f"{self.module} failed to start:\n{output}")
        self.ready_line = line
        return line

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """Ask the child to stop gracefully; kill it if it does not; return its exit code."""
        process = self._require_process()
        if process.poll() is None:
            if sys.platform == "win32":
                process.send_signal(signal.CTRL_BREAK_EVENT)
            else:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _logger.warning("%s did not stop in %s s; killing it.", self.module, timeout)
                process.kill()
                process.wait()
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=STOP_TIMEOUT_SECONDS)
        return process.returncode

    def wait(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """Wait for the child to exit by itself; return its exit code."""
        code = self._require_process().wait(timeout=timeout)
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=timeout)
        return code

    def send_signal(self, signum: int) -> None:
        """Send a signal to the child (e.g. SIGTERM to ask it to stop)."""
        self._require_process().send_signal(signum)

    @property
    def stderr_tail(self) -> str:
        """The last lines the child wrote to stderr (its log)."""
        return "".join(self._stderr_tail)

    def __enter__(self) -> ServiceProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _require_process(self) -> subprocess.Popen[str]:
        if self._process is None:
            raise RuntimeError("the process has not been started")
        return self._process

    def _collect_failure_output(self, first_line: str) -> str:
        self.stop()
        return "\n".join(part for part in (first_line, self.stderr_tail) if part).strip()


def _forward_lines(stream: IO[str], lines: queue.Queue[str]) -> None:
    """Hand the first line over, then drain stdout so the child never blocks on a full pipe."""
    first = True
    for line in stream:
        if first:
            lines.put(line.rstrip("\n"))
            first = False
    if first:
        lines.put("")


def _drain_stderr(stream: IO[str], tail: collections.deque[str], log_file: Path | None) -> None:
    """Keep the child's stderr flowing (a full pipe would block it); keep its last lines."""
    sink = log_file.open("a", encoding="utf-8") if log_file is not None else None
    try:
        for line in stream:
            tail.append(line)
            if sink is not None:
                sink.write(line)
                sink.flush()
    finally:
        if sink is not None:
            sink.close()
