"""What the demo commands share: progress lines stamped with the time since the program
started, the problems a run found, and the command's frame (logging, a scratch log file unless
one is given, a non-zero exit that names the cause).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import click

_STARTED = time.monotonic()

log_option = click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Log file the steps share (default: a new file in a temporary folder).",
)
verbose_option = click.option("-v", "--verbose", is_flag=True, help="Show this process's logs.")


def progress(message: str) -> None:
    """Show what the demo is doing (this is a program's output, not a library's log)."""
    click.echo(f"[{time.monotonic() - _STARTED:5.2f}s] {message}")


def stopped(problems: list[str]) -> bool:
    """Say that everything was stopped and list the run's problems; return whether there were
    none.
    """
    progress("stopped everything the demo started")
    for problem in problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    return not problems


def run_command(
    run: Callable[[Path], bool],
    *,
    log_path: Path | None,
    scratch_name: str,
    verbose: bool,
    success: str,
) -> None:
    """Run a demo with ``log_path`` (default: ``scratch_name`` in a temporary folder); print
    ``success``, or exit non-zero with the cause.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr)
    with contextlib.ExitStack() as stack:
        if log_path is None:
            log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="demo-")))
            log_path = log_dir / scratch_name
        try:
            succeeded = run(log_path.resolve())
        except Exception as error:  # a program's last line of defence: say what went wrong
            raise click.ClickException(f"{type(error).__name__}: {error}") from error
    if not succeeded:
        raise click.ClickException("the demo found problems (listed above)")
    click.echo(success)
