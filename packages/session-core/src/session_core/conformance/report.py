"""A conformance report: one row per rule, as a notebook table, as text, or as an assertion."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from session_core.conformance.rules import Rule


class Outcome(enum.Enum):
    """How one rule fared."""

    PASSED = "passed"
    FAILED = "FAILED"
    ADVICE = "advice"
    """An advisory rule is broken: worth fixing, the report still passes."""
    SKIPPED = "skipped"
    DIFFERS = "differs"
    """The rule does not hold, and the service declared that it differs here, saying why."""


@dataclass(frozen=True)
class Check:
    """One rule's result, with what was observed."""

    rule: Rule
    outcome: Outcome
    detail: str = ""


class ConformanceError(AssertionError):
    """A service or client broke rules of the pattern; the message names each one."""

    def __init__(self, report: ConformanceReport) -> None:
        super().__init__(report.failure_message())
        self.report = report


@dataclass(frozen=True, repr=False)
class ConformanceReport:
    """The checks of one service or client, in the order they ran."""

    target: str
    checks: Sequence[Check]

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    @property
    def ok(self) -> bool:
        """Whether no required rule failed."""
        return not self.failures

    @property
    def failures(self) -> list[Check]:
        """The checks of broken required rules."""
        return [check for check in self.checks if check.outcome is Outcome.FAILED]

    def raise_for_failures(self) -> None:
        """Raise :class:`ConformanceError` naming every broken rule, if any."""
        if not self.ok:
            raise ConformanceError(self)

    def failure_message(self) -> str:
        """Each broken rule: its id, the rule, what happened, and the hint."""
        lines = [f"{self.target} breaks {len(self.failures)} rule(s) of the session pattern:"]
        for check in self.failures:
            lines.append(f"- {check.rule.id}: {check.rule.statement}")
            lines.append(f"  observed: {check.detail}")
            lines.append(f"  hint: {check.rule.hint}")
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: how many rules passed, failed, were advice or skipped."""
        counts = {outcome: 0 for outcome in Outcome}
        for check in self.checks:
            counts[check.outcome] += 1
        parts = [f"{counts[Outcome.PASSED]} passed", f"{counts[Outcome.FAILED]} failed"]
        parts += [
            f"{counts[o]} {o.value}"
            for o in (Outcome.DIFFERS, Outcome.ADVICE, Outcome.SKIPPED)
            if counts[o]
        ]
        return f"{self.target}: {', '.join(parts)}"

    def __repr__(self) -> str:
        return f"<ConformanceReport {self.summary()}>"

    def __str__(self) -> str:
        width = max((len(check.rule.id) for check in self.checks), default=0)
        lines = []
        for check in self.checks:
            text = check.detail if check.outcome is not Outcome.PASSED else check.rule.statement
            lines.append(f"{check.outcome.value:<7}  {check.rule.id:<{width}}  {text}")
            if check.outcome in (Outcome.FAILED, Outcome.ADVICE):
                lines.append(f"{'':<7}  {'':<{width}}  hint: {check.rule.hint}")
        return "\n".join([*lines, self.summary()])

    def _repr_markdown_(self) -> str:
        """A table for notebooks: the rule, the result, and what was seen or what to do."""
        rows = ["| rule | result | what it checks / what was seen |", "|---|---|---|"]
        for check in self.checks:
            text = check.rule.statement
            if check.outcome in (Outcome.FAILED, Outcome.ADVICE):
                text = f"**{check.detail}** — hint: {check.rule.hint}"
            elif check.outcome in (Outcome.SKIPPED, Outcome.DIFFERS):
                text = check.detail
            result = (
                f"**{check.outcome.value}**"
                if check.outcome is Outcome.FAILED
                else (check.outcome.value)
            )
            rows.append(f"| `{check.rule.id}` | {result} | {_cell(text)} |")
        return "\n".join([*rows, "", self.summary()])


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def declared_outcome(check: Check, differs: Mapping[str, str]) -> Check:
    """A declared difference (rule id → why): DIFFERS when the rule does not hold, advice when
    it does (the declaration is stale).
    """
    reason = differs.get(check.rule.id)
    if reason is None or check.outcome is Outcome.SKIPPED:
        return check
    if check.outcome is Outcome.FAILED:
        return Check(check.rule, Outcome.DIFFERS, f"declared: {reason} (seen: {check.detail})")
    return Check(
        check.rule, Outcome.ADVICE, "declared to differ, yet the rule holds: drop the declaration"
    )
