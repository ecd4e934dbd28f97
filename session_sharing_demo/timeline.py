"""Who held the lock when: the timeline of test sockets that ran one sequence at once, from their
run reports (as text for the terminal, as SVG for the site).

A socket *waits* while its Setup step waits for the lock, *holds* the lock from the end of that
step to the end of its Cleanup (which releases it), and runs its Main steps meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from teststand.runner import RunReport, StepResult
from teststand.sequence import StepGroup


@dataclass(frozen=True)
class Interval:
    """From ``start`` to ``end``, in seconds since the first socket started."""

    start: float
    end: float

    def overlaps(self, other: Interval) -> bool:
        """Whether the two share any time."""
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class SocketLane:
    """One socket's row of the timeline."""

    socket: int
    waiting: Interval
    holding: Interval
    steps: tuple[tuple[str, Interval], ...]
    fencing_token: int | None = None


def _interval(result: StepResult, origin: float) -> Interval:
    start = result.started_at - origin
    return Interval(start, start + result.duration)


def socket_lanes(
    reports: Sequence[RunReport], fencing_tokens: dict[int, int] | None = None
) -> list[SocketLane]:
    """The lanes of sockets whose first Setup step took the lock and first Cleanup step
    released it (the two-socket sequence's shape).
    """
    origin = min(report.results[0].started_at for report in reports)
    lanes = []
    for report in reports:
        assert report.socket is not None, "a socket's report (teststand.runner.run_sockets)"
        acquire = _interval(report.group(StepGroup.SETUP)[0], origin)
        release = _interval(report.group(StepGroup.CLEANUP)[0], origin)
        steps = tuple(
            (result.name, _interval(result, origin)) for result in report.group(StepGroup.MAIN)
        )
        lanes.append(
            SocketLane(
                socket=report.socket,
                waiting=acquire,
                holding=Interval(acquire.end, release.end),
                steps=steps,
                fencing_token=(fencing_tokens or {}).get(report.socket),
            )
        )
    return sorted(lanes, key=lambda lane: lane.holding.start)


def overlapping_holds(lanes: Sequence[SocketLane]) -> list[tuple[int, int]]:
    """Pairs of sockets that held the lock at the same time (empty when it excluded)."""
    return [
        (a.socket, b.socket)
        for index, a in enumerate(lanes)
        for b in lanes[index + 1 :]
        if a.holding.overlaps(b.holding)
    ]


def format_timeline(lanes: Sequence[SocketLane], *, width: int = 48) -> str:
    """A text timeline (``.`` waiting for the lock, ``#`` holding it) and a table of times."""
    end = max(lane.holding.end for lane in lanes)
    scale = width / end if end > 0 else 0.0

    def column(seconds: float) -> int:
        return min(width, round(seconds * scale))

    lines = [f"{'':9}0 s{'':{width - 6}}{end:.2f} s"]
    for lane in lanes:
        bar = [" "] * width
        for index in range(column(lane.waiting.start), column(lane.waiting.end)):
            bar[index] = "."
        for index in range(column(lane.holding.start), max(column(lane.holding.end), 1)):
            bar[index] = "#"
        lines.append(f"socket {lane.socket}  |{''.join(bar)}|")
    lines.append("")
    lines.append("socket  waited for the lock  held it (from - to)     fencing token")
    for lane in lanes:
        token = "" if lane.fencing_token is None else str(lane.fencing_token)
        lines.append(
            f"{lane.socket:>6}  {lane.waiting.end - lane.waiting.start:>17.3f} s  "
            f"{lane.holding.start:>7.3f} s - {lane.holding.end:.3f} s  {token:>13}"
        )
    return "\n".join(lines)


_ROW = 34
_LEFT = 72
_RIGHT = 12
_TOP = 22
_WIDTH = 400


def timeline_svg(lanes: Sequence[SocketLane]) -> str:
    """The timeline as a small SVG (400 units wide, text 14 units: still 12 px when a phone shows
    it 360 px wide): a row per socket, the wait light grey, the hold solid blue, the Main steps as
    orange ticks under it.
    """
    end = max(lane.holding.end for lane in lanes)
    span = _WIDTH - _LEFT - _RIGHT

    def x(seconds: float) -> float:
        return round(_LEFT + span * seconds / end, 1) if end > 0 else _LEFT

    height = _TOP + _ROW * len(lanes) + 46
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" '
        f'width="100%" role="img" font-family="sans-serif" font-size="14">',
        "<title>Who held the shared DMM's lock when: two test sockets, no overlap</title>",
    ]
    for row, lane in enumerate(lanes):
        y = _TOP + row * _ROW
        token = "" if lane.fencing_token is None else f" (fencing token {lane.fencing_token})"
        parts.append(f"<g><title>socket {lane.socket}: held the lock{escape(token)}</title>")
        parts.append(f'<text x="4" y="{y + 15}">socket {lane.socket}</text>')
        wait_x, hold_x = x(lane.waiting.start), x(lane.holding.start)
        parts.append(
            f'<rect x="{wait_x}" y="{y + 4}" width="{max(hold_x - wait_x, 0.5)}" height="16" '
            'fill="#dde3ea" stroke="#9aa7b4" stroke-width="0.5"/>'
        )
        parts.append(
            f'<rect x="{hold_x}" y="{y + 2}" width="{max(x(lane.holding.end) - hold_x, 0.5)}" '
            'height="20" fill="#2f6db3"/>'
        )
        for name, step in lane.steps:
            parts.append(
                f'<rect x="{x(step.start)}" y="{y + 22}" '
                f'width="{max(x(step.end) - x(step.start), 0.5)}" height="4" fill="#e08a1e">'
                f"<title>{escape(name)}</title></rect>"
            )
        parts.append("</g>")
    axis_y = _TOP + _ROW * len(lanes) + 6
    parts.append(
        f'<line x1="{_LEFT}" y1="{axis_y}" x2="{_WIDTH - _RIGHT}" y2="{axis_y}" stroke="#555"/>'
    )
    parts.append(f'<text x="{_LEFT}" y="{axis_y + 16}">0 s</text>')
    parts.append(
        f'<text x="{_WIDTH - _RIGHT}" y="{axis_y + 16}" text-anchor="end">{end:.2f} s</text>'
    )
    parts.append(
        f'<text x="{_WIDTH / 2}" y="{axis_y + 36}" text-anchor="middle" '
        'fill="#555">grey: waiting · blue: holding · orange: steps</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
