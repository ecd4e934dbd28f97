"""Notebook 5, *TestStand session sharing*: the sequence, its run and the file session's history.

The sequence is the data file the headless runner reads (:mod:`teststand.sequence`); the history
of the file session is derived by the demo's own :mod:`session_sharing_demo.report`, and the final
check that nothing is left open or registered is the demo's :func:`leftovers`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from session_sharing_demo.__main__ import leftovers
from session_sharing_demo.course.environment import Course
from session_sharing_demo.course.markdown import markdown_table
from session_sharing_demo.report import SessionEvent, session_events
from session_sharing_demo.services import PLUGINS, Services
from teststand.runner import RunReport
from teststand.sequence import MeasurementStep, SequenceDescription

PLUGIN_NAMES = {p.service_class: p.display_name for p in PLUGINS}
"""Display name of each plug-in by service class (the ``measurement_name`` of its records)."""


def sequence_table(sequence: SequenceDescription) -> str:
    """The sequence's steps, group by group, with what each runs."""
    rows = []
    for group, step in sequence.steps():
        if isinstance(step, MeasurementStep):
            runs = f"plug-in **{PLUGIN_NAMES.get(step.measurement_service, '?')}**"
            details = ", ".join(f"{k}={json.dumps(v)}" for k, v in step.configuration.items())
        else:
            runs = f"`{step.module.name}`"
            details = f"`{step.function}({'SequenceContext' if step.sequence_context else ''})`"
        rows.append((group.display_name, step.name, runs, details))
    return markdown_table(("group", "step", "runs", "function / configuration"), rows)


def session_history(
    sequence: SequenceDescription, report: RunReport, records: Sequence[Mapping[str, object]]
) -> list[SessionEvent]:
    """Who created, attached to and closed the file session (the demo's derivation)."""
    return session_events(sequence, report, [dict(r) for r in records], PLUGIN_NAMES)


def history_table(events: Sequence[SessionEvent]) -> str:
    """The history as a Markdown table."""
    rows = [(e.step, e.action, f"`{e.session_id}`") for e in events]
    return markdown_table(("step", "what it did with the file session", "session id"), rows)


def one_session_summary(events: Sequence[SessionEvent]) -> str:
    """Whether every step of the history names the same, single session id."""
    ids = {e.session_id for e in events}
    (first, *_) = ids or {""}
    if len(ids) == 1 and first not in ("", "-") and "," not in first:
        return f"one session id across all {len(events)} steps: yes"
    return f"one session id across all {len(events)} steps: no ({len(ids)} different)"


def leftovers_summary(course: Course) -> str:
    """The demo's final check: a log-file or instrument session open, registered or reserved."""
    services = Services(
        course.platform_description,
        local_platform=course.local_platform,
        pin_map_id=course.pin_map_id,
        logger=course.logger,
        plugins=course.plugins,
    )
    found = leftovers(services)
    if not found:
        return "nothing left open, registered or reserved"
    return "left behind:\n" + "\n".join(f"  {item}" for item in found)
