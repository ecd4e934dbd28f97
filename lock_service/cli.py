"""``python -m lock_service`` / ``hardware-lock-service``: run the service."""

from __future__ import annotations

import click

from lock_service.backends import Backend, MemoryBackend, PostgresBackend
from lock_service.server import DEFAULT_HOST, HardwareLockServer
from lock_service.servicer import DEFAULT_LEASE_SECONDS, MAX_LEASE_SECONDS
from service_cli.logs import configure_logging
from service_cli.serving import call_limit_options, serve_until_stopped
from session_core import hosting
from session_core.errors import ServiceError


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to bind.")
@click.option("--port", default=0, show_default=True, help="Port to bind; 0 picks a free one.")
@click.option(
    "--no-discovery",
    is_flag=True,
    help="Do not register with the NI Discovery Service (clients must be given the address).",
)
@click.option(
    "--postgresql",
    "postgresql_url",
    envvar="HARDWARE_LOCK_POSTGRESQL",
    metavar="URL",
    help="Hold the locks on this PostgreSQL server (postgresql://user@host/db), shared with every "
    "service pointed at it; or HARDWARE_LOCK_POSTGRESQL, which keeps a password off the command "
    "line. Default: in this service's memory.",
)
@click.option(
    "--default-lease",
    type=click.FloatRange(min=0.001),
    default=DEFAULT_LEASE_SECONDS,
    show_default=True,
    help="Seconds a hold lasts without a renewal, when the caller asks for no lease.",
)
@click.option(
    "--max-lease",
    type=click.FloatRange(min=0.001),
    default=MAX_LEASE_SECONDS,
    show_default=True,
    help="The longest lease a caller may ask for, in seconds.",
)
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@call_limit_options
def main(
    host: str,
    port: int,
    no_discovery: bool,
    postgresql_url: str | None,
    default_lease: float,
    max_lease: float,
    verbose: int,
    limits: hosting.CallLimits,
) -> None:
    """Serve named hardware locks (one holder at a time, waiters first come first served) until
    Enter, Ctrl+C or SIGTERM. Stopping ends every hold.
    """
    configure_logging(verbose, program="hardware-lock-service")
    if default_lease > max_lease:
        raise click.BadParameter(
            f"{default_lease:g} s is longer than --max-lease ({max_lease:g} s)",
            param_hint="--default-lease",
        )
    backend: Backend = MemoryBackend()
    if postgresql_url:
        try:
            backend = PostgresBackend(postgresql_url)
        except ServiceError as error:
            raise click.ClickException(error.message) from None
    server = HardwareLockServer(
        host=host,
        port=port,
        backend=backend,
        default_lease=default_lease,
        max_lease=max_lease,
        register_with_discovery=not no_discovery,
        limits=limits,
    )
    serve_until_stopped(server, module="lock_service")
