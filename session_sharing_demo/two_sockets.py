"""``python -m session_sharing_demo.two_sockets``: two test sockets run one sequence at once and
share one DMM under the Hardware Lock Service; print who held the lock when.

It starts what is missing (the NI platform, the JSON Logger Service, the Hardware Lock Service,
both plug-ins), registers ``pinmap/TwoSockets.pinmap`` and runs
``teststand/TwoSockets.sequence.json`` as TestStand's parallel process model would: socket 0 on
site 0 and socket 1 on site 1, at the same moment. Each socket's Setup waits for the lock, its
steps measure, its Cleanup releases it.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path

import click

from logger_client import read_records
from pinmap import TWO_SOCKETS_PIN_MAP_PATH
from session_sharing_demo.console import (
    log_option,
    progress,
    run_command,
    stopped,
    verbose_option,
)
from session_sharing_demo.leftovers import leftovers
from session_sharing_demo.services import (
    PLUGINS,
    Services,
    register_pin_map,
    start_ni_platform,
    start_processes,
)
from session_sharing_demo.timeline import (
    SocketLane,
    format_timeline,
    overlapping_holds,
    socket_lanes,
    timeline_svg,
)
from teststand.runner import RunReport, format_report, run_sockets
from teststand.sequence import TWO_SOCKETS_SEQUENCE_PATH, load_sequence

SOCKETS = 2
DMM_STEP = "NI-DMM measurement under the lock"


def fencing_tokens(log_path: Path, reports: list[RunReport]) -> dict[int, int]:
    """Each socket's fencing token, from the DMM record it logged while holding the lock."""
    lanes = socket_lanes(reports)
    origin = min(report.results[0].started_at for report in reports)
    tokens = {}
    for record in read_records(log_path) if log_path.exists() else []:
        configurations = record.get("measurement_configurations")
        token = configurations.get("fencing_token") if isinstance(configurations, dict) else None
        if token is None:
            continue
        logged = datetime.fromisoformat(str(record["timestamp"])).timestamp() - origin
        for lane in lanes:
            if lane.holding.start <= logged <= lane.holding.end:
                tokens[lane.socket] = int(token)
    return tokens


def check(lanes: list[SocketLane], reports: list[RunReport]) -> list[str]:
    """What would be wrong: a failed step, overlapping holds, tokens not growing."""
    problems = [f"socket {r.socket}: step '{s.name}' failed" for r in reports for s in r.failed]
    problems += [f"sockets {a} and {b} held the lock at once" for a, b in overlapping_holds(lanes)]
    tokens = [lane.fencing_token for lane in lanes]
    if None in tokens or tokens != sorted(tokens):  # type: ignore[type-var]
        problems.append(f"fencing tokens, in the order the sockets held the lock: {tokens}")
    return problems


def run_two_sockets(log_path: Path, svg_path: Path | None) -> bool:
    """Start everything, run the sockets, print the reports and the timeline; return whether all
    is well.
    """
    sequence = load_sequence(TWO_SOCKETS_SEQUENCE_PATH)
    with contextlib.ExitStack() as stack:
        progress("starting the NI platform, the JSON Logger, the Hardware Lock Service, plug-ins")
        description, platform = start_ni_platform(stack)
        services = Services(description, platform)
        services.pin_map_id = register_pin_map(stack, log_path, source=TWO_SOCKETS_PIN_MAP_PATH)
        started = start_processes(stack, plugins=PLUGINS, results_service=False, lock_service=True)
        services.logger, services.lock = started.logger, started.lock
        assert services.lock is not None
        progress(f"{description}; Hardware Lock Service at {services.lock.address}")

        progress(f"sockets 0 and 1 start the sequence '{sequence.name}' at once")
        reports = run_sockets(sequence, services.pin_map_id, SOCKETS)
        for report in reports:
            click.echo(format_report(report))
            click.echo("")
        lanes = socket_lanes(reports, fencing_tokens(log_path, reports))
        click.echo("Who held the lock 'Shared DMM' when (. waiting, # holding):")
        click.echo(format_timeline(lanes))
        if svg_path is not None:
            svg_path.write_text(timeline_svg(lanes), encoding="utf-8")
            progress(f"wrote the timeline picture {svg_path}")
        problems = check(lanes, reports) + leftovers(services)
    return stopped(problems)


@click.command()
@log_option
@click.option(
    "--timeline-svg",
    "svg_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also draw the timeline into this SVG file.",
)
@verbose_option
def main(log_path: Path | None, svg_path: Path | None, verbose: bool) -> None:
    """Two test sockets run one sequence at once and take turns on the shared DMM's lock."""
    run_command(
        lambda log: run_two_sockets(log, svg_path),
        log_path=log_path,
        scratch_name="two-sockets.ndjson",
        verbose=verbose,
        success=(
            "Demo succeeded: both sockets ran, one at a time on the shared DMM: their holds of "
            "the lock did not overlap, and each later hold had a greater fencing token."
        ),
    )


if __name__ == "__main__":
    main()
