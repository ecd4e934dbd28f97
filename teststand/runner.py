"""Run a sequence description without TestStand, the way a TestStand execution runs it.

:func:`run_sequence` runs the Setup, Main and Cleanup groups of a
:class:`~teststand.sequence.SequenceDescription` against services that are already running (NI
platform, JSON Logger Service, measurement plug-ins) and a pin map already registered: the caller
hands in its id. It starts nothing.

- Code module steps: each module is loaded from its file under its file-stem name, as TestStand's
  Python adapter does, so two different files with the same name are refused
  (:class:`ModuleNameCollisionError`) before any step runs. A function that takes the
  SequenceContext gets a :class:`~teststand.sequence_context.StandInSequenceContext` holding the
  pin map id.
- Measurement steps: one Measure call through the measurement v2 gRPC API
  (:class:`measurements.client.MeasurementClient`) with ``PinMapContext(pin_map_id, sites=[0])``,
  or the socket's site: :func:`run_sockets` runs one execution per test socket at once, as
  TestStand's parallel process model does, socket N on site N.

Failure handling (TestStand reports an exception in a step as a run-time error; with default
station options it asks the operator what to do, which a headless run cannot):

- a failing Setup step skips the rest of Setup and all of Main (TestStand's "Run Cleanup"): the
  Main steps rely on the sessions Setup registers;
- a failing Main step is recorded and the next Main step still runs (TestStand's "Ignore"): each
  measurement reserves its own sessions and does not depend on the previous one, and the report
  then shows every measurement; ``stop_on_failure=True`` skips the remaining Main steps instead;
- Cleanup always runs, every step of it, whatever failed before (also after Ctrl+C, which is
  re-raised once Cleanup is done).
"""

from __future__ import annotations

import enum
import importlib.util
import logging
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
from ni.measurementlink.sessionmanagement.v1.client import PinMapContext

from measurements.client import MeasurementClient
from teststand.sequence import (
    MeasurementStep,
    ModuleStep,
    SequenceDescription,
    Step,
    StepGroup,
)
from teststand.sequence_context import StandInSequenceContext

_logger = logging.getLogger(__name__)

MEASUREMENT_SITES = [0]
"""The sites the measurement steps run on (the pin map's one site)."""

MEASUREMENT_TIMEOUT_SECONDS = 60.0
"""gRPC deadline of one Measure call."""


class StepStatus(str, enum.Enum):
    """A step's result, with TestStand's names."""

    PASSED = "Passed"
    FAILED = "Failed"
    SKIPPED = "Skipped"


@dataclass(frozen=True)
class StepResult:
    """What one step did."""

    group: StepGroup
    name: str
    status: StepStatus
    duration: float = 0.0
    """Seconds."""
    started_at: float = 0.0
    """When the step began (``time.time()``): timelines of sockets running at once."""
    message: str = ""
    """Why the step failed or was skipped."""
    value: Any = None
    """A module function's return value, or a measurement's outputs by name."""


@dataclass(frozen=True)
class RunReport:
    """The results of one run, in running order."""

    sequence: str
    pin_map_id: str
    results: tuple[StepResult, ...]
    duration: float
    socket: int | None = None
    """The test socket, when :func:`run_sockets` ran it."""

    @property
    def passed(self) -> bool:
        """Whether no step failed."""
        return not self.failed

    @property
    def failed(self) -> list[StepResult]:
        """The failed steps."""
        return [result for result in self.results if result.status is StepStatus.FAILED]

    def group(self, group: StepGroup) -> list[StepResult]:
        """The results of one step group."""
        return [result for result in self.results if result.group is group]

    def result(self, name: str) -> StepResult:
        """The result of the step named ``name``."""
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(name)


class ModuleNameCollisionError(ValueError):
    """Two code modules share a file name, which TestStand resolves to one module."""


class CodeModules:
    """Code modules loaded by file path under their file-stem name, as TestStand does.

    The modules live in this object, not in ``sys.modules`` (they are there only while they
    execute), so separate runs in one process do not see each other's modules.
    """

    def __init__(self) -> None:
        self._paths: dict[str, Path] = {}
        self._modules: dict[str, ModuleType] = {}

    def add(self, paths: Iterable[Path]) -> None:
        """Claim module names for files; refuse a name two files (or an imported module) use."""
        for path in paths:
            path = path.resolve()
            name = path.stem
            known = self._paths.get(name)
            if known is not None and known != path:
                raise ModuleNameCollisionError(
                    f"code modules {known} and {path} are both named {name!r}: TestStand "
                    "resolves Python modules by file name, so one would replace the other; "
                    "give every code module a unique file name"
                )
            imported = sys.modules.get(name)
            imported_file = getattr(imported, "__file__", None)
            if imported is not None and (
                imported_file is None or Path(imported_file).resolve() != path
            ):
                raise ModuleNameCollisionError(
                    f"code module {path} is named {name!r} like the already imported module "
                    f"{imported_file or imported!r}; give the code module a unique file name"
                )
            self._paths[name] = path

    def function(self, path: Path, name: str) -> Callable[..., Any]:
        """The function ``name`` of the module at ``path`` (loaded on first use)."""
        module = self._load(path)
        function = getattr(module, name, None)
        if not callable(function):
            raise AttributeError(f"{path.name} has no function {name!r}")
        return function  # type: ignore[no-any-return]

    def _load(self, path: Path) -> ModuleType:
        path = path.resolve()
        self.add([path])
        name = path.stem
        if name in self._modules:
            return self._modules[name]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path} as a Python module")
        module = importlib.util.module_from_spec(spec)
        previous = sys.modules.get(name)
        sys.modules[name] = module  # while it executes, as an import would
        try:
            spec.loader.exec_module(module)
        finally:
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
        self._modules[name] = module
        return module


def run_sequence(
    sequence: SequenceDescription,
    pin_map_id: str,
    *,
    stop_on_failure: bool = False,
    measurement_timeout: float | None = MEASUREMENT_TIMEOUT_SECONDS,
    socket: int | None = None,
    code_modules: CodeModules | None = None,
) -> RunReport:
    """Run ``sequence`` with the registered pin map ``pin_map_id``; return the report.

    ``socket``: run as that test socket (``RunState.TestSockets.MyIndex``; measurements on that
    site). ``code_modules``: the loaded modules to use (sockets of one run share them).

    Raises:
        ModuleNameCollisionError: before any step runs.
        KeyboardInterrupt: after Cleanup, when interrupted.
    """
    modules = code_modules or CodeModules()
    modules.add(step.module for _, step in sequence.steps() if isinstance(step, ModuleStep))
    runner = _Run(sequence, pin_map_id, modules, measurement_timeout, socket)
    started = time.perf_counter()
    results: list[StepResult] = []
    interrupted: KeyboardInterrupt | None = None
    skip_reason = ""
    for group in StepGroup:
        for step in sequence.group(group):
            if skip_reason and group is not StepGroup.CLEANUP:
                results.append(
                    StepResult(group, step.name, StepStatus.SKIPPED, message=skip_reason)
                )
                continue
            try:
                result = runner.run_step(group, step)
            except KeyboardInterrupt as interrupt:
                interrupted = interrupt
                result = StepResult(group, step.name, StepStatus.FAILED, message="interrupted")
            results.append(result)
            if result.status is StepStatus.FAILED and group is not StepGroup.CLEANUP:
                runner.sequence_context.SequenceFailed = True
                if interrupted is not None:
                    skip_reason = "the run was interrupted"
                elif group is StepGroup.SETUP:
                    skip_reason = f"Setup step {step.name!r} failed"
                elif stop_on_failure:
                    skip_reason = f"Main step {step.name!r} failed"
    report = RunReport(
        sequence.name,
        pin_map_id,
        tuple(results),
        duration=time.perf_counter() - started,
        socket=socket,
    )
    _logger.info(
        "Sequence %s %s in %.2f s.",
        sequence.name,
        "passed" if report.passed else "failed",
        report.duration,
    )
    if interrupted is not None:
        raise interrupted
    return report


class _Run:
    """One execution: the sequence context and the loaded modules."""

    def __init__(
        self,
        sequence: SequenceDescription,
        pin_map_id: str,
        modules: CodeModules,
        measurement_timeout: float | None,
        socket: int | None,
    ) -> None:
        self.sequence = sequence
        self.pin_map_id = pin_map_id
        self.modules = modules
        self.measurement_timeout = measurement_timeout
        self.sites = list(MEASUREMENT_SITES) if socket is None else [socket]
        self.sequence_context = StandInSequenceContext(pin_map_id, socket_index=socket)

    def run_step(self, group: StepGroup, step: Step) -> StepResult:
        _logger.info("%s step %r starting.", group.display_name, step.name)
        started_at = time.time()
        started = time.perf_counter()
        try:
            value = self._call(step)
        except (Exception, SystemExit) as error:  # a module's sys.exit() must not skip Cleanup
            duration = time.perf_counter() - started
            _logger.warning(
                "%s step %r failed: %s", group.display_name, step.name, describe_error(error)
            )
            _logger.debug("Traceback of step %r.", step.name, exc_info=True)
            return StepResult(
                group,
                step.name,
                StepStatus.FAILED,
                duration,
                started_at,
                message=describe_error(error),
            )
        duration = time.perf_counter() - started
        _logger.info("%s step %r passed in %.3f s.", group.display_name, step.name, duration)
        return StepResult(group, step.name, StepStatus.PASSED, duration, started_at, value=value)

    def _call(self, step: Step) -> Any:
        if isinstance(step, ModuleStep):
            function = self.modules.function(step.module, step.function)
            return function(self.sequence_context) if step.sequence_context else function()
        return self._measure(step)

    def _measure(self, step: MeasurementStep) -> dict[str, Any]:
        context = PinMapContext(pin_map_id=self.pin_map_id, sites=self.sites)
        with MeasurementClient(
            step.measurement_service, timeout=self.measurement_timeout
        ) as client:
            outputs = client.measure(context, **step.configuration)
        return {name: _plain(value) for name, value in outputs.items()}


def run_sockets(
    sequence: SequenceDescription,
    pin_map_id: str,
    sockets: int,
    *,
    measurement_timeout: float | None = MEASUREMENT_TIMEOUT_SECONDS,
) -> list[RunReport]:
    """Run ``sequence`` once per test socket, all at once (TestStand's parallel process model):
    socket N on site N, each with its own sequence context; return the reports by socket.
    """
    modules = CodeModules()
    for _, step in sequence.steps():  # loaded once, here: the sockets' threads share them
        if isinstance(step, ModuleStep):
            modules.function(step.module, step.function)
    with ThreadPoolExecutor(max_workers=sockets, thread_name_prefix="socket") as pool:
        runs = [
            pool.submit(
                run_sequence,
                sequence,
                pin_map_id,
                measurement_timeout=measurement_timeout,
                socket=socket,
                code_modules=modules,
            )
            for socket in range(sockets)
        ]
        return [run.result() for run in runs]


def describe_error(error: BaseException) -> str:
    """One message for a step's failure: a gRPC status's details, else the exception."""
    if isinstance(error, grpc.RpcError) and isinstance(error, grpc.Call):
        return f"{error.code().name}: {error.details()}"
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def format_report(report: RunReport, *, width: int = 80) -> str:
    """The report as a text table (one line a step), then the full message of each failure."""
    rows = [("Group", "Step", "Result", "Time", "Value / message")]
    for result in report.results:
        detail = (
            result.message if result.status is not StepStatus.PASSED else format_value(result.value)
        )
        rows.append(
            (
                result.group.display_name,
                result.name,
                result.status.value,
                f"{result.duration:.3f} s" if result.status is not StepStatus.SKIPPED else "-",
                _shorten(detail, width),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    socket = "" if report.socket is None else f", socket {report.socket}"
    lines = [f"Sequence {report.sequence}{socket} (pin map {report.pin_map_id})"]
    for index, row in enumerate(rows):
        cells = [cell.ljust(widths[column]) for column, cell in enumerate(row[:4])]
        lines.append("  ".join([*cells, row[4]]).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in [*widths, len(row[4])]))
    counts = {status: 0 for status in StepStatus}
    for result in report.results:
        counts[result.status] += 1
    summary = ", ".join(f"{count} {status.value.lower()}" for status, count in counts.items())
    lines.append("")
    lines.append(
        f"Result: {'Passed' if report.passed else 'Failed'} ({summary}) in {report.duration:.2f} s"
    )
    for result in report.failed:
        lines.append(f"  {result.group.display_name} step {result.name!r}: {result.message}")
    return "\n".join(lines)


def format_value(value: Any) -> str:
    """A short text for a step's return value or outputs."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{key}={format_value(item)}" for key, item in value.items())
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    return str(value)


def _plain(value: Any) -> Any:
    """Repeated protobuf fields as lists, so reports and callers see plain Python values."""
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, dict)):
        return [_plain(item) for item in value]
    return value


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
