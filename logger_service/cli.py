"""``python -m logger_service`` / ``json-logger-service``: run the JSON Logger Service."""

from __future__ import annotations

import logging
import sys

import click

from logger_service import hosting
from logger_service.server import DEFAULT_HOST, JsonLoggerServer

_logger = logging.getLogger(__name__)

READY_PREFIX = "JSON Logger Service listening on "


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to bind.")
@click.option("--port", default=0, show_default=True, help="Port to bind; 0 picks a free one.")
@click.option(
    "--no-discovery",
    is_flag=True,
    help="Do not register with the NI Discovery Service (clients must be given the address).",
)
@click.option("--fsync", is_flag=True, help="Make every acknowledged record durable (slower).")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def main(host: str, port: int, no_discovery: bool, fsync: bool, verbose: int) -> None:
    """Serve JSON-lines log files as shareable sessions until Enter, Ctrl+C or SIGTERM."""
    logging.basicConfig(
        level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if sys.platform != "win32":
        from local_ni_platform.activation import activate

        activate()
    server = JsonLoggerServer(
        host=host, port=port, fsync=fsync, register_with_discovery=not no_discovery
    )
    with hosting.StopRequests() as stop_requests:
        try:
            address = server.start()
        except Exception as error:
            raise click.ClickException(
                f"could not start: {error}. Is the NI Discovery Service running? On a machine "
                "without NI software start the local one with `local-ni-platform`; or run with "
                "--no-discovery --port N and give clients the address."
            ) from error
        try:
            registered = " (registered with the NI Discovery Service)" if server.registered else ""
            hosting.announce_ready(f"{READY_PREFIX}{address}{registered}")
            stop_requests.wait()
        finally:
            server.stop()
