"""Notebook 3, *The five initialization behaviours*: one client per step, one row per step.

:class:`BehaviorTour` runs :class:`~logger_client.JsonLoggerClient` with one of NI's five
``SessionInitializationBehavior`` values against one log file, logs a record when the session
opens, and records what happened: what was sent, whether the session was new, whether leaving the
``with`` block closed it, which sessions are open on the server afterwards and how many lines the
file has. Errors the server returns (``ALREADY_EXISTS``, ``NOT_FOUND``) are caught and recorded,
so the notebook shows them as results rather than as raised exceptions.

Session ids are random, so they are shown as letters (A, B, ...) in order of first appearance:
the same letter is the same server session.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

import grpc
from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior

from json_logger import json_logger_pb2, json_logger_pb2_grpc
from logger_client import JsonLoggerClient, read_records
from session_core.behaviors import SERVER_BEHAVIOR
from session_sharing_demo.course.markdown import markdown_table
from session_sharing_demo.course.server import rpc_error_parts

_FAILED_INSIDE = " (exception in the block)"


class SimulatedStepError(Exception):
    """Raised inside the ``with`` block to show what a failing step does to its session."""


def server_behavior_name(behavior: SessionInitializationBehavior) -> str:
    """The server behaviour the client sends for ``behavior``, without the enum prefix."""
    return SERVER_BEHAVIOR[behavior].name


def mapping_table() -> str:
    """NI's five behaviours and the server behaviour each sends (from the client's table)."""
    rows = [
        (f"`{behavior.name}`", behavior.value, f"`{server_behavior_name(behavior)}`")
        for behavior in SERVER_BEHAVIOR
    ]
    return markdown_table(("NI behaviour", "value", "sent to the server"), rows)


@dataclass(frozen=True)
class Step:
    """What one step did."""

    number: int
    behavior: SessionInitializationBehavior
    server_behavior: str
    session: str
    """The session's letter; empty when InitializeFile failed."""
    new_session: bool | None
    closed_on_exit: bool | None
    error_code: str
    """The status code name when InitializeFile failed, else empty."""
    error_details: str
    mentioned_session: str
    """The letter of a session id the error details name (ALREADY_EXISTS names the open one)."""
    failed_inside: bool
    open_after: str
    lines: int

    @property
    def title(self) -> str:
        """``AUTO``, or ``AUTO (exception in the block)``."""
        return self.behavior.name + (_FAILED_INSIDE if self.failed_inside else "")

    def __str__(self) -> str:
        lines = [f"step {self.number} · {self.title} → sends {self.server_behavior}"]
        if self.error_code:
            lines.append(f"  caught grpc.RpcError {self.error_code}: {self.error_details}")
            if self.mentioned_session:
                lines.append(
                    f"  (the session id in the details is session {self.mentioned_session})"
                )
        else:
            how = "created" if self.new_session else "attached to"
            lines.append(
                f"  {how} session {self.session} (new_session_initialized={self.new_session}),"
                " logged 1 record"
            )
            if self.failed_inside:
                lines.append("  then an exception left the block")
            lines.append(
                "  leaving the block: "
                + ("closed the session" if self.closed_on_exit else "left the session open")
            )
        lines.append(
            f"  open sessions now: {self.open_after} · the file has {_plural(self.lines, 'line')}"
        )
        return "\n".join(lines)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _yes_no(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "no")


class BehaviorTour:
    """Runs steps against one log file and keeps their results for the summary table."""

    def __init__(
        self, log_path: Path, service_address: str, *, client_address: str | None = None
    ) -> None:
        """``service_address`` is used to list open sessions.

        The clients find the service through the NI Discovery Service, as plug-ins do, unless
        ``client_address`` is given.
        """
        self.log_path = log_path
        self.service_address = service_address
        self.client_address = client_address
        self.steps: list[Step] = []
        self._letters: dict[str, str] = {}

    def run(self, behavior: SessionInitializationBehavior, *, fail_inside: bool = False) -> Step:
        """Open a client with ``behavior``, log one record, leave the block; record the step.

        With ``fail_inside`` an exception is raised inside the block (and caught here), as when
        a TestStand Setup step fails after opening its session.
        """
        client = JsonLoggerClient(
            self.log_path, initialization_behavior=behavior, address=self.client_address
        )
        error_code = error_details = ""
        try:
            with client:
                client.log_data(
                    f"step {len(self.steps) + 1}",
                    {"behavior": behavior.name},
                    {"new_session_initialized": client.new_session_initialized},
                )
                if fail_inside:
                    raise SimulatedStepError("the step failed after opening its session")
        except grpc.RpcError as rpc_error:
            error_code, error_details = rpc_error_parts(rpc_error)
        except SimulatedStepError:
            pass
        open_sessions = self.open_sessions()
        opened = not error_code
        step = Step(
            number=len(self.steps) + 1,
            behavior=behavior,
            server_behavior=server_behavior_name(behavior),
            session=self._letter(client.session_id) if opened else "",
            new_session=client.new_session_initialized if opened else None,
            closed_on_exit=(client.session_id not in open_sessions) if opened else None,
            error_code=error_code,
            error_details=error_details,
            mentioned_session=", ".join(
                letter
                for session_id, letter in self._letters.items()
                if session_id in error_details
            ),
            failed_inside=fail_inside,
            open_after=self._describe(open_sessions),
            lines=self.line_count(),
        )
        self.steps.append(step)
        return step

    def open_sessions(self) -> dict[str, int]:
        """The sessions open on the server for this log file: id -> records written."""
        with grpc.insecure_channel(
            self.service_address, options=[("grpc.enable_http_proxy", 0)]
        ) as channel:
            response = json_logger_pb2_grpc.JsonLoggerStub(channel).ListSessions(
                json_logger_pb2.ListSessionsRequest(), timeout=10
            )
        resolved = str(self.log_path.resolve())
        return {
            session.session_id: session.records_written
            for session in response.sessions
            if session.resource_name == resolved
        }

    def line_count(self) -> int:
        """How many records (lines) the log file holds."""
        if not self.log_path.exists():
            return 0
        with self.log_path.open(encoding="utf-8") as file:
            return sum(1 for line in file if line.strip())

    def table(self) -> str:
        """Every step so far as a Markdown table."""
        rows = [
            (
                step.number,
                f"`{step.behavior.name}`" + (_FAILED_INSIDE if step.failed_inside else ""),
                f"`{step.server_behavior}`",
                f"session {step.session}" if step.session else f"`{step.error_code}`",
                _yes_no(step.new_session),
                _yes_no(step.closed_on_exit),
                step.open_after,
                step.lines,
            )
            for step in self.steps
        ]
        header = (
            "step",
            "NI behaviour",
            "server behaviour sent",
            "result",
            "new session?",
            "closed on exit?",
            "open after the step",
            "lines in the file",
        )
        return markdown_table(header, rows)

    def file_summary(self) -> str:
        """Each line of the log file: which step wrote it, into which session (by letter)."""
        if not self.log_path.exists():
            return "(no file yet)"
        lines = []
        for number, record in enumerate(read_records(self.log_path), start=1):
            session_id = str(record["session_id"])
            configurations = record["measurement_configurations"]
            behavior = (
                configurations.get("behavior", "") if isinstance(configurations, dict) else ""
            )
            lines.append(
                f"line {number}: {record['measurement_name']} ({behavior}) "
                f"in session {self._letters.get(session_id, '?')}"
            )
        return "\n".join(lines)

    def _letter(self, session_id: str) -> str:
        if session_id not in self._letters:
            self._letters[session_id] = string.ascii_uppercase[len(self._letters) % 26]
        return self._letters[session_id]

    def _describe(self, open_sessions: dict[str, int]) -> str:
        if not open_sessions:
            return "none"
        return ", ".join(
            f"{self._letter(session_id)} ({_plural(records, 'record')})"
            for session_id, records in open_sessions.items()
        )
