"""``python -m connection_service`` / ``instrument-connection-service``: run the service."""

from __future__ import annotations

import click
import pyvisa

from connection_service.server import (
    DEFAULT_HOST,
    DEFAULT_VISA_LIBRARY,
    InstrumentConnectionServer,
)
from service_cli.logs import configure_logging
from service_cli.serving import call_limit_options, serve_until_stopped
from session_core import hosting


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to bind.")
@click.option("--port", default=0, show_default=True, help="Port to bind; 0 picks a free one.")
@click.option(
    "--no-discovery",
    is_flag=True,
    help="Do not register with the NI Discovery Service (clients must be given the address).",
)
@click.option(
    "--visa-library",
    default=DEFAULT_VISA_LIBRARY,
    show_default=True,
    metavar="LIBRARY",
    help="The VISA library PyVISA uses: @py (pyvisa-py, pure Python), '' (the VISA library "
    "installed, e.g. NI-VISA) or FILE.yaml@sim (pyvisa-sim's simulated devices).",
)
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@call_limit_options
def main(
    host: str,
    port: int,
    no_discovery: bool,
    visa_library: str,
    verbose: int,
    limits: hosting.CallLimits,
) -> None:
    """Serve connections to devices that take one client at a time (VISA resource strings)
    until Enter, Ctrl+C or SIGTERM. Stopping closes every connection.
    """
    configure_logging(verbose, program="instrument-connection-service")
    try:
        server = InstrumentConnectionServer(
            host=host,
            port=port,
            visa_library=visa_library,
            register_with_discovery=not no_discovery,
            limits=limits,
        )
    except (OSError, ValueError, pyvisa.errors.Error) as error:
        raise click.ClickException(
            f"cannot load the VISA library '{visa_library}': {error}"
        ) from None
    serve_until_stopped(server, module="connection_service")
