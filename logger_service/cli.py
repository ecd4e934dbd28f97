"""``python -m logger_service`` / ``json-logger-service``: run the JSON Logger Service."""

from __future__ import annotations

import sys

import click

from logger_service.server import DEFAULT_HOST, JsonLoggerServer
from session_core import hosting
from session_core.service_host import serve_until_stopped


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
    hosting.configure_logging(verbose)
    if sys.platform != "win32":
        from local_ni_platform.activation import activate

        activate()
    server = JsonLoggerServer(
        host=host, port=port, fsync=fsync, register_with_discovery=not no_discovery
    )
    serve_until_stopped(server, module="logger_service")
