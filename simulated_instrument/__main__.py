"""``python -m simulated_instrument [--host H] [--port N]``: serve the simulated SCPI instrument
until Enter, Ctrl+C or SIGTERM; the ready line names its address and VISA resource string.
"""

from __future__ import annotations

import logging

import click

from session_core.hosting import StopRequests, announce_ready
from simulated_instrument.server import READY_PREFIX, InstrumentServer


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=5025, show_default=True, help="Port to bind; 0 picks a free one.")
@click.option("-v", "--verbose", is_flag=True, help="Log each connection.")
def main(host: str, port: int, verbose: bool) -> None:
    """A SCPI instrument on a raw TCP socket, one client at a time."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    with StopRequests() as stop_requests, InstrumentServer(host=host, port=port) as server:
        announce_ready(f"{READY_PREFIX}{server.host}:{server.port} ({server.resource_name})")
        stop_requests.wait()


if __name__ == "__main__":
    main()
