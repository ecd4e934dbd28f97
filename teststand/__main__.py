"""``python -m teststand``: run the session-sharing sequence headless, print the step report.

It uses services that are already running (the NI platform or the local one, the JSON Logger
Service and the measurement plug-ins) and starts none. Without ``--pin-map-id`` it registers the
pin map the sequence description names with the running Pin Map Service. The exit code is 0 when
every step passed, 1 when a step failed, 2 for a usage or description error.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from teststand.runner import ModuleNameCollisionError, format_report, run_sequence, run_sockets
from teststand.sequence import DEFAULT_SEQUENCE_PATH, SequenceDescriptionError, load_sequence


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--sequence",
    "sequence_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_SEQUENCE_PATH,
    show_default=True,
    help="Sequence description to run.",
)
@click.option(
    "--pin-map-id",
    default=None,
    help="Id of a registered pin map (default: register the description's pin map).",
)
@click.option(
    "--stop-on-failure",
    is_flag=True,
    help="Skip the remaining Main steps after a failed one (Cleanup still runs).",
)
@click.option(
    "--sockets",
    type=click.IntRange(min=1),
    default=None,
    help="Run the sequence on this many test sockets at once (socket N on site N), as "
    "TestStand's parallel process model does; --stop-on-failure does not apply.",
)
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def main(
    sequence_path: Path,
    pin_map_id: str | None,
    stop_on_failure: bool,
    sockets: int | None,
    verbose: int,
) -> None:
    """Run a TestStand sequence description without TestStand."""
    logging.basicConfig(
        level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        sequence = load_sequence(sequence_path)
    except SequenceDescriptionError as error:
        raise click.UsageError(str(error)) from error
    if pin_map_id is None:
        pin_map_id = _register_pin_map(sequence.pin_map)
    try:
        if sockets is None:
            reports = [run_sequence(sequence, pin_map_id, stop_on_failure=stop_on_failure)]
        else:
            reports = run_sockets(sequence, pin_map_id, sockets)
    except ModuleNameCollisionError as error:
        raise click.UsageError(str(error)) from error
    click.echo("\n\n".join(format_report(report) for report in reports))
    sys.exit(0 if all(report.passed for report in reports) else 1)


def _register_pin_map(pin_map: Path | None) -> str:
    """Register the pin map with the running Pin Map Service; return its id."""
    from ni.measurementlink.pinmap.v1.client import PinMapClient

    if pin_map is None:
        raise click.UsageError("the sequence names no pin map: give --pin-map-id")
    if not pin_map.is_file():
        raise click.UsageError(f"pin map {pin_map} not found: give --pin-map-id")
    try:
        with PinMapClient() as client:
            pin_map_id: str = client.update_pin_map(pin_map)
    except Exception as error:
        raise click.ClickException(
            f"could not register the pin map {pin_map}: {error}. Is the NI platform running "
            "(`local-ni-platform` on a machine without NI software)?"
        ) from error
    return pin_map_id


if __name__ == "__main__":
    main()
