"""A real PostgreSQL server for the tests and the benchmark: started on loopback, stopped after.

It uses the server binaries of the machine (Debian's ``postgresql`` package, which ``.ci/run``
installs; ``initdb`` on PATH or under ``/usr/lib/postgresql/*/bin``). initdb and postgres refuse to
run as root, so as root they run as the ``postgres`` user the package creates. Password
authentication (SCRAM) is on, so wrong credentials are refused as on a real results store.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

SUPERUSER = "results"
PASSWORD = "station-secret"
DATABASE = "results_test"


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bin_dir() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    raise PostgresUnavailableError(
        "PostgreSQL server binaries not found (install Debian's `postgresql` package; .ci/run does)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """One throw-away cluster in a temporary folder, listening on 127.0.0.1 only."""

    bin_dir: Path
    port: int = 0
    folder: Path | None = None

    @property
    def url(self) -> str:
        """The URL of the test database, with its password."""
        return self.url_for(DATABASE)

    def url_for(self, database: str, *, password: str = PASSWORD, user: str = SUPERUSER) -> str:
        """A URL on this server."""
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """initdb, start, create the test database."""
        self.port = self.port or _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="results-postgres-"))
        data = self.folder / "data"
        password_file = self.folder / "password"
        password_file.write_text(PASSWORD, encoding="utf-8")
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            shutil.chown(password_file, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            "--auth=scram-sha-256",
            f"--pwfile={password_file}",
            "--no-sync",
            "--encoding=UTF8",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"
        )
        import psycopg

        with psycopg.connect(self.url_for("postgres"), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")

    def stop(self) -> None:
        """Stop fast and remove the folder."""
        if self.folder is None:
            return
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def restart(self) -> None:
        """Stop at once and start again, data kept: every connection is dropped."""
        assert self.folder is not None, "the server is not running"
        data, log = str(self.folder / "data"), str(self.folder / "log")
        self._run("pg_ctl", "-D", data, "-l", log, "-m", "immediate", "-w", "restart")

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self.bin_dir / program), *arguments]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stdout}{result.stderr}")

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
