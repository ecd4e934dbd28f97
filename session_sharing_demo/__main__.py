"""Run the demo: start what is missing, run the TestStand sequence headlessly (passing, then with a
failing step), report, stop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from pathlib import Path

import click

from logger_client import read_records
from session_sharing_demo.console import (
    log_option,
    progress,
    run_command,
    stopped,
    verbose_option,
)
from session_sharing_demo.leftovers import leftovers
from session_sharing_demo.report import format_events, session_events, text_table
from session_sharing_demo.services import PLUGINS, start_services
from teststand.runner import format_report, run_sequence
from teststand.sequence import MeasurementStep, SequenceDescription, load_sequence

DMM_STEP = "NI-DMM measurement with logger"
RESULTS_SETUP_STEP = "Create results database sessions"


def with_configuration(
    sequence: SequenceDescription, step_name: str, **changes: object
) -> SequenceDescription:
    """The sequence with some configuration values of one measurement step changed (e.g. a pin
    the pin map lacks, to make the step fail).
    """
    main = tuple(
        dataclasses.replace(step, configuration={**step.configuration, **changes})
        if isinstance(step, MeasurementStep) and step.name == step_name
        else step
        for step in sequence.main
    )
    return dataclasses.replace(sequence, main=main)


def committed_rows(database_path: Path, run_id: str) -> list[tuple[str, ...]]:
    """The committed rows of one run, read with a connection of our own, as any reader would."""
    with contextlib.closing(sqlite3.connect(database_path)) as connection:
        rows = connection.execute(
            "SELECT session_id, step_name, measurement_name, value, unit, "
            "CASE passed WHEN 1 THEN 'yes' WHEN 0 THEN 'no' END FROM results "
            "WHERE run_id = ? ORDER BY row_id",
            (run_id,),
        ).fetchall()
    return [tuple("" if v is None else str(v) for v in row) for row in rows]


def run_demo(log_path: Path, database_path: Path) -> bool:
    """Start everything, run the sequence twice (passing, then with a failing step), print the
    results; return whether all is well.
    """
    sequence = load_sequence()
    problems: list[str] = []
    with contextlib.ExitStack() as stack:
        progress(
            "starting the NI platform, the JSON Logger Service, the Results Database Service "
            "and both plug-ins"
        )
        services = start_services(stack, log_path, database_path)
        progress(services.platform_description)
        assert services.logger is not None and services.results is not None
        progress(f"JSON Logger Service at {services.logger.address}")
        progress(f"Results Database Service at {services.results.address}")
        for name, process in services.plugins.items():
            progress(f"plug-in '{name}' at {process.address}")

        progress(f"run 1: the sequence '{sequence.name}' (Setup, Main, Cleanup)")
        report = run_sequence(sequence, services.pin_map_id)
        click.echo(format_report(report))
        problems += [f"run 1: step '{r.name}' failed" for r in report.failed]

        records = read_records(log_path) if log_path.exists() else []
        click.echo(f"\nThe shared log {log_path}:")
        for line in log_path.read_text(encoding="utf-8").splitlines() if records else []:
            click.echo(f"  {line}")
        click.echo("\nWho created, attached to and closed the file session:")
        plugin_names = {p.service_class: p.display_name for p in PLUGINS}
        click.echo(format_events(session_events(sequence, report, records, plugin_names)))
        session_ids = {str(r.get("session_id")) for r in records}
        if len(records) != len(PLUGINS) or len(session_ids) != 1:
            problems.append(f"expected {len(PLUGINS)} records through one session, got {records}")

        [database_session] = report.result(RESULTS_SETUP_STEP).value or [""]
        rows = committed_rows(database_path, database_session)
        click.echo(
            f"\nThe results database {database_path}: run 1's rows, committed by Cleanup "
            f"(one transaction, session {database_session}):"
        )
        click.echo(
            text_table(("session id", "step", "measurement", "value", "unit", "passed"), rows)
        )
        if len(rows) != 3 or {row[0] for row in rows} != {database_session}:
            problems.append(f"expected 3 committed rows of session {database_session}, got {rows}")

        progress("run 2: the same sequence with its NI-DMM step failing")
        # The DMM step fails after the DCPower step has recorded its rows in the transaction.
        failing_sequence = with_configuration(sequence, DMM_STEP, nidmm_pin="NoSuchPin")
        failing = run_sequence(failing_sequence, services.pin_map_id)
        click.echo(format_report(failing))
        [failed_session] = failing.result(RESULTS_SETUP_STEP).value or [""]
        left = committed_rows(database_path, failed_session)
        click.echo(
            f"\nRun 2's NI-DCPower step recorded its rows in session {failed_session}; the NI-DMM "
            f"step failed, so Cleanup rolled the transaction back. Rows of run 2 left in the "
            f"database: {len(left)}. (The log keeps run 2's NI-DCPower record: a log is not "
            "transactional.)"
        )
        if [r.name for r in failing.failed] != [DMM_STEP]:
            problems.append(f"run 2: expected only '{DMM_STEP}' to fail, got {failing.failed}")
        if left:
            problems.append(f"run 2 failed but left rows in the database: {left}")
        problems += leftovers(services)
    return stopped(problems)


@click.command()
@log_option
@click.option(
    "--database",
    "database_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite results database to share (default: beside the log file, suffix .db).",
)
@verbose_option
def main(log_path: Path | None, database_path: Path | None, verbose: bool) -> None:
    """Run the TestStand session-sharing sequence end to end on one machine."""
    run_command(
        lambda log: run_demo(log, (database_path or log.with_suffix(".db")).resolve()),
        log_path=log_path,
        scratch_name="shared-session.ndjson",
        verbose=verbose,
        success=(
            "Demo succeeded: one file session and one database transaction, created in Setup, "
            "shared by both steps, closed in Cleanup; the passing run's rows committed, the "
            "failing run's rolled back."
        ),
    )


if __name__ == "__main__":
    main()
