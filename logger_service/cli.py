"""``python -m logger_service`` / ``json-logger-service``: run the JSON Logger Service."""

from __future__ import annotations

import click

from logger_service.ndjson_log import DEFAULT_MAX_RECORD_BYTES, MAX_RECORD_BYTES_LIMIT
from logger_service.server import DEFAULT_HOST, JsonLoggerServer
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
@click.option("--fsync", is_flag=True, help="Make every acknowledged record durable (slower).")
@click.option(
    "--max-record-bytes",
    default=DEFAULT_MAX_RECORD_BYTES,
    show_default=True,
    type=click.IntRange(1, MAX_RECORD_BYTES_LIMIT),
    help="Longest record accepted, as one JSON line; longer ones get INVALID_ARGUMENT.",
)
@click.option(
    paths.ALLOW_DIR_OPTION,
    "allow_dirs",
    multiple=True,
    envvar="JSON_LOGGER_ALLOW_DIRS",
    type=click.Path(file_okay=False),
    help="Only open log files in this folder (repeatable; or JSON_LOGGER_ALLOW_DIRS, folders "
    "separated like PATH). Default: anywhere the service user can write.",
)
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@call_limit_options
def main(
    host: str,
    port: int,
    no_discovery: bool,
    fsync: bool,
    max_record_bytes: int,
    allow_dirs: tuple[str, ...],
    verbose: int,
    limits: hosting.CallLimits,
) -> None:
    """Serve JSON-lines log files as shareable sessions until Enter, Ctrl+C or SIGTERM."""
    configure_logging(verbose, program="json-logger-service")
    allowed = paths.allowed_folders(allow_dirs)
    hosting.warn_if_exposed(host, allowed)
    server = JsonLoggerServer(
        host=host,
        port=port,
        fsync=fsync,
        max_record_bytes=max_record_bytes,
        allowed_dirs=allowed,
        register_with_discovery=not no_discovery,
        limits=limits,
    )
    serve_until_stopped(server, module="logger_service")
