"""``measurements.failures`` without services: the session clients raise typed errors, and each
failure becomes the status and message a plug-in's caller sees.

(tests/test_measurements.py checks the same messages end to end, with the plug-ins running.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from ni.measurementlink.sessionmanagement.v1.client import (
    INSTRUMENT_TYPE_NI_DMM,
    MultiSessionReservation,
    PinMapContext,
    SessionManagementClient,
)

from logger_client import JsonLoggerClient
from measurements.failures import (
    fail_if_no_session_of_type,
    reservation_failed,
    session_failed,
)
from results_client import ResultRow, ResultsDatabaseClient
from session_core.client_errors import (
    ResourceRefusedError,
    ServiceNotFoundError,
    ServiceUnreachableError,
    SessionCallError,
)

PINS = ["DMMPin", "LoggerPin"]
HINTS = {INSTRUMENT_TYPE_NI_DMM: "Select one pin connected to an NI-DMM for nidmm_pin."}


class AbortedError(Exception):
    """What the fake context's ``abort`` raises (gRPC's raises a bare ``Exception``)."""


class FakeContext:
    """The parts of NI's ``MeasurementContext`` that the translator uses."""

    time_remaining = None
    pin_map_context = PinMapContext(pin_map_id="the-pin-map", sites=[0])

    def __init__(self) -> None:
        self.status: tuple[grpc.StatusCode, str] | None = None

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.status = (code, details)
        raise AbortedError(details)


class FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


def raising(error: BaseException) -> Callable[..., Any]:
    def call(*args: object, **kwargs: object) -> Any:
        raise error

    return call


def status_of(report: Callable[[Any], object]) -> tuple[grpc.StatusCode, str]:
    """Call ``report(measurement_service)``; return the status the RPC ended with."""
    context = FakeContext()
    with pytest.raises(AbortedError):
        report(SimpleNamespace(context=context))
    assert context.status is not None
    return context.status


def raised_by(action: Callable[[], object]) -> BaseException:
    """What ``action`` raises."""
    with pytest.raises(BaseException) as raised:
        action()
    return raised.value


class StubbedLogger(JsonLoggerClient):
    """A logger client whose stub answers every call with ``error``."""

    def __init__(self, path: Path, error: BaseException) -> None:
        super().__init__(path, address="127.0.0.1:1")
        self.error = error

    def _get_stub(self) -> Any:
        return SimpleNamespace(
            InitializeFile=raising(self.error), LogMeasurementData=raising(self.error)
        )


class StubbedManagement(SessionManagementClient):
    """NI's client, its stub answering every call with ``error``."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(grpc_channel=grpc.insecure_channel("127.0.0.1:1"))
        self.error = error

    def _get_stub(self) -> Any:
        return SimpleNamespace(
            ReserveSessions=raising(self.error), UnreserveSessions=raising(self.error)
        )


@pytest.mark.parametrize(
    ("code", "waited"),
    [(grpc.StatusCode.UNAVAILABLE, " within 60.0 s"), (grpc.StatusCode.INVALID_ARGUMENT, "")],
)
def test_a_refused_reservation_names_the_pins_and_the_pin_map(
    code: grpc.StatusCode, waited: str
) -> None:
    client = StubbedManagement(FakeRpcError(code, "no"))
    error = raised_by(
        lambda: client.reserve_sessions(FakeContext.pin_map_context, PINS, timeout=60.0)
    )

    assert status_of(lambda service: reservation_failed(service, PINS, 60.0, error)) == (  # type: ignore[arg-type]
        code,
        f"Could not reserve the pins DMMPin, LoggerPin of pin map 'the-pin-map' (sites [0]){waited}"
        ": no",
    )


def test_a_reservation_nis_context_refuses_as_a_value_error_is_an_invalid_argument() -> None:
    error = ValueError("You must specify at least one pin or relay name.")

    assert status_of(lambda service: reservation_failed(service, [], 1.0, error)) == (  # type: ignore[arg-type]
        grpc.StatusCode.INVALID_ARGUMENT,
        "Cannot reserve: You must specify at least one pin or relay name.",
    )


def test_a_log_file_the_service_refuses(tmp_path: Path) -> None:
    log = StubbedLogger(tmp_path / "x.csv", FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT, "bad"))
    error = raised_by(log.__enter__)

    assert isinstance(error, ResourceRefusedError)
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "bad")
    assert status_of(lambda service: session_failed(service, error)) == (  # type: ignore[arg-type]
        grpc.StatusCode.INVALID_ARGUMENT,
        f"The JSON Logger Service refused the log file {str(tmp_path / 'x.csv')!r} (the name of "
        "the JsonLoggerService instrument in the pin map): bad",
    )


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED])
def test_an_unreachable_service(tmp_path: Path, code: grpc.StatusCode) -> None:
    log = StubbedLogger(tmp_path / "x.ndjson", FakeRpcError(code, "down"))
    error = raised_by(log.__enter__)

    assert isinstance(error, ServiceUnreachableError)
    assert status_of(lambda service: session_failed(service, error)) == (  # type: ignore[arg-type]
        grpc.StatusCode.UNAVAILABLE,
        f"Cannot reach the JSON Logger Service to open the log file "
        f"{str(tmp_path / 'x.ndjson')!r}: down. Start it with `python -m logger_service`.",
    )


def test_a_service_the_discovery_service_does_not_know(tmp_path: Path) -> None:
    discovery = SimpleNamespace(
        resolve_service=raising(FakeRpcError(grpc.StatusCode.NOT_FOUND, "unknown service"))
    )
    log = JsonLoggerClient(tmp_path / "x.ndjson", discovery_client=discovery)  # type: ignore[arg-type]
    error = raised_by(log.__enter__)

    assert isinstance(error, ServiceNotFoundError)
    code, message = status_of(lambda service: session_failed(service, error))  # type: ignore[arg-type]
    assert code is grpc.StatusCode.FAILED_PRECONDITION
    assert message.startswith(
        f"Cannot use the log file {str(tmp_path / 'x.ndjson')!r}: the JSON Logger Service "
    )
    assert message.endswith("Start it with `python -m logger_service`.")


def test_a_record_the_logger_cannot_write(tmp_path: Path) -> None:
    log = StubbedLogger(tmp_path / "x.ndjson", FakeRpcError(grpc.StatusCode.INTERNAL, "disk full"))
    log._open = True  # opened earlier
    error = raised_by(lambda: log.log_data("step", {}, {}))

    assert isinstance(error, SessionCallError) and isinstance(error, grpc.RpcError)
    assert status_of(lambda service: session_failed(service, error)) == (  # type: ignore[arg-type]
        grpc.StatusCode.INTERNAL,
        f"Could not write the measurement record to {str(tmp_path / 'x.ndjson')!r}: disk full",
    )


def test_results_the_database_cannot_record(tmp_path: Path) -> None:
    class Stubbed(ResultsDatabaseClient):
        def _get_stub(self) -> Any:
            return SimpleNamespace(
                RecordResults=raising(FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT, "nan"))
            )

    database = Stubbed(tmp_path / "r.db", address="127.0.0.1:1")
    database._open = True
    error = raised_by(lambda: database.record_results([ResultRow("v", 1.0)]))

    assert status_of(lambda service: session_failed(service, error)) == (  # type: ignore[arg-type]
        grpc.StatusCode.INVALID_ARGUMENT,
        f"Could not record the results in {str(tmp_path / 'r.db')!r}: nan",
    )


def test_no_session_of_an_instrument_type_gives_the_hint_for_it() -> None:
    reservation = MultiSessionReservation(StubbedManagement(RuntimeError()), session_info=[])

    def hint_for(type_id: str) -> tuple[grpc.StatusCode, str]:
        error = raised_by(
            lambda: reservation.initialize_session(lambda info: info, type_id).__enter__()
        )
        assert isinstance(error, ValueError)
        return status_of(lambda service: fail_if_no_session_of_type(service, error, HINTS))

    code, message = hint_for(INSTRUMENT_TYPE_NI_DMM)
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith("No reserved sessions matched instrument type ID 'niDMM'.")
    assert message.endswith(" Select one pin connected to an NI-DMM for nidmm_pin.")
    assert hint_for("Other")[1].endswith(
        " Select a pin connected to the Other instrument of the pin map."
    )
    assert hint_for("JsonLoggerService")[1].endswith("for json_logger_pin.")


def test_other_value_errors_are_left_to_the_caller() -> None:
    context = FakeContext()

    fail_if_no_session_of_type(SimpleNamespace(context=context), ValueError("ours"), HINTS)  # type: ignore[arg-type]

    assert context.status is None


def test_no_shipped_code_reads_traceback_frames() -> None:
    """Which call failed is known from where it was caught and its type, never from frames."""
    root = Path(__file__).resolve().parents[1]
    shipped = ["logger_client", "results_client", "measurements", "teststand"]
    modules = [path for package in shipped for path in (root / package).rglob("*.py")]
    modules += list((root / "packages").glob("*/src/**/*.py"))  # the core and the platform
    readers = [
        str(path.relative_to(root))
        for path in modules
        if re.search(r"f_locals|walk_tb|extract_tb|tb_frame", path.read_text(encoding="utf-8"))
    ]

    assert any(path.match("*/session_core/client.py") for path in modules)
    assert readers == []
