"""The part of TestStand's SequenceContext that the code modules use, and a stand-in for it.

TestStand passes its SequenceContext COM object to a Python code module; the modules read the pin
map id that a pin map step stored in the execution's run-time variables, (Cleanup of the
results database) whether the sequence failed, and (the hardware lock) which test socket runs.
The headless runner and the tests pass :class:`StandInSequenceContext` instead. The member names
are TestStand's.
"""

from __future__ import annotations

from typing import Protocol

PIN_MAP_ID_VARIABLE = "NI.MeasurementPlugIns.PinMapId"
"""Run-time variable in which TestStand's pin map support stores the registered pin map's id."""

SOCKET_INDEX_PROPERTY = "RunState.TestSockets.MyIndex"
"""The test socket of the execution under the batch and parallel process models."""

NO_OPTIONS = 0
"""``PropertyOptions_NoOptions``: the ``options`` argument TestStand's property lookups take."""


class RunTimeVariables(Protocol):
    """``Execution.RunTimeVariables``: a TestStand PropertyObject."""

    def Exists(self, lookupString: str, options: int) -> bool:  # noqa: N802, N803
        """Whether the property exists."""
        ...

    def GetValString(self, lookupString: str, options: int) -> str:  # noqa: N802, N803
        """The property's string value."""
        ...


class PropertyObject(Protocol):
    """``SequenceContext.AsPropertyObject()``: lookups by TestStand's lookup strings."""

    def Exists(self, lookupString: str, options: int) -> bool:  # noqa: N802, N803
        """Whether the property exists."""
        ...

    def GetValNumber(self, lookupString: str, options: int) -> float:  # noqa: N802, N803
        """The property's numeric value."""
        ...


class Execution(Protocol):
    """``SequenceContext.Execution``."""

    @property
    def RunTimeVariables(self) -> RunTimeVariables:  # noqa: N802
        """The execution's run-time variables."""
        ...


class SequenceContext(Protocol):
    """What the code modules need of TestStand's SequenceContext."""

    @property
    def Execution(self) -> Execution:  # noqa: N802
        """The running execution."""
        ...

    @property
    def SequenceFailed(self) -> bool:  # noqa: N802
        """Whether a step of the sequence failed."""
        ...

    @property
    def SequenceErrorOccurred(self) -> bool:  # noqa: N802
        """Whether a step of the sequence raised a run-time error."""
        ...

    def AsPropertyObject(self) -> PropertyObject:  # noqa: N802
        """The context as a PropertyObject (``RunState.…`` lookups)."""
        ...


def sequence_passed(sequence_context: SequenceContext) -> bool:
    """Whether the sequence has neither failed nor raised an error so far."""
    return not (sequence_context.SequenceFailed or sequence_context.SequenceErrorOccurred)


class PinMapIdNotSetError(LookupError):
    """The execution has no pin map id: no pin map was set before Setup ran."""


def read_pin_map_id(sequence_context: SequenceContext) -> str:
    """The pin map id of the execution, as NI's TestStand support reads it."""
    variables = sequence_context.Execution.RunTimeVariables
    if not variables.Exists(PIN_MAP_ID_VARIABLE, NO_OPTIONS):
        raise PinMapIdNotSetError(
            f"the run-time variable {PIN_MAP_ID_VARIABLE} is not set: set the pin map "
            "(Measurement Plug-In pin map step, or the sequence file's pin map) before Setup"
        )
    pin_map_id = variables.GetValString(PIN_MAP_ID_VARIABLE, NO_OPTIONS)
    if not pin_map_id:
        raise PinMapIdNotSetError(f"the run-time variable {PIN_MAP_ID_VARIABLE} is empty")
    return pin_map_id


def read_socket_index(sequence_context: SequenceContext) -> int:
    """The execution's test socket (0, 1, …); 0 outside the batch and parallel models."""
    properties = sequence_context.AsPropertyObject()
    if not properties.Exists(SOCKET_INDEX_PROPERTY, NO_OPTIONS):
        return 0
    return max(0, int(properties.GetValNumber(SOCKET_INDEX_PROPERTY, NO_OPTIONS)))


class StandInRunTimeVariables:
    """String run-time variables held in a dict."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values = dict(values or {})

    def Exists(self, lookupString: str, options: int) -> bool:  # noqa: N802, N803
        """Whether the variable is set."""
        return lookupString in self.values

    def GetValString(self, lookupString: str, options: int) -> str:  # noqa: N802, N803
        """The variable's value; a missing one raises ``KeyError`` like TestStand's lookup error."""
        try:
            return self.values[lookupString]
        except KeyError:
            raise KeyError(f"Unknown variable or property name '{lookupString}'.") from None


class StandInExecution:
    """An execution holding run-time variables."""

    def __init__(self, run_time_variables: StandInRunTimeVariables) -> None:
        self._run_time_variables = run_time_variables

    @property
    def RunTimeVariables(self) -> StandInRunTimeVariables:  # noqa: N802
        """The execution's run-time variables."""
        return self._run_time_variables


class StandInProperties:
    """Numeric properties by lookup string (the context's ``RunState``)."""

    def __init__(self, values: dict[str, float]) -> None:
        self.values = values

    def Exists(self, lookupString: str, options: int) -> bool:  # noqa: N802, N803
        """Whether the property is set."""
        return lookupString in self.values

    def GetValNumber(self, lookupString: str, options: int) -> float:  # noqa: N802, N803
        """The property's value; a missing one raises ``KeyError`` like TestStand's lookup."""
        try:
            return self.values[lookupString]
        except KeyError:
            raise KeyError(f"Unknown variable or property name '{lookupString}'.") from None


class StandInSequenceContext:
    """A SequenceContext for running the code modules without TestStand."""

    def __init__(self, pin_map_id: str | None, *, socket_index: int | None = None) -> None:
        """Hold ``pin_map_id`` as ``NI.MeasurementPlugIns.PinMapId`` (None: not set) and
        ``socket_index`` as ``RunState.TestSockets.MyIndex`` (None: no sockets).
        """
        values = {} if pin_map_id is None else {PIN_MAP_ID_VARIABLE: pin_map_id}
        self._execution = StandInExecution(StandInRunTimeVariables(values))
        sockets = {} if socket_index is None else {SOCKET_INDEX_PROPERTY: float(socket_index)}
        self._properties = StandInProperties(sockets)
        self.SequenceFailed = False
        self.SequenceErrorOccurred = False

    def AsPropertyObject(self) -> StandInProperties:  # noqa: N802
        """The context's properties (``RunState.TestSockets.MyIndex``)."""
        return self._properties

    @property
    def Execution(self) -> StandInExecution:  # noqa: N802
        """The execution this context belongs to."""
        return self._execution
