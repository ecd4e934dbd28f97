"""Run the demo: start what is missing, share one file session between clients, report, stop."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import click
from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior

from logger_client import JsonLoggerClient, read_records
from logger_service.process import ServiceProcess, ServiceProcessError, start_logger_service

Behavior = SessionInitializationBehavior


@dataclass(frozen=True)
class Step:
    """One participant of the demo and what it did with the file session."""

    who: str
    behavior: Behavior
    session_id: str
    created: bool
    closed_on_exit: bool


_STARTED = time.monotonic()


def progress(message: str) -> None:
    """Show what the demo is doing (this is a program's output, not a library's log)."""
    click.echo(f"[{time.monotonic() - _STARTED:5.2f}s] {message}")


def start_ni_platform(stack: contextlib.ExitStack) -> str:
    """Use NI's services on Windows; elsewhere reuse or start the local stand-ins (on ``stack``)."""
    if sys.platform == "win32":
        return "using the NI Discovery Service installed with NI software"
    from local_ni_platform.activation import activate
    from local_ni_platform.platform import LocalPlatform, running_discovery_address

    activate()
    address = running_discovery_address()
    if address is not None:
        return f"using the local NI platform already running (discovery at {address})"
    state_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ni-platform-")))
    os.environ["NI_LOCAL_PLATFORM_DIR"] = str(state_dir)  # inherited by the child processes
    platform = stack.enter_context(LocalPlatform(state_dir=state_dir))
    return f"started the local NI platform (discovery at {platform.discovery_address})"


def share_one_session(log_path: Path) -> list[Step]:
    """Setup opens and detaches, two steps attach and log, Cleanup attaches and closes."""
    steps: list[Step] = []
    plan = [
        ("Setup", Behavior.INITIALIZE_SESSION_THEN_DETACH, None),
        ("Step 1: DC voltage", Behavior.AUTO, {"voltage_level": 5.0, "measured_v": 4.9998}),
        ("Step 2: DMM read", Behavior.AUTO, {"range": 10.0, "measured_value": 4.99995}),
        ("Cleanup", Behavior.ATTACH_TO_SESSION_THEN_CLOSE, None),
    ]
    for who, behavior, values in plan:
        with JsonLoggerClient(log_path, initialization_behavior=behavior) as client:
            if values is not None:
                configurations = {k: v for k, v in values.items() if not k.startswith("measured")}
                outputs = {k: v for k, v in values.items() if k.startswith("measured")}
                client.log_data(who, configurations, outputs)
        closed = not client.is_open
        steps.append(Step(who, behavior, client.session_id, client.new_session_initialized, closed))
        verb = "created" if client.new_session_initialized else "attached to"
        state = "closed it" if not client.is_open else "left it open"
        progress(f"{who:<20} {behavior.name:<31} {verb} {client.session_id[:8]}…, {state}")
    return steps


def report(steps: list[Step], log_path: Path) -> None:
    """Print the shared log and who created, attached to and closed the session."""
    click.echo(f"\nThe shared log {log_path}:")
    for line in log_path.read_text(encoding="utf-8").splitlines():
        click.echo(f"  {line}")
    click.echo("\nWho did what with the file session:")
    header = f"  {'participant':<20} {'behaviour':<31} {'session id':<36} {'new':<5} closed"
    click.echo(header)
    for step in steps:
        click.echo(
            f"  {step.who:<20} {step.behavior.name:<31} {step.session_id:<36} "
            f"{'yes' if step.created else 'no':<5} {'yes' if step.closed_on_exit else 'no'}"
        )


def check(steps: list[Step], log_path: Path) -> None:
    """Fail loudly unless everything went through one server session."""
    session_ids = {step.session_id for step in steps}
    records = read_records(log_path)
    if len(session_ids) != 1:
        raise click.ClickException(f"expected one shared session, saw {sorted(session_ids)}")
    if len(records) != 2 or {r["session_id"] for r in records} != session_ids:
        raise click.ClickException(f"expected 2 records from the shared session, got {records}")


@click.command()
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Log file to share (default: a new file in a temporary folder).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show the services' logs.")
def main(log_path: Path | None, verbose: bool) -> None:
    """Share one JSON-lines log session between several clients, end to end."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr)
    with contextlib.ExitStack() as stack:
        progress(start_ni_platform(stack))
        if log_path is None:
            log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="demo-")))
            log_path = log_dir / "shared-session.ndjson"
        log_path = log_path.resolve()
        try:
            service: ServiceProcess = start_logger_service()
        except ServiceProcessError as error:
            raise click.ClickException(str(error)) from error
        stack.callback(service.stop)
        progress(f"started the JSON Logger Service at {service.address} (pid {service.pid})")
        steps = share_one_session(log_path)
        report(steps, log_path)
        check(steps, log_path)
    progress("stopped everything the demo started")
    click.echo("Demo succeeded: one file session, shared by every step.")


if __name__ == "__main__":
    main()
