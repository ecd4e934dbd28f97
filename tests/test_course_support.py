"""The notebooks' helper (notebooks/course_support.py): tables, session letters and pictures."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notebooks"))

from course_support import letters, session_life, session_picture, table


def test_table_escapes_pipes_and_line_breaks_and_shows_none_empty() -> None:
    text = table(("a", "b"), [("x|y", "line 1\nline 2"), (None, 3)]).data

    assert text.splitlines() == [
        "| a | b |",
        "|---|---|",
        "| x\\|y | line 1 line 2 |",
        "|  | 3 |",
    ]


def test_letters_follow_first_appearance_and_skip_empty_ids() -> None:
    assert letters(["s2", "", "s1", "s2", "s3"]) == {"s2": "A", "s1": "B", "s3": "C"}


def test_a_closed_session_gets_a_bar_and_an_open_one_says_so() -> None:
    events = [
        ("Setup", "A", "created", "detached"),
        ("Step", "A", "attached", ""),
        ("Cleanup", "A", "closed", ""),
        ("Orphan", "B", "created", ""),
        ("Refused", "", "failed", "NOT_FOUND"),
    ]

    svg = session_picture(["A", "B"], events, title="run <1>").data

    assert svg.count("<rect") == 2  # A from Setup to Cleanup, B from its creation to the end
    assert svg.count("still open") == 1
    assert "run &lt;1&gt;" in svg  # text is escaped
    assert "failed — NOT_FOUND" in svg


def _result(group: str, name: str, status: str, value: object = None, message: str = "") -> object:
    return SimpleNamespace(
        group=SimpleNamespace(value=group),
        name=name,
        status=SimpleNamespace(value=status),
        value=value,
        message=message,
    )


def test_session_life_reads_setup_steps_records_and_cleanup() -> None:
    report = SimpleNamespace(
        results=[
            _result("setup", "Create logger sessions", "Passed", ["s1"]),
            _result("main", "DCPower", "Passed"),
            _result("main", "DMM", "Failed", message="INVALID_ARGUMENT: no pin"),
            _result("cleanup", "Destroy logger sessions", "Passed"),
        ]
    )
    records = [{"session_id": "s1"}]

    events = session_life(report, records, still_open=set())
    left_open = session_life(report, records, still_open={"s1"})

    assert events == [
        ("Create logger sessions", "s1", "created", "detached"),
        ("DCPower", "s1", "attached", "logged"),
        ("DMM", "", "failed", "INVALID_ARGUMENT"),
        ("Destroy logger sessions", "s1", "closed", ""),
    ]
    assert left_open == events[:-1]
