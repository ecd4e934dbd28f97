"""``python -m results_service`` / ``results-database-service``: run the service."""

from __future__ import annotations

import click

from results_service.server import DEFAULT_HOST, ResultsDatabaseServer
from service_cli.logs import configure_logging
from service_cli.serving import call_limit_options, serve_until_stopped
from session_core import hosting, paths


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to bind.")
@click.option("--port", default=0, show_default=True, help="Port to bind; 0 picks a free one.")
@click.option(
    "--no-discovery",
    is_flag=True,
    help="Do not register with the NI Discovery Service (clients must be given the address).",
)
@click.option(
    paths.ALLOW_DIR_OPTION,
    "allow_dirs",
    multiple=True,
    envvar="RESULTS_DATABASE_ALLOW_DIRS",
    type=click.Path(file_okay=False),
    help="Only open SQLite files in this folder (repeatable; or RESULTS_DATABASE_ALLOW_DIRS, "
    "folders separated like PATH). Default: anywhere the service user can write.",
)
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@call_limit_options
def main(
    host: str,
    port: int,
    no_discovery: bool,
    allow_dirs: tuple[str, ...],
    verbose: int,
    limits: hosting.CallLimits,
) -> None:
    """Serve results databases (SQLite files, PostgreSQL) as shareable sessions, one transaction
    each, until Enter, Ctrl+C or SIGTERM. Stopping rolls back what was not committed.
    """
    configure_logging(verbose, program="results-database-service")
    allowed = paths.allowed_folders(allow_dirs)
    hosting.warn_if_exposed(host, allowed)
    server = ResultsDatabaseServer(
        host=host,
        port=port,
        allowed_dirs=allowed,
        register_with_discovery=not no_discovery,
        limits=limits,
    )
    serve_until_stopped(server, module="results_service")
