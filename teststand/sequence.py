"""The sequence description: one data file, read by the README and by the headless runner.

``SessionSharing.sequence.json`` (next to this module) describes the TestStand sequence::

    {
      "name": "SessionSharing",
      "description": "optional text",
      "pin_map": "../pinmap/SessionSharing.pinmap",
      "setup":   [step, ...],
      "main":    [step, ...],
      "cleanup": [step, ...]
    }

Each step has a ``name`` (unique in the sequence), an optional ``description``, and is one of:

- a code module step: ``module`` (a ``.py`` file, relative to the description's folder),
  ``function``, and ``sequence_context`` (true: the function takes TestStand's SequenceContext;
  default false);
- a measurement plug-in step: ``measurement_service`` (the plug-in's service class) and
  ``configuration`` (configuration values by name; enum values by member name; default: none,
  i.e. the plug-in's defaults).

Anything else is refused with a :class:`SequenceDescriptionError` naming the file, the step and the
key, so a typo cannot silently change what runs. The pin map path is resolved relative to the
description but not required to exist: the caller registers a pin map and hands its id to the
runner.
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

DEFAULT_SEQUENCE_PATH = Path(__file__).resolve().parent / "SessionSharing.sequence.json"
"""The session-sharing sequence this package ships."""
TWO_SOCKETS_SEQUENCE_PATH = Path(__file__).resolve().parent / "TwoSockets.sequence.json"
"""The sequence two test sockets run at once, sharing one DMM under a hardware lock."""
DUT_SUPPLY_SEQUENCE_PATH = Path(__file__).resolve().parent / "DutSupply.sequence.json"
"""The sequence that sets a DUT's supply over its one connection and measures it with the DMM."""


class SequenceDescriptionError(ValueError):
    """The sequence description is malformed; the message says where and why."""


class StepGroup(str, enum.Enum):
    """TestStand's step groups, in the order they run."""

    SETUP = "setup"
    MAIN = "main"
    CLEANUP = "cleanup"

    @property
    def display_name(self) -> str:
        """``Setup``, ``Main`` or ``Cleanup``, as TestStand names the group."""
        return self.value.capitalize()


@dataclass(frozen=True)
class ModuleStep:
    """A step calling a function of a Python code module (TestStand's Python adapter)."""

    name: str
    module: Path
    """Absolute path of the module file."""
    function: str
    sequence_context: bool = False
    """Whether the function takes the SequenceContext as its only argument."""
    description: str = ""


@dataclass(frozen=True)
class MeasurementStep:
    """A Measurement Plug-In step: one call of a plug-in's Measure."""

    name: str
    measurement_service: str
    """The plug-in's service class."""
    configuration: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


Step: TypeAlias = ModuleStep | MeasurementStep


@dataclass(frozen=True)
class SequenceDescription:
    """A sequence: its steps in the Setup, Main and Cleanup groups."""

    name: str
    setup: tuple[Step, ...] = ()
    main: tuple[Step, ...] = ()
    cleanup: tuple[Step, ...] = ()
    pin_map: Path | None = None
    """The pin map the sequence is written for (absolute), if the description names one."""
    description: str = ""
    path: Path | None = None
    """The file the description was loaded from."""

    def group(self, group: StepGroup) -> tuple[Step, ...]:
        """The steps of one group."""
        steps: tuple[Step, ...] = getattr(self, group.value)
        return steps

    def steps(self) -> Iterator[tuple[StepGroup, Step]]:
        """Every step with its group, in running order."""
        for group in StepGroup:
            for step in self.group(group):
                yield group, step


_SEQUENCE_KEYS = {"name", "description", "pin_map", *(group.value for group in StepGroup)}
_COMMON_STEP_KEYS = {"name", "description"}
_MODULE_STEP_KEYS = _COMMON_STEP_KEYS | {"module", "function", "sequence_context"}
_MEASUREMENT_STEP_KEYS = _COMMON_STEP_KEYS | {"measurement_service", "configuration"}


def load_sequence(path: str | os.PathLike[str] = DEFAULT_SEQUENCE_PATH) -> SequenceDescription:
    """Read and validate a sequence description file."""
    path = Path(path).resolve()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SequenceDescriptionError(f"{path}: cannot read: {error.strerror or error}") from error
    except json.JSONDecodeError as error:
        raise SequenceDescriptionError(f"{path}: not valid JSON: {error}") from error
    return parse_sequence(data, base_dir=path.parent, source=str(path), path=path)


def parse_sequence(
    data: object,
    *,
    base_dir: Path,
    source: str = "<sequence>",
    path: Path | None = None,
) -> SequenceDescription:
    """Validate decoded JSON; relative paths are resolved against ``base_dir``."""
    where = source
    sequence = _object(data, where)
    _check_keys(sequence, allowed=_SEQUENCE_KEYS, required={"name"}, where=where)
    name = _string(sequence, "name", where)
    pin_map = sequence.get("pin_map")
    if pin_map is not None and (not isinstance(pin_map, str) or not pin_map.strip()):
        raise SequenceDescriptionError(f"{where}: 'pin_map' must be a non-empty string")
    groups: dict[StepGroup, tuple[Step, ...]] = {}
    seen: dict[str, str] = {}
    for group in StepGroup:
        raw_steps = sequence.get(group.value, [])
        if not isinstance(raw_steps, list):
            raise SequenceDescriptionError(f"{where}: '{group.value}' must be a list of steps")
        steps = []
        for index, raw in enumerate(raw_steps):
            step = _parse_step(raw, base_dir, f"{where}: {group.value}[{index}]")
            if step.name in seen:
                raise SequenceDescriptionError(
                    f"{where}: {group.value}[{index}]: step name {step.name!r} is used twice "
                    f"(also {seen[step.name]})"
                )
            seen[step.name] = f"{group.value}[{index}]"
            steps.append(step)
        groups[group] = tuple(steps)
    return SequenceDescription(
        name=name,
        setup=groups[StepGroup.SETUP],
        main=groups[StepGroup.MAIN],
        cleanup=groups[StepGroup.CLEANUP],
        pin_map=(base_dir / pin_map).resolve() if isinstance(pin_map, str) else None,
        description=_optional_string(sequence, "description", where),
        path=path,
    )


def _parse_step(raw: object, base_dir: Path, where: str) -> Step:
    step = _object(raw, where)
    if isinstance(step.get("name"), str):
        where = f"{where} ({step['name']!r})"
    is_module = "module" in step
    is_measurement = "measurement_service" in step
    if is_module == is_measurement:
        raise SequenceDescriptionError(
            f"{where}: a step has exactly one of 'module' (a code module step) or "
            f"'measurement_service' (a measurement plug-in step), "
            f"found {'both' if is_module else 'neither'}"
        )
    if is_module:
        _check_keys(step, allowed=_MODULE_STEP_KEYS, required={"name", "function"}, where=where)
        module = _string(step, "module", where)
        module_path = (base_dir / module).resolve()
        if module_path.suffix != ".py":
            raise SequenceDescriptionError(f"{where}: module {module!r} is not a .py file")
        if not module_path.is_file():
            raise SequenceDescriptionError(
                f"{where}: module file {module!r} not found (looked for {module_path})"
            )
        function = _string(step, "function", where)
        if not function.isidentifier():
            raise SequenceDescriptionError(f"{where}: function {function!r} is not a Python name")
        sequence_context = step.get("sequence_context", False)
        if not isinstance(sequence_context, bool):
            raise SequenceDescriptionError(f"{where}: 'sequence_context' must be true or false")
        return ModuleStep(
            name=_string(step, "name", where),
            module=module_path,
            function=function,
            sequence_context=sequence_context,
            description=_optional_string(step, "description", where),
        )
    _check_keys(step, allowed=_MEASUREMENT_STEP_KEYS, required={"name"}, where=where)
    configuration = step.get("configuration", {})
    if not isinstance(configuration, dict):
        raise SequenceDescriptionError(
            f"{where}: 'configuration' must be an object of configuration values by name"
        )
    return MeasurementStep(
        name=_string(step, "name", where),
        measurement_service=_string(step, "measurement_service", where),
        configuration=dict(configuration),
        description=_optional_string(step, "description", where),
    )


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SequenceDescriptionError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _check_keys(
    value: Mapping[str, object], *, allowed: set[str], required: set[str], where: str
) -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise SequenceDescriptionError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    missing = sorted(required - set(value))
    if missing:
        raise SequenceDescriptionError(f"{where}: missing key(s) {', '.join(map(repr, missing))}")


def _string(value: Mapping[str, object], key: str, where: str) -> str:
    text = value.get(key)
    if not isinstance(text, str) or not text.strip():
        raise SequenceDescriptionError(f"{where}: {key!r} must be a non-empty string")
    return text


def _optional_string(value: Mapping[str, object], key: str, where: str) -> str:
    text = value.get(key, "")
    if not isinstance(text, str):
        raise SequenceDescriptionError(f"{where}: {key!r} must be a string")
    return text
