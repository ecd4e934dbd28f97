"""Run the demo: start what is missing, run the TestStand sequence headlessly, report, stop."""

from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
import time
from pathlib import Path

import click
import grpc
from ni.measurementlink.sessionmanagement.v1.client import PinMapContext, SessionManagementClient

from json_logger import json_logger_pb2, json_logger_pb2_grpc
from logger_client import read_records
from session_sharing_demo.report import format_events, session_events
from session_sharing_demo.services import PLUGINS, Services, start_services
from teststand.runner import format_report, run_sequence
from teststand.sequence import load_sequence

_STARTED = time.monotonic()


def progress(message: str) -> None:
    """Show what the demo is doing (this is a program's output, not a library's log)."""
    click.echo(f"[{time.monotonic() - _STARTED:5.2f}s] {message}")


def leftovers(services: Services) -> list[str]:
    """Anything the run left open or registered; empty when Cleanup did its job."""
    found = []
    assert services.logger is not None
    with grpc.insecure_channel(services.logger.address) as channel:
        stub = json_logger_pb2_grpc.JsonLoggerStub(channel)
        open_files = stub.ListSessions(json_logger_pb2.ListSessionsRequest()).sessions
    found += [f"open log-file session {s.session_id} ({s.resource_name})" for s in open_files]
    sessions = SessionManagementClient()
    with sessions.reserve_all_registered_sessions(timeout=0) as reservation:
        found += [f"registered session {info.session_name}" for info in reservation.session_info]
    try:  # every session of the pin map must be free: reserving all of them at once succeeds
        with sessions.reserve_sessions(PinMapContext(services.pin_map_id, sites=[0]), timeout=0):
            pass
    except grpc.RpcError as error:
        found.append(f"a session is still reserved: {error.details()}")
    platform = services.local_platform
    if platform is not None:
        from local_ni_platform.device_server import DeviceServerPart
        from local_ni_platform.platform import LocalPlatform

        assert isinstance(platform, LocalPlatform)
        for part in platform.parts:
            if isinstance(part, DeviceServerPart):
                found += [f"open instrument session {name}" for name in part.repository.names()]
    return found


def run_demo(log_path: Path) -> bool:
    """Start everything, run the sequence, print the results; return whether all is well."""
    sequence = load_sequence()
    with contextlib.ExitStack() as stack:
        progress("starting the NI platform, the JSON Logger Service and both plug-ins")
        services = start_services(stack, log_path)
        progress(services.platform_description)
        assert services.logger is not None
        progress(f"JSON Logger Service at {services.logger.address}")
        for name, process in services.plugins.items():
            progress(f"plug-in '{name}' at {process.address}")
        progress(f"running the sequence '{sequence.name}' (Setup, Main, Cleanup)")
        report = run_sequence(sequence, services.pin_map_id)
        click.echo(format_report(report))

        records = read_records(log_path) if log_path.exists() else []
        click.echo(f"\nThe shared log {log_path}:")
        for line in log_path.read_text(encoding="utf-8").splitlines() if records else []:
            click.echo(f"  {line}")
        click.echo("\nWho created, attached to and closed the file session:")
        plugin_names = {p.service_class: p.display_name for p in PLUGINS}
        click.echo(format_events(session_events(sequence, report, records, plugin_names)))

        problems = [f"step '{r.name}' failed" for r in report.failed]
        session_ids = {str(r.get("session_id")) for r in records}
        if len(records) != len(PLUGINS) or len(session_ids) != 1:
            problems.append(f"expected {len(PLUGINS)} records through one session, got {records}")
        problems += leftovers(services)
    progress("stopped everything the demo started")
    for problem in problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    return not problems


@click.command()
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Log file to share (default: a new file in a temporary folder).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show this process's logs.")
def main(log_path: Path | None, verbose: bool) -> None:
    """Run the TestStand session-sharing sequence end to end on one machine."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr)
    with contextlib.ExitStack() as stack:
        if log_path is None:
            log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="demo-")))
            log_path = log_dir / "shared-session.ndjson"
        try:
            succeeded = run_demo(log_path.resolve())
        except Exception as error:  # a program's last line of defence: say what went wrong
            raise click.ClickException(f"{type(error).__name__}: {error}") from error
    if not succeeded:
        raise click.ClickException("the demo found problems (listed above)")
    click.echo(
        "Demo succeeded: one file session, created in Setup, shared by both steps, "
        "closed in Cleanup."
    )


if __name__ == "__main__":
    main()
