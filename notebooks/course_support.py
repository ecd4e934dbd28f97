"""What the notebooks need but a learner does not write: a private folder, the NI platform, the
shipped services in their own processes, fresh imports of edited stubs, tables, and the session
pictures.

Kept beside the notebooks (not in the installed package). Everything a notebook starts is stopped
by :meth:`Course.close`, its last cell. Logs go to a file in the work folder, never to a cell's
output, so stored outputs stay comparable (nbval).
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import shutil
import sys
import tempfile
import time
import types
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import grpc
from google.protobuf import (
    any_pb2,
    descriptor_pool,
    duration_pb2,
    empty_pb2,
    struct_pb2,
    timestamp_pb2,
    wrappers_pb2,
)
from IPython.core.getipython import get_ipython
from IPython.display import SVG, Markdown
from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior

from logger_client import JsonLoggerClient, read_records
from measurements.client import MeasurementClient
from measurements.dut_supply_with_connection import PLUGIN as DUT_PLUGIN
from measurements.nidmm_with_logger import PLUGIN as DMM_PLUGIN
from pinmap import PIN_MAP_PATH
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.leftovers import leftovers
from session_sharing_demo.services import (
    PLUGINS,
    Services,
    register_pin_map,
    start_ni_platform,
    start_processes,
)
from simulated_instrument.server import InstrumentServer

STOPPED = (
    "This notebook's services were stopped by its last cell (Stop everything): "
    "re-run the notebook from its first cell."
)


class Course:
    """The services one notebook uses, in a private folder; :meth:`close` stops them all."""

    def __init__(self) -> None:
        _explain_errors_after_stop(False)
        self._closed = False
        self.work_dir = Path(tempfile.mkdtemp(prefix="course-"))
        self._stack = contextlib.ExitStack()
        self._stack.callback(shutil.rmtree, self.work_dir, ignore_errors=True)
        handler = logging.FileHandler(self.work_dir / "course.log", encoding="utf-8", delay=True)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        self._stack.callback(handler.close)
        self._stack.callback(root.removeHandler, handler)
        # A platform of our own, found by every child process through this variable.
        os.environ["NI_LOCAL_PLATFORM_DIR"] = str(self.work_dir / "platform")
        self._stack.callback(os.environ.pop, "NI_LOCAL_PLATFORM_DIR", None)
        self.pin_map_id = ""
        self.logger: ServiceProcess | None = None
        self.results: ServiceProcess | None = None
        self.lock: ServiceProcess | None = None
        self.connection: ServiceProcess | None = None
        self.plugins: dict[str, ServiceProcess] = {}

    @property
    def log_path(self) -> Path:
        """The shared log file of the pin map (see :meth:`register_pin_map`)."""
        return self.work_dir / "shared-session.ndjson"

    @property
    def database_path(self) -> Path:
        """The shared results database of the pin map."""
        return self.work_dir / "shared-results.db"

    def start_platform(self) -> str:
        """NI's Discovery, Pin Map and Session Management (local stand-ins off Windows)."""
        self._require_running()
        description, _ = start_ni_platform(self._stack)
        return description

    def start_instrument(self) -> InstrumentServer:
        """The simulated SCPI instrument on a TCP port of this machine, one client at a time."""
        self._require_running()
        return self._stack.enter_context(InstrumentServer())

    def start_services(
        self,
        *,
        plugins: bool = True,
        results: bool = True,
        lock: bool = False,
        connection: bool = False,
    ) -> str:
        """Start the shipped JSON Logger Service (and the rest) in their own processes; with
        ``connection``, the Instrument Connection Service, and the DUT supply and NI-DMM plug-ins
        as the plug-ins.
        """
        self._require_running()
        chosen = (DUT_PLUGIN, DMM_PLUGIN) if connection else PLUGINS
        self.logger, self.results, self.lock, self.connection, self.plugins = start_processes(
            self._stack,
            plugins=chosen if plugins else (),
            results_service=results,
            lock_service=lock,
            connection_service=[] if connection else None,
        )
        started = {
            "JSON Logger Service": self.logger,
            "Results Database Service": self.results,
            "Hardware Lock Service": self.lock,
            "Instrument Connection Service": self.connection,
        }
        started.update(self.plugins)
        return "\n".join(f"{name} at {p.address}" for name, p in started.items() if p)

    def register_pin_map(self, source: Path = PIN_MAP_PATH, *, device: str | None = None) -> str:
        """Register the project's pin map (or ``source``), naming :attr:`log_path`,
        :attr:`database_path` and the ``device`` connection.
        """
        self._require_running()
        self.pin_map_id = register_pin_map(
            self._stack, self.log_path, self.database_path, device=device, source=source
        )
        return self.pin_map_id

    def leftovers(self) -> list[str]:
        """What is still open, held, registered or reserved on what this notebook started."""
        services = Services(
            "", None, self.pin_map_id, self.logger, self.results, self.lock, self.connection
        )
        return leftovers(services)

    def close(self) -> str:
        """Stop everything this notebook started and remove its work folder.

        A cell that fails afterwards (a call to a stopped service, say) says to re-run the
        notebook from its first cell.
        """
        self._stack.close()
        self._closed = True
        _explain_errors_after_stop(True)
        return "stopped everything this notebook started"

    def _require_running(self) -> None:
        if self._closed:
            raise RuntimeError(STOPPED)


def _explain_errors_after_stop(explain: bool) -> None:
    """In IPython, add :data:`STOPPED` below the traceback of every failing cell (or stop)."""
    # Any: IPython 9 annotates its shell and IPython 8 (Poetry's pick on Python 3.11) does not
    shell: Any = get_ipython()  # type: ignore[no-untyped-call, unused-ignore]
    if shell is None:
        return
    if not explain:
        shell.set_custom_exc((), None)
        return

    def explain_after(
        shell: Any, etype: type[BaseException], value: BaseException, tb: Any, tb_offset: Any = None
    ) -> None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        if STOPPED not in str(value):
            print(STOPPED, file=sys.stderr)

    shell.set_custom_exc((Exception,), explain_after)


_WELL_KNOWN_TYPES = (any_pb2, duration_pb2, empty_pb2, struct_pb2, timestamp_pb2, wrappers_pb2)


def import_stubs(folder: Path, name: str) -> tuple[types.ModuleType, types.ModuleType]:
    """Import ``<name>_pb2`` and ``<name>_pb2_grpc`` from ``folder`` as they are now.

    A plain ``import`` keeps the first version until the kernel restarts, and
    ``importlib.reload`` fails ("duplicate file name"): protobuf's default descriptor pool takes a
    ``.proto`` file once. Each call loads the stubs into a descriptor pool of their own (with
    protobuf's well-known types), so an edited and regenerated ``.proto`` takes effect at once.
    The files are read as :func:`load_module` reads them.
    """
    pool = descriptor_pool.DescriptorPool()
    for well_known in _WELL_KNOWN_TYPES:
        pool.AddSerializedFile(well_known.DESCRIPTOR.serialized_pb)
    with mock.patch.object(descriptor_pool, "Default", return_value=pool):
        loaded = [
            load_module(Path(folder) / f"{name}{suffix}.py") for suffix in ("_pb2", "_pb2_grpc")
        ]
    return loaded[0], loaded[1]


class StepRuleError(AssertionError):
    """A logging step broke a rule of the pattern; the message names it."""


def check_logging_step(service_class: str, context: Any, log_path: Path) -> Markdown:
    """Run a measurement plug-in that logs one record, alone and inside a TestStand-like run.

    Rules: run alone, the step (AUTO) creates its log-file session and closes it; inside a run,
    it attaches to the session Setup opened (INITIALIZE_SESSION_THEN_DETACH) and leaves it open
    for Cleanup (ATTACH_TO_SESSION_THEN_CLOSE); either way it logs one record through that
    session. Setup and Cleanup use the shipped client; what the step did is read from the log.
    Raises :class:`StepRuleError` naming the first rule broken; returns the table of rules.
    """
    behavior = SessionInitializationBehavior

    def run_step(rule: str) -> dict[str, object]:
        before = len(_records(log_path))
        try:
            with MeasurementClient(service_class) as client:
                client.measure(context)
        except grpc.RpcError as error:
            raise StepRuleError(
                f"rule '{rule}': the step failed: {error.code().name}: {error.details()}"
            ) from None
        records = _records(log_path)
        if len(records) != before + 1:
            raise StepRuleError(
                f"rule 'one record a step': the step wrote {len(records) - before} records"
            )
        return records[-1]

    def still_open() -> bool:
        try:
            with JsonLoggerClient(
                log_path, initialization_behavior=behavior.ATTACH_TO_SERVER_SESSION
            ):
                return True
        except grpc.RpcError:  # NOT_FOUND: nothing is open
            return False

    rows = []
    run_step("alone, a step (AUTO) creates its session")
    if still_open():
        raise StepRuleError(
            "rule 'alone, a step closes the session it created': the log file's session is still "
            "open after the step ran alone; use NI's default AUTO and close what you created"
        )
    rows.append(("alone, a step (AUTO) creates its session and closes it", "passed"))
    with JsonLoggerClient(
        log_path, initialization_behavior=behavior.INITIALIZE_SESSION_THEN_DETACH
    ) as setup:
        pass
    try:
        record = run_step("a step attaches to the session Setup opened")
        if record.get("session_id") != setup.session_id:
            raise StepRuleError(
                "rule 'a step attaches to the session Setup opened': the step logged through "
                f"session {record.get('session_id')}, not Setup's {setup.session_id}"
            )
        rows.append(("in a run, a step attaches to the session Setup opened", "passed"))
        if not still_open():
            raise StepRuleError(
                "rule 'a step leaves Setup's session open': the session was closed by the step; "
                "a client must not close a session it attached to"
            )
        rows.append(("in a run, a step leaves Setup's session open for Cleanup", "passed"))
    finally:  # Cleanup: close it, unless the step already did
        cleanup = behavior.ATTACH_TO_SESSION_THEN_CLOSE
        with (
            contextlib.suppress(grpc.RpcError),
            JsonLoggerClient(log_path, initialization_behavior=cleanup),
        ):
            pass
    return table(("rule", "result"), rows)


class LockRuleError(AssertionError):
    """A lock service broke a rule of taking turns; the message names it."""


def check_lock_turns(pb: types.ModuleType, pb_grpc: types.ModuleType, address: str) -> Markdown:
    """Check that the lock service at ``address`` (notebook 7's contract) makes callers take turns.

    Rules: a held lock refuses INITIALIZE_NEW with timeout 0 at once (ALREADY_EXISTS); otherwise
    INITIALIZE_NEW waits its turn, up to its timeout, and a wait that runs out holds nothing; a
    waiter gets the lock when the holder releases it; waiters get it first come, first served;
    every new hold has a greater fencing token. Raises :class:`LockRuleError` naming the first
    rule broken; returns the table of rules.
    """
    new = pb.SESSION_INITIALIZATION_BEHAVIOR_INITIALIZE_NEW
    name = f"check lock {time.monotonic_ns()}"
    rows = []

    def broken(rule: str, why: str) -> LockRuleError:
        return LockRuleError(f"rule '{rule}': {why}")

    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.MyLockStub(channel)

        def acquire(wait_ms: int) -> Any:
            request = pb.AcquireLockRequest(
                resource_name=name,
                session_initialization_behavior=new,
                timeout_in_milliseconds=wait_ms,
            )
            return stub.AcquireLock.future(request, timeout=wait_ms / 1000 + 10)

        def release(hold: Any) -> None:
            stub.ReleaseLock(pb.ReleaseLockRequest(session_id=hold.session_id), timeout=10)

        first = acquire(0).result()
        started = time.monotonic()
        try:
            acquire(0).result()
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.ALREADY_EXISTS or time.monotonic() - started > 1:
                raise broken("timeout 0 is refused at once", f"got {error.code().name}") from None
        else:
            raise broken("timeout 0 is refused at once", "a second hold was created") from None
        rows.append(("a held lock refuses INITIALIZE_NEW with timeout 0 at once", "passed"))

        started = time.monotonic()
        try:
            acquire(300).result()
        except grpc.RpcError as error:
            waited = time.monotonic() - started
            if error.code() != grpc.StatusCode.ALREADY_EXISTS:
                why = f"got {error.code().name} after {waited:.2f} s, not ALREADY_EXISTS"
                raise broken("a wait that runs out holds nothing", why) from None
            if waited < 0.25:
                why = f"a held lock with timeout 300 ms was refused after {waited:.2f} s"
                raise broken("INITIALIZE_NEW waits its turn, up to its timeout", why) from None
        else:
            raise broken("a wait that runs out holds nothing", "it got the held lock") from None
        rows.append(("INITIALIZE_NEW waits up to its timeout, then holds nothing", "passed"))

        waiters = []
        for _ in range(3):  # they arrive one after another
            waiters.append(acquire(10_000))
            time.sleep(0.1)
        if any(waiter.done() for waiter in waiters):
            raise broken(
                "INITIALIZE_NEW waits its turn, up to its timeout",
                "a caller with a timeout was answered before the holder released",
            )
        tokens = [first.fencing_token]
        holder = first
        for arrived, waiter in enumerate(waiters):
            release(holder)
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline and not any(w.done() for w in waiters[arrived:]):
                time.sleep(0.01)
            answered = [n for n, w in enumerate(waiters) if n >= arrived and w.done()]
            if not answered:
                raise broken(
                    "a waiter gets the lock when the holder releases it",
                    f"no waiter was given the lock within 2 s of the release ({arrived + 1} of 3)",
                )
            if answered != [arrived]:
                raise broken(
                    "first come, first served",
                    f"waiter {arrived + 1} came first, but waiter {answered[-1] + 1} was answered",
                )
            try:
                holder = waiter.result()
            except grpc.RpcError as error:
                raise broken(
                    "a waiter gets the lock when the holder releases it",
                    f"waiter {arrived + 1} got {error.code().name}: {error.details()}",
                ) from None
            tokens.append(holder.fencing_token)
        release(holder)
        rows.append(("a waiting INITIALIZE_NEW gets the lock once it is released", "passed"))
        rows.append(("waiters get the lock first come, first served", "passed"))
        if tokens != sorted(set(tokens)):
            raise broken("the fencing token grows", f"the holds' tokens in turn: {tokens}")
        rows.append(("every new hold has a greater fencing token", "passed"))
    return table(("rule", "result"), rows)


def _records(path: Path) -> list[dict[str, object]]:
    return read_records(path) if path.exists() else []


def load_module(path: Path) -> types.ModuleType:
    """Import the module at ``path`` as it is now, under its file name, replacing an older one.

    For modules a notebook writes (``%%writefile``) and may rewrite: a plain ``import`` would keep
    the first version. The module is compiled from source (no cached bytecode of an earlier
    version) and registered in ``sys.modules``, so ``import <name>`` elsewhere finds this one.
    """
    module = types.ModuleType(path.stem)
    module.__file__ = str(path)
    sys.modules[path.stem] = module
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), module.__dict__)
    return module


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Markdown:
    """A Markdown table (``|`` in a cell escaped, ``None`` shown empty)."""

    def cell(value: object) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return Markdown("\n".join(lines))  # type: ignore[no-untyped-call]


def letters(ids: Iterable[str]) -> dict[str, str]:
    """Random session ids as A, B, ... in order of first appearance (empty ids left out)."""
    named: dict[str, str] = {}
    for session_id in ids:
        if session_id and session_id not in named:
            named[session_id] = chr(ord("A") + len(named))
    return named


_COLORS = {
    "created": "#2e7d32",
    "attached": "#1565c0",
    "closed": "#c62828",
    "failed": "#757575",
    "waits": "#8a5a00",
    "queried": "#6a1b9a",
}


def session_picture(
    lanes: Sequence[str], events: Sequence[tuple[str, str, str, str]], *, title: str
) -> SVG:
    """Draw who did what to which session, one row per event, from a run's own data.

    ``lanes`` are the sessions (letters); each event is ``(actor, lane, action, note)`` with
    ``action`` one of created / attached / queried / waits / closed / failed (failed: ``lane``
    may be empty).
    A session's bar runs from the row that created it to the row that closed it.
    """
    row_height, lane_width, top = 30, 64, 56
    label_width = 16 + _text_width(max((actor for actor, *_ in events), key=len, default=""))
    first_lane = label_width + 40  # failed calls are drawn left of the lanes
    height = top + row_height * (len(events) + 1)
    x_of = {lane: first_lane + lane_width * i + lane_width // 2 for i, lane in enumerate(lanes)}
    lanes_end = first_lane + lane_width * max(len(lanes), 1)
    labels = [
        (x_of[lane] + 12 if lane in x_of else lanes_end + 16, _label(action, note))
        for _, lane, action, note in events
    ]
    # wide enough for every label, so that none is cut by the viewBox
    width = 8 + max(
        [lanes_end + 16, 8 + _text_width(title, 9.5)]
        + [x + _text_width(label) for x, label in labels]
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px;min-width:{width * 17 // 20}px" '
        f'font-family="sans-serif" font-size="14" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="8" y="20" font-size="15" font-weight="bold">{html.escape(title)}</text>',
    ]
    parts.append(f'<text x="8" y="{top - 12}" font-weight="bold">step</text>')
    for lane, x in x_of.items():
        parts.append(
            f'<text x="{x}" y="{top - 12}" text-anchor="middle" font-weight="bold">'
            f"{html.escape(lane)}</text>"
        )
    opened: dict[str, int] = {}
    for row, (_, lane, action, _) in enumerate(events):
        if action == "created":
            opened[lane] = row
        elif action == "closed" and lane in opened:
            start = opened.pop(lane)
            parts.append(_bar(x_of[lane], top + row_height * start, top + row_height * row))
    for lane, start in opened.items():  # still open at the end
        end = top + row_height * len(events)
        parts.append(_bar(x_of[lane], top + row_height * start, end))
        parts.append(
            f'<text x="{x_of[lane]}" y="{end + 24}" text-anchor="middle" '
            f'fill="{_COLORS["closed"]}">still open</text>'
        )
    for row, (actor, lane, action, _) in enumerate(events):
        y = top + row_height * row + row_height // 2
        parts.append(f'<text x="8" y="{y + 4}">{html.escape(actor)}</text>')
        color = _COLORS[action]
        x = x_of.get(lane, label_width + 16)
        parts.append(f'<circle cx="{x}" cy="{y}" r="7" fill="{color}"/>')
        label_x, label = labels[row]
        parts.append(f'<text x="{label_x}" y="{y + 4}" fill="{color}">{html.escape(label)}</text>')
    parts.append("</svg>")
    return SVG("".join(parts))  # type: ignore[no-untyped-call]


def _label(action: str, note: str) -> str:
    return f"{action}{' — ' + note if note else ''}"


def _text_width(text: str, per_character: float = 8.5) -> int:
    """A generous width of ``text`` at font-size 14 (a wide sans-serif letter is ~8.5 units)."""
    return int(len(text) * per_character) + 1


def _bar(x: int, y1: int, y2: int) -> str:
    return f'<rect x="{x - 3}" y="{y1 + 15}" width="6" height="{max(y2 - y1, 1)}" fill="#bbb"/>'


def session_life(
    report: Any, records: Sequence[dict[str, object]], still_open: set[str]
) -> list[tuple[str, str, str, str]]:
    """The log-file session's events in a TestStand run, for :func:`session_picture`.

    From the run itself: the Setup step's return value (the session id it created), each
    measurement step's record in the log (the session it wrote through) or its failure, and
    whether the Cleanup step left the session open on the logger (``still_open``).
    """
    events: list[tuple[str, str, str, str]] = []
    created = ""
    main_records = iter(records)  # one record a passed measurement step, in running order
    for result in report.results:
        group = result.group.value
        if result.status.value != "Passed":
            events.append((result.name, "", "failed", result.message.split(":")[0]))
        elif group == "setup" and "logger" in result.name.lower():
            created = result.value[0] if isinstance(result.value, list) else str(result.value)
            events.append((result.name, created, "created", "detached"))
        elif group == "main":
            record = next(main_records, {})
            events.append((result.name, str(record.get("session_id", "")), "attached", "logged"))
        elif group == "cleanup" and "logger" in result.name.lower() and created not in still_open:
            events.append((result.name, created, "closed", ""))
    return events
