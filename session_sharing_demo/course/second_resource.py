"""Notebook 6, *Adapt it to your own resource*: the session core on an SQLite results database.

The comparison table names the real classes and functions of both resources, and the sources are
read from the modules, so the notebook cannot drift from the code. :class:`BehaviorTour` drives
:mod:`session_sharing_demo.course.sqlite_results` through NI's five behaviours, the two error
cases and a race, and reports each outcome in words (errors are outcomes here, not exceptions).
"""

from __future__ import annotations

import inspect
import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior

from json_logger import json_logger_pb2
from logger_client import JSON_LOGGER_INSTRUMENT_TYPE
from logger_service import ndjson_log
from logger_service.ndjson_log import NdjsonLog
from logger_service.servicer import JsonLoggerServicer
from session_core import errors, registry
from session_core.behaviors import InitializationBehavior, closes_on_exit, server_behavior
from session_core.errors import AlreadyExistsError, ServiceError
from session_sharing_demo.course import sqlite_results
from session_sharing_demo.course.markdown import markdown_table
from session_sharing_demo.course.sqlite_results import (
    DatabaseSession,
    ResultsDatabase,
    ResultsDatabaseClient,
    ResultsDatabaseService,
    read_rows,
)


def _name(obj: object) -> str:
    module = getattr(obj, "__module__", "")
    return f"`{module}.{getattr(obj, '__qualname__', obj)}`"


def _methods(cls: type, names: list[str]) -> str:
    return ", ".join(f"`{cls.__name__}.{name}`" for name in names)


def what_stays_and_what_changes() -> str:
    """The parts of a session-sharing service, for the log file and for the results database."""
    file_rpcs = [m.name for m in json_logger_pb2.DESCRIPTOR.services_by_name["JsonLogger"].methods]
    database_calls = [  # in the order the class defines them
        name
        for name, member in vars(ResultsDatabaseService).items()
        if inspect.isfunction(member) and not name.startswith("_") and name != "close_all"
    ]
    same = "the same, unchanged"
    rows = [
        ("stays", "session registry: one session per key, ids, atomic check-and-create, "
         "a lock per session, close after work in flight", _name(registry.SessionRegistry), same),
        ("stays", "server behaviours (UNSPECIFIED, INITIALIZE_NEW, ATTACH_TO_EXISTING)",
         _name(InitializationBehavior), same),
        ("stays", "NI's five client behaviours: what to send, whether to close on exit",
         f"{_name(server_behavior)}, {_name(closes_on_exit)}", same),
        ("stays", "errors and their status codes (ALREADY_EXISTS, NOT_FOUND, ...)",
         f"`{errors.__name__}`", same),
        ("changes", "the resource: open / write / close",
         f"{_name(NdjsonLog)}: open for appending / append lines / close",
         f"{_name(ResultsDatabase)}: connect + create table / insert a row / commit + close"),
        ("changes", "key normalisation: which names are one resource",
         f"{_name(ndjson_log.normalize_path)}, {_name(ndjson_log.session_key)}",
         f"{_name(sqlite_results.normalize_database_path)}, {_name(sqlite_results.database_key)}"),
        ("changes", "allowed names", ", ".join(ndjson_log.ALLOWED_SUFFIXES),
         ", ".join(sqlite_results.ALLOWED_SUFFIXES)),
        ("changes", "the calls (RPCs)", ", ".join(f"`{n}`" for n in file_rpcs),
         _methods(ResultsDatabaseService, database_calls)),
        ("changes", "the pin map's instrument type", f"`{JSON_LOGGER_INSTRUMENT_TYPE}`",
         f"`{sqlite_results.RESULTS_DATABASE_INSTRUMENT_TYPE}`"),
    ]  # fmt: skip
    return markdown_table(("", "part", "JSON log file", "SQLite results database"), rows)


def source(*objects: Callable[..., object] | type) -> str:
    """The source of classes or functions, as one Markdown code block."""
    text = "\n\n\n".join(textwrap.dedent(inspect.getsource(obj)).rstrip() for obj in objects)
    return f"```python\n{text}\n```"


def initialize_side_by_side() -> str:
    """The log file's ``InitializeFile`` and the database's ``initialize_database``."""
    return "\n\n".join(
        (
            source(JsonLoggerServicer.InitializeFile),
            source(ResultsDatabaseService.initialize_database),
        )
    )


@dataclass(frozen=True)
class Outcome:
    """What one client did with the database session."""

    step: str
    behavior: SessionInitializationBehavior
    sent: str
    session: int | None
    """The session's number in the tour (1 for the first session seen), or None on error."""
    created: bool = False
    rows_written: int = 0
    closed_on_exit: bool = False
    error: str = ""
    open_sessions: int = 0

    def __str__(self) -> str:
        head = f"{self.step}: {self.behavior.name} (sends {self.sent}) -> "
        if self.error:
            return head + self.error
        verb = "created" if self.created else "attached to"
        wrote = f", wrote {self.rows_written} row(s)" if self.rows_written else ""
        exit_ = "closed it on exit" if self.closed_on_exit else "left it open"
        return (
            f"{head}{verb} session #{self.session}{wrote}, {exit_}; "
            f"open sessions: {self.open_sessions}"
        )


class BehaviorTour:
    """One results database in ``folder``, served in-process, driven behaviour by behaviour."""

    def __init__(self, folder: Path) -> None:
        self.service = ResultsDatabaseService()
        self.database = folder / "results.db"
        self.race_database = folder / "race.db"
        self.outcomes: list[Outcome] = []
        self._numbers: dict[str, int] = {}

    def run(
        self, behavior: SessionInitializationBehavior, step: str, *, value: float | None = None
    ) -> Outcome:
        """Open a client with ``behavior``, insert ``value`` (if given), leave the block."""
        sent = InitializationBehavior(server_behavior(behavior)).name
        client = ResultsDatabaseClient(
            self.service, self.database, initialization_behavior=behavior
        )
        try:
            with client:
                if value is not None:
                    client.insert_result(step, "value", value)
        except ServiceError as error:
            outcome = Outcome(step, behavior, sent, None, error=f"{error.code.name}: {error}")
        else:
            outcome = Outcome(
                step,
                behavior,
                sent,
                self._number(client.session_id),
                created=client.new_session_initialized,
                rows_written=0 if value is None else 1,
                closed_on_exit=client.closed_on_exit,
                open_sessions=len(self.service.list_sessions()),
            )
        self.outcomes.append(outcome)
        return outcome

    def summary_table(self) -> str:
        """Every outcome so far, one row each."""
        rows = [
            (
                o.step,
                f"`{o.behavior.name}`",
                f"`{o.sent}`",
                o.error.split(":", 1)[0] if o.error else f"session #{o.session}",
                "-" if o.error else ("yes" if o.created else "no"),
                "-" if o.error else ("yes" if o.closed_on_exit else "no"),
                o.rows_written,
            )
            for o in self.outcomes
        ]
        header = (
            "step",
            "NI behaviour",
            "sent",
            "result",
            "new session?",
            "closed on exit?",
            "rows",
        )
        return markdown_table(header, rows)

    def rows_table(self) -> str:
        """The database's committed rows, read through a connection of their own."""
        rows = [
            (index, f"#{self._number(session_id)}", step, name, value)
            for index, (session_id, step, name, value) in enumerate(
                read_rows(self.database), start=1
            )
        ]
        return markdown_table(("row", "session", "step", "name", "value"), rows)

    def same_database_other_spelling(self) -> str:
        """Open the database under a second spelling while a session is open: one session."""
        other = self.database.parent / "spelled-differently" / ".." / self.database.name
        (self.database.parent / "spelled-differently").mkdir(exist_ok=True)
        with (
            ResultsDatabaseClient(
                self.service,
                self.database,
                initialization_behavior=SessionInitializationBehavior.AUTO,
            ) as first,
            ResultsDatabaseClient(
                self.service, other, initialization_behavior=SessionInitializationBehavior.AUTO
            ) as second,
        ):
            same = first.session_id == second.session_id
            opened = len(self.service.list_sessions())
        return (
            f"'{self.database.name}' and '{other.relative_to(self.database.parent)}': "
            f"{'the same' if same else 'different'} session, {opened} session(s) open while "
            f"both clients held it; open after both left: {len(self.service.list_sessions())}"
        )

    def race(self, clients: int = 8, rows_each: int = 10) -> str:
        """``clients`` threads ask INITIALIZE_NEW at once, then all write through one session."""
        barrier = threading.Barrier(clients)
        results: list[str] = []
        lock = threading.Lock()
        sent = InitializationBehavior.INITIALIZE_NEW

        def initialize(_worker: int) -> None:
            barrier.wait()
            try:
                opened = self.service.initialize_database(str(self.race_database), sent)
                result = "created" if opened.new_session_initialized else "attached"
            except AlreadyExistsError:
                result = "ALREADY_EXISTS"
            with lock:
                results.append(result)

        _run_threads(initialize, clients)
        (session,) = self._sessions_of(self.race_database)

        def write(worker: int) -> None:
            barrier.wait()
            for row in range(rows_each):
                self.service.insert_result(session.session_id, f"race {worker}", "row", row)

        _run_threads(write, clients)
        (written,) = (s.rows_written for s in self._sessions_of(self.race_database))
        self.service.close_database(session.session_id)
        return (
            f"{clients} clients sent INITIALIZE_NEW at once: {results.count('created')} created "
            f"the session, {results.count('ALREADY_EXISTS')} got ALREADY_EXISTS\n"
            f"{clients} threads then inserted {rows_each} rows each through it: "
            f"{written} rows written; after closing it, "
            f"{len(self._sessions_of(self.race_database))} session(s) of it left open"
        )

    def close(self) -> str:
        """Close every session still open (the service's shutdown)."""
        self.service.close_all()
        return "closed every results-database session"

    def _sessions_of(self, database: Path) -> list[DatabaseSession]:
        path = str(database.resolve())
        return [s for s in self.service.list_sessions() if s.resource_name == path]

    def _number(self, session_id: str) -> int:
        return self._numbers.setdefault(session_id, len(self._numbers) + 1)


def _run_threads(target: Callable[..., None], count: int) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
