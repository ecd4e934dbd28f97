"""What the demo prints after the run: who created, attached to and closed the file session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from teststand.runner import RunReport, StepStatus
from teststand.sequence import MeasurementStep, SequenceDescription, StepGroup

CREATE_LOGGER_STEP = "Create JSON logger sessions"
DESTROY_LOGGER_STEP = "Destroy JSON logger sessions"


@dataclass(frozen=True)
class SessionEvent:
    """One step's part in the life of the file session."""

    step: str
    action: str
    session_id: str


def session_events(
    sequence: SequenceDescription,
    report: RunReport,
    records: Sequence[dict[str, object]],
    plugin_names: dict[str, str],
) -> list[SessionEvent]:
    """Derive the file session's history from the run report and the log's records.

    ``plugin_names`` maps a measurement service class to the plug-in's display name, which is
    the ``measurement_name`` of the record it writes.
    """
    created = report.result(CREATE_LOGGER_STEP)
    created_ids = created.value if created.status is StepStatus.PASSED else []
    events = [
        SessionEvent(
            CREATE_LOGGER_STEP, "created (INITIALIZE_SESSION_THEN_DETACH)", ", ".join(created_ids)
        )
    ]
    for step in sequence.group(StepGroup.MAIN):
        if not isinstance(step, MeasurementStep):
            continue
        written = [
            r
            for r in records
            if r.get("measurement_name") == plugin_names.get(step.measurement_service)
        ]
        ids = ", ".join(sorted({str(r.get("session_id")) for r in written})) or "-"
        events.append(
            SessionEvent(step.name, f"attached (AUTO), wrote {len(written)} record(s)", ids)
        )
    destroyed = report.result(DESTROY_LOGGER_STEP)
    action = (
        "closed (ATTACH_TO_SESSION_THEN_CLOSE)"
        if destroyed.status is StepStatus.PASSED
        else f"failed: {destroyed.message}"
    )
    events.append(SessionEvent(DESTROY_LOGGER_STEP, action, ", ".join(created_ids)))
    return events


def format_events(events: Sequence[SessionEvent]) -> str:
    """The events as a text table."""
    header = ("step", "what it did with the file session", "session id")
    return text_table(header, [(e.step, e.action, e.session_id) for e in events])


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns, indented by two spaces (the last column is not padded)."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    return "\n".join(
        "  " + "  ".join([*(f"{c:<{w}}" for c, w in zip(row, widths, strict=False)), row[-1]])
        for row in [header, *rows]
    )
