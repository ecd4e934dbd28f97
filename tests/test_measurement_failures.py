"""``measurements.failures.reported_as_status`` without services: which call failed is read from
the traceback, and each failure becomes the status and message a plug-in's caller sees.

(tests/test_measurements.py checks the same messages end to end, with the plug-ins running.)
"""

from __future__ import annotations

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
from measurements.failures import reported_as_status
from results_client import ResultRow, ResultsDatabaseClient

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


def status_of(action: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    """Run ``action`` inside ``reported_as_status``; return the status the RPC ended with."""
    context = FakeContext()
    with pytest.raises(AbortedError):
        with reported_as_status(SimpleNamespace(context=context), PINS, hints=HINTS):  # type: ignore[arg-type]
            action()
    assert context.status is not None
    return context.status


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

    assert status_of(
        lambda: client.reserve_sessions(FakeContext.pin_map_context, PINS, timeout=60.0)
    ) == (
        code,
        f"Could not reserve the pins DMMPin, LoggerPin of pin map 'the-pin-map' (sites [0]){waited}"
        ": no",
    )


def test_a_failed_unreservation_is_not_reported_as_a_reservation() -> None:
    error = FakeRpcError(grpc.StatusCode.UNAVAILABLE, "gone")
    reservation = MultiSessionReservation(StubbedManagement(error), session_info=[])

    with pytest.raises(FakeRpcError) as raised:
        with reported_as_status(SimpleNamespace(context=FakeContext()), PINS, hints=HINTS):  # type: ignore[arg-type]
            reservation.unreserve()

    assert raised.value is error


def test_a_log_file_the_service_refuses(tmp_path: Path) -> None:
    log = StubbedLogger(tmp_path / "x.csv", FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT, "bad"))

    assert status_of(log.__enter__) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        f"The JSON Logger Service refused the log file {str(tmp_path / 'x.csv')!r} (the name of "
        "the JsonLoggerService instrument in the pin map): bad",
    )


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED])
def test_an_unreachable_service(tmp_path: Path, code: grpc.StatusCode) -> None:
    log = StubbedLogger(tmp_path / "x.ndjson", FakeRpcError(code, "down"))

    assert status_of(log.__enter__) == (
        grpc.StatusCode.UNAVAILABLE,
        f"Cannot reach the JSON Logger Service to open the log file "
        f"{str(tmp_path / 'x.ndjson')!r}: down. Start it with `python -m logger_service`.",
    )


def test_a_service_the_discovery_service_does_not_know(tmp_path: Path) -> None:
    discovery = SimpleNamespace(
        resolve_service=raising(FakeRpcError(grpc.StatusCode.NOT_FOUND, "unknown service"))
    )
    log = JsonLoggerClient(tmp_path / "x.ndjson", discovery_client=discovery)  # type: ignore[arg-type]

    code, message = status_of(log.__enter__)

    assert code is grpc.StatusCode.FAILED_PRECONDITION
    assert message.startswith(
        f"Cannot use the log file {str(tmp_path / 'x.ndjson')!r}: the JSON Logger Service "
    )
    assert message.endswith("Start it with `python -m logger_service`.")


def test_a_record_the_logger_cannot_write(tmp_path: Path) -> None:
    log = StubbedLogger(tmp_path / "x.ndjson", FakeRpcError(grpc.StatusCode.INTERNAL, "disk full"))
    log._open = True  # opened earlier

    assert status_of(lambda: log.log_data("step", {}, {})) == (
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

    assert status_of(lambda: database.record_results([ResultRow("v", 1.0)])) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        f"Could not record the results in {str(tmp_path / 'r.db')!r}: nan",
    )


def test_no_session_of_an_instrument_type_gives_the_hint_for_it() -> None:
    reservation = MultiSessionReservation(StubbedManagement(RuntimeError()), session_info=[])

    code, message = status_of(
        lambda: reservation.initialize_session(
            lambda info: info, INSTRUMENT_TYPE_NI_DMM
        ).__enter__()
    )
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith("No reserved sessions matched instrument type ID 'niDMM'.")
    assert message.endswith(" Select one pin connected to an NI-DMM for nidmm_pin.")

    code, message = status_of(
        lambda: reservation.initialize_session(lambda info: info, "Other").__enter__()
    )
    assert message.endswith(" Select a pin connected to the Other instrument of the pin map.")


def test_other_errors_of_the_reservation_methods_are_invalid_arguments() -> None:
    reservation = MultiSessionReservation(StubbedManagement(RuntimeError()), session_info=[])

    assert status_of(lambda: reservation.initialize_nidmm_session().__enter__()) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "This method requires a discovery client.",
    )


@pytest.mark.parametrize(
    "error", [ValueError("ours"), FakeRpcError(grpc.StatusCode.INTERNAL, "a driver's")]
)
def test_other_errors_pass_through_unchanged(error: Exception) -> None:
    context = FakeContext()

    with pytest.raises(type(error)) as raised:
        with reported_as_status(SimpleNamespace(context=context), PINS, hints=HINTS):  # type: ignore[arg-type]
            raising(error)()

    assert raised.value is error
    assert context.status is None
