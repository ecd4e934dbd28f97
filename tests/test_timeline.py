"""The two-socket timeline: holds, waits and steps from run reports; overlaps are found."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from session_sharing_demo.timeline import (
    format_timeline,
    overlapping_holds,
    socket_lanes,
    timeline_svg,
)
from teststand.runner import RunReport, StepResult, StepStatus
from teststand.sequence import StepGroup

T0 = 1_800_000_000.0


def report(socket: int, acquire: tuple[float, float], release: tuple[float, float]) -> RunReport:
    """A socket's run: the lock taken during ``acquire``, released by ``release``."""

    def step(group: StepGroup, name: str, span: tuple[float, float]) -> StepResult:
        return StepResult(group, name, StepStatus.PASSED, span[1] - span[0], T0 + span[0])

    results = (
        step(StepGroup.SETUP, "Acquire", acquire),
        step(StepGroup.MAIN, "Measure", (acquire[1], release[0])),
        step(StepGroup.CLEANUP, "Release", release),
    )
    return RunReport("TwoSockets", "pin-map", results, release[1] - acquire[0], socket=socket)


def test_holds_that_follow_each_other_do_not_overlap() -> None:
    lanes = socket_lanes(
        [report(0, (0.0, 0.1), (0.5, 0.6)), report(1, (0.0, 0.6), (0.9, 1.0))], {0: 7, 1: 9}
    )

    assert overlapping_holds(lanes) == []
    assert [(lane.socket, lane.holding.start, lane.holding.end) for lane in lanes] == [
        (0, pytest.approx(0.1), pytest.approx(0.6)),
        (1, pytest.approx(0.6), pytest.approx(1.0)),
    ]
    text = format_timeline(lanes, width=10)
    assert "socket 0  |.#####    |" in text
    assert "socket 1  |......####|" in text
    assert text.rstrip().endswith("9")


def test_holds_that_share_time_are_reported() -> None:
    lanes = socket_lanes([report(0, (0.0, 0.1), (0.5, 0.6)), report(1, (0.0, 0.3), (0.7, 0.8))])

    assert overlapping_holds(lanes) == [(0, 1)]


def test_the_svg_is_well_formed_with_one_lane_per_socket() -> None:
    lanes = socket_lanes([report(0, (0.0, 0.1), (0.5, 0.6)), report(1, (0.0, 0.6), (0.9, 1.0))])

    root = ET.fromstring(timeline_svg(lanes))

    _, _, width, _ = (float(n) for n in (root.get("viewBox") or "").split())
    phone_width = 360  # a 400 px phone's content width
    assert float(root.get("font-size") or 0) * phone_width / width >= 12  # readable there
    lanes_drawn = root.findall("{http://www.w3.org/2000/svg}g")
    assert len(lanes_drawn) == 2
