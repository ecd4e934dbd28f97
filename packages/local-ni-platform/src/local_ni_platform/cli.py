"""``local-ni-platform`` / ``python -m local_ni_platform``: run the local NI platform until stopped.

Prints one ready line to stdout when the services accept calls, logs to stderr, and stops
cleanly (exit code 0, key file removed) on Enter, Ctrl+C or SIGTERM, including a signal that
arrives while starting or right after the ready line (``StopRequests`` is entered first).
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from local_ni_platform import activation
from local_ni_platform.platform import LocalPlatform, LocalPlatformError
from session_core.hosting import StopRequests, announce_ready

_logger = logging.getLogger(__name__)

READY_PREFIX = "Local NI platform ready: "
"""How the ready line starts, printed once the platform serves."""


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=(
        f"Folder for the key file (default: ${activation.STATE_DIR_ENV_VAR}, else "
        "$XDG_RUNTIME_DIR/ni-local-platform, else a per-user temporary folder). Clients find a "
        f"non-default folder through {activation.STATE_DIR_ENV_VAR}."
    ),
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(*, state_dir: Path | None, verbose: bool) -> None:
    """Run stand-ins for NI's platform services, for machines without NI software.

    One process hosts the Discovery, Pin Map and Session Management services and a simulated NI
    gRPC Device Server (NI-DCPower, NI-DMM); NI's own Python clients find it through the key file.
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    platform = LocalPlatform(state_dir=state_dir)
    with StopRequests() as stop_requests:
        try:
            platform.start()
        except (LocalPlatformError, OSError) as error:
            raise click.ClickException(str(error)) from error
        try:
            if platform.state_dir.resolve() != activation.state_dir().resolve():
                _logger.info(
                    "Clients reach this platform only with %s=%s in their environment.",
                    activation.STATE_DIR_ENV_VAR,
                    platform.state_dir,
                )
            served = ", ".join(service.display_name for service in platform.hosted_services)
            announce_ready(
                f"{READY_PREFIX}discovery at {platform.discovery_address} "
                f"(key file: {platform.discovery_key_file}); also serving: {served or 'nothing'}"
            )
            stop_requests.wait()
        finally:
            platform.stop()
