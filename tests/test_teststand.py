"""TestStand code modules, the sequence description and the headless runner on the local platform.

One local platform (pin map, session management, simulated device server), one JSON Logger
Service process and the in-process echo plug-in serve the whole module; every test registers its
own pin map and log files and leaves no session open or registered.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import nidcpower
import pytest
from click.testing import CliRunner
from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.pinmap.v1.client import PinMapClient
from ni.measurementlink.sessionmanagement.v1.client import (
    INSTRUMENT_TYPE_NI_DCPOWER,
    PinMapContext,
    SessionManagementClient,
)
from ni_grpc_extensions.channelpool import GrpcChannelPool

from json_logger import json_logger_pb2 as pb
from json_logger.json_logger_pb2_grpc import JsonLoggerStub
from local_ni_platform.activation import activate
from local_ni_platform.device_server import DeviceServerPart
from local_ni_platform.platform import LocalPlatform
from local_ni_platform.session_management import pin_map_and_session_management_parts
from results_database import results_database_pb2 as results_pb
from results_database.results_database_pb2_grpc import ResultsDatabaseStub
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.programs import start_logger_service, start_results_service
from tests.plugins import echo_measurement
from teststand import (
    teststand_json_logger,
    teststand_nidcpower,
    teststand_nidmm,
    teststand_results_database,
)
from teststand.__main__ import main as cli_main
from teststand.errors import SessionCleanupError, SessionsAlreadyRegisteredError
from teststand.runner import (
    ModuleNameCollisionError,
    RunReport,
    StepStatus,
    format_report,
    run_sequence,
)
from teststand.sequence import (
    DEFAULT_SEQUENCE_PATH,
    MeasurementStep,
    ModuleStep,
    SequenceDescriptionError,
    StepGroup,
    load_sequence,
    parse_sequence,
)
from teststand.sequence_context import PinMapIdNotSetError, StandInSequenceContext

TESTSTAND_DIR = DEFAULT_SEQUENCE_PATH.parent
TIMEOUT = 10.0

PIN_MAP = """\ufeff<?xml version="1.0" encoding="utf-8"?>
<PinMap schemaVersion="1.6" xmlns="http://www.ni.com/TestStand/SemiconductorModule/PinMap.xsd">
  <Instruments>
    <NIDCPowerInstrument name="DCPower1" numberOfChannels="4">
      {groups}
    </NIDCPowerInstrument>
    <NIDmmInstrument name="DMM1" />
    {loggers}
    <Instrument name="{database}" instrumentTypeId="ResultsDatabaseService">
      <Channel id="0" />
    </Instrument>
  </Instruments>
  <Pins>
    <DUTPin name="DCPowerPin" />
    <DUTPin name="DCPowerPin2" />
    <DUTPin name="DMMPin" />
    {logger_pins}
    <SystemPin name="ResultsPin" />
  </Pins>
  <Sites><Site siteNumber="0" /></Sites>
  <Connections>
    <Connection pin="DCPowerPin" siteNumber="0" instrument="DCPower1" channel="0" />
    <Connection pin="DCPowerPin2" siteNumber="0" instrument="DCPower1" channel="2" />
    <Connection pin="DMMPin" siteNumber="0" instrument="DMM1" channel="0" />
    {logger_connections}
    <SystemConnection pin="ResultsPin" instrument="{database}" channel="0" />
  </Connections>
</PinMap>
"""
ONE_GROUP = '<ChannelGroup name="CommonDCPowerChannelGroup" />'
TWO_GROUPS = (
    '<ChannelGroup name="GroupA" channels="0,1" /><ChannelGroup name="GroupB" channels="2,3" />'
)


class Station:
    """The running services and helpers to inspect them."""

    def __init__(
        self, device: DeviceServerPart, logger: ServiceProcess, results: ServiceProcess
    ) -> None:
        self.device = device
        self.logger = logger
        self.results = results
        self.sessions = SessionManagementClient()

    def register_pin_map(
        self, directory: Path, *, groups: str = ONE_GROUP, logs: list[Path] | None = None
    ) -> str:
        logs = [directory / "shared.ndjson"] if logs is None else logs
        names = [f"LoggerPin{index}" if index else "LoggerPin" for index in range(len(logs))]
        path = directory / "station.pinmap"
        path.write_text(
            PIN_MAP.format(
                groups=groups,
                database=directory / "results.db",
                loggers="".join(
                    f'<Instrument name="{log}" instrumentTypeId="JsonLoggerService">'
                    '<Channel id="0" /></Instrument>'
                    for log in logs
                ),
                logger_pins="".join(f'<SystemPin name="{name}" />' for name in names),
                logger_connections="".join(
                    f'<SystemConnection pin="{name}" instrument="{log}" channel="0" />'
                    for name, log in zip(names, logs, strict=True)
                ),
            ),
            encoding="utf-8",
        )
        pin_map_id: str = PinMapClient().update_pin_map(path)
        return pin_map_id

    def device_sessions(self) -> list[str]:
        return sorted(self.device.repository.names())

    def logger_sessions(self) -> list[str]:
        with grpc.insecure_channel(self.logger.address) as channel:
            listed = JsonLoggerStub(channel).ListSessions(pb.ListSessionsRequest())
        return sorted(session.resource_name for session in listed.sessions)

    def results_sessions(self) -> list[str]:
        with grpc.insecure_channel(self.results.address) as channel:
            listed = ResultsDatabaseStub(channel).ListSessions(results_pb.ListSessionsRequest())
        return sorted(session.resource_name for session in listed.sessions)

    def registered(self) -> list[str]:
        with self.sessions.reserve_all_registered_sessions(timeout=0) as reservation:
            return sorted(info.session_name for info in reservation.session_info)

    def session_names(self, pin_map_id: str, instrument_type_id: str) -> list[str]:
        with self.sessions.reserve_sessions(
            PinMapContext(pin_map_id=pin_map_id, sites=None),
            instrument_type_id=instrument_type_id,
            timeout=TIMEOUT,
        ) as reservation:
            return [info.session_name for info in reservation.session_info]

    def assert_clean(self) -> None:
        assert self.registered() == []
        assert self.device_sessions() == []
        assert self.logger_sessions() == []
        assert self.results_sessions() == []


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Station]:
    with pytest.MonkeyPatch.context() as patch:
        state_dir = tmp_path_factory.mktemp("platform")
        patch.setenv("NI_LOCAL_PLATFORM_DIR", str(state_dir))
        activate()
        device = DeviceServerPart()
        with LocalPlatform(
            state_dir=state_dir, parts=[*pin_map_and_session_management_parts(), device]
        ):
            logger = start_logger_service()
            results = start_results_service()
            try:
                with echo_measurement.measurement_service.host_service():
                    yield Station(device, logger, results)
            finally:
                assert results.stop() == 0, results.stderr_tail
                assert logger.stop() == 0, logger.stderr_tail


@pytest.fixture
def clean_station(station: Station) -> Iterator[Station]:
    """The station; afterwards whatever a failed test left behind is cleaned up."""
    yield station
    for cleanup in (
        teststand_nidmm.destroy_nidmm_sessions,
        teststand_nidcpower.destroy_nidcpower_sessions,
        lambda: teststand_results_database.destroy_results_database_sessions(context(None)),
        teststand_json_logger.destroy_json_logger_sessions,
    ):
        with contextlib.suppress(Exception):
            cleanup()
    station.device.repository.close_all()


def context(pin_map_id: str | None) -> StandInSequenceContext:
    return StandInSequenceContext(pin_map_id)


# -- Setup and Cleanup through the code modules ----------------------------------------------


def test_setup_opens_and_registers_and_cleanup_closes_and_unregisters(
    clean_station: Station, tmp_path: Path
) -> None:
    station = clean_station
    log = tmp_path / "shared.ndjson"
    pin_map_id = station.register_pin_map(tmp_path, logs=[log])

    session_ids = teststand_json_logger.create_json_logger_sessions(context(pin_map_id))
    dcpower = teststand_nidcpower.create_nidcpower_sessions(context(pin_map_id))
    dmm = teststand_nidmm.create_nidmm_sessions(context(pin_map_id))

    assert len(session_ids) == 1 and session_ids[0]
    assert dcpower == ["niDCPower-DCPower1/0, DCPower1/2"] and dmm == ["niDMM-DMM1"]
    assert station.device_sessions() == sorted(dcpower + dmm)
    assert station.logger_sessions() == [str(log)]
    assert station.registered() == sorted([*dcpower, *dmm, f"JsonLoggerService-{log}"])
    # A measurement step's reservation sees the sessions as existing: it attaches, not opens.
    step_context = PinMapContext(pin_map_id=pin_map_id, sites=[0])
    for pin in ("DCPowerPin", "DMMPin", "LoggerPin"):
        with station.sessions.reserve_session(step_context, pin, timeout=TIMEOUT) as step:
            assert step.session_info.session_exists, pin

    teststand_nidmm.destroy_nidmm_sessions()
    teststand_nidcpower.destroy_nidcpower_sessions()
    teststand_json_logger.destroy_json_logger_sessions()

    station.assert_clean()
    # Cleanup with nothing registered is a no-op, not an error.
    teststand_json_logger.destroy_json_logger_sessions()


def test_setup_without_a_pin_map_id_says_so(clean_station: Station) -> None:
    with pytest.raises(PinMapIdNotSetError, match=r"NI\.MeasurementPlugIns\.PinMapId"):
        teststand_nidmm.create_nidmm_sessions(context(None))


def test_a_second_setup_refuses_sessions_another_setup_registered(
    clean_station: Station, tmp_path: Path
) -> None:
    pin_map_id = clean_station.register_pin_map(tmp_path)
    [name] = teststand_nidmm.create_nidmm_sessions(context(pin_map_id))

    with pytest.raises(SessionsAlreadyRegisteredError, match="ProcessSetup"):
        teststand_nidmm.create_nidmm_sessions(context(pin_map_id))

    assert clean_station.device_sessions() == [name]
    assert clean_station.registered() == [name]
    teststand_nidmm.destroy_nidmm_sessions()
    clean_station.assert_clean()


def test_setup_failing_on_the_second_session_leaves_nothing_open(
    clean_station: Station, tmp_path: Path
) -> None:
    station = clean_station
    pin_map_id = station.register_pin_map(tmp_path, groups=TWO_GROUPS)
    first, second = station.session_names(pin_map_id, INSTRUMENT_TYPE_NI_DCPOWER)
    # A session left open (unregistered) under the second name, as by a crashed earlier run.
    with GrpcChannelPool() as pool:
        address = (
            DiscoveryClient(grpc_channel_pool=pool)
            .resolve_service(
                provided_interface=nidcpower.GRPC_SERVICE_INTERFACE_NAME,
                service_class="ni.measurementlink.v1.grpcdeviceserver",
            )
            .insecure_address
        )
    with grpc.insecure_channel(address) as channel:
        nidcpower.Session(
            resource_name="DCPower1/2",
            options={},
            grpc_options=nidcpower.GrpcSessionOptions(channel, session_name=second),
        )
    assert station.device_sessions() == [second]

    with pytest.raises(Exception, match="already exists"):
        teststand_nidcpower.create_nidcpower_sessions(context(pin_map_id))

    # The first session, opened by this Setup, and the leftover are both closed.
    station.assert_clean()
    assert first != second
    # The next Setup succeeds.
    assert teststand_nidcpower.create_nidcpower_sessions(context(pin_map_id)) == [first, second]
    teststand_nidcpower.destroy_nidcpower_sessions()
    station.assert_clean()


def test_setup_failing_to_register_closes_what_it_opened(
    clean_station: Station, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class RefusingRegistration(SessionManagementClient):
        def register_sessions(self, session_info: Any) -> None:
            raise RuntimeError("registration refused")

    pin_map_id = clean_station.register_pin_map(tmp_path, groups=TWO_GROUPS)
    for module, setup in (
        (teststand_nidcpower, teststand_nidcpower.create_nidcpower_sessions),
        (teststand_json_logger, teststand_json_logger.create_json_logger_sessions),
        (teststand_results_database, teststand_results_database.create_results_database_sessions),
    ):
        with monkeypatch.context() as patch:
            patch.setattr(module, "SessionManagementClient", RefusingRegistration)
            with pytest.raises(RuntimeError, match="refused"):
                setup(context(pin_map_id))
        clean_station.assert_clean()


def test_logger_setup_failing_on_the_second_file_closes_the_first(
    clean_station: Station, tmp_path: Path
) -> None:
    good, bad = tmp_path / "a.ndjson", tmp_path / "missing-folder" / "b.ndjson"
    pin_map_id = clean_station.register_pin_map(tmp_path, logs=[good, bad])

    with pytest.raises(grpc.RpcError):
        teststand_json_logger.create_json_logger_sessions(context(pin_map_id))

    clean_station.assert_clean()


def test_cleanup_failing_to_close_one_session_registers_it_again_and_closes_the_others(
    clean_station: Station, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    station = clean_station
    pin_map_id = station.register_pin_map(tmp_path, groups=TWO_GROUPS)
    first, _ = teststand_nidcpower.create_nidcpower_sessions(context(pin_map_id))
    real_session = nidcpower.Session

    def busy_for_first(*args: Any, grpc_options: Any, **kwargs: Any) -> Any:
        if grpc_options.session_name == first:
            raise RuntimeError("instrument busy")
        return real_session(*args, grpc_options=grpc_options, **kwargs)

    with monkeypatch.context() as patch, pytest.raises(SessionCleanupError, match="busy") as raised:
        patch.setattr(nidcpower, "Session", busy_for_first)
        teststand_nidcpower.destroy_nidcpower_sessions()

    assert raised.value.session_names == [first]
    assert station.device_sessions() == [first]  # still open ...
    assert station.registered() == [first]  # ... and still registered: the next Cleanup retries
    assert teststand_nidcpower.destroy_nidcpower_sessions() == [first]
    station.assert_clean()


def test_cleanup_failing_to_unregister_leaves_the_sessions_open_and_registered(
    clean_station: Station, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    station = clean_station
    pin_map_id = station.register_pin_map(tmp_path, groups=TWO_GROUPS)
    names = teststand_nidcpower.create_nidcpower_sessions(context(pin_map_id))

    class RefusingUnregistration(SessionManagementClient):
        def unregister_sessions(self, session_info: Any) -> None:
            raise RuntimeError("unregistration refused")

    with monkeypatch.context() as patch, pytest.raises(RuntimeError, match="refused"):
        patch.setattr(teststand_nidcpower, "SessionManagementClient", RefusingUnregistration)
        teststand_nidcpower.destroy_nidcpower_sessions()

    assert station.device_sessions() == sorted(names)  # nothing closed ...
    assert station.registered() == sorted(names)  # ... and still registered: Cleanup retries
    teststand_nidcpower.destroy_nidcpower_sessions()
    station.assert_clean()


def test_cleanup_of_a_registered_session_that_is_already_closed_just_unregisters_it(
    clean_station: Station, tmp_path: Path
) -> None:
    station = clean_station
    log = tmp_path / "shared.ndjson"
    pin_map_id = station.register_pin_map(tmp_path, logs=[log])
    teststand_nidmm.create_nidmm_sessions(context(pin_map_id))
    teststand_json_logger.create_json_logger_sessions(context(pin_map_id))
    station.device.repository.close_all()  # e.g. the device server was restarted
    with grpc.insecure_channel(station.logger.address) as channel:
        stub = JsonLoggerStub(channel)
        for session in stub.ListSessions(pb.ListSessionsRequest()).sessions:
            stub.CloseFile(pb.CloseFileRequest(session_id=session.session_id))

    teststand_nidmm.destroy_nidmm_sessions()
    teststand_json_logger.destroy_json_logger_sessions()

    station.assert_clean()


# -- The headless runner ----------------------------------------------------------------------

STEPS_MODULE = '''\
"""Steps that record their calls next to this file."""
from pathlib import Path

from teststand.sequence_context import read_pin_map_id

CALLS = Path(__file__).with_name("calls.txt")


def _record(name):
    with CALLS.open("a") as calls:
        calls.write(name + "\\n")


def read_id(sequence_context):
    _record("read_id")
    return read_pin_map_id(sequence_context)


def read_socket(sequence_context):
    from teststand.sequence_context import read_socket_index

    return read_socket_index(sequence_context)


def ok(name="ok"):
    _record(name)
    return 42


def ok_again():
    return ok("ok_again")


def cleanup_one():
    return ok("cleanup_one")


def cleanup_two():
    return ok("cleanup_two")


def fail():
    _record("fail")
    raise RuntimeError("step failed on purpose")


def record_first(sequence_context):
    return _record_row(sequence_context, "first")


def record_second(sequence_context):
    return _record_row(sequence_context, "second")


def _record_row(sequence_context, step_name):
    """What a plug-in does: reserve the results pin, attach (AUTO), record one row."""
    from ni.measurementlink.sessionmanagement.v1.client import (
        PinMapContext,
        SessionManagementClient,
    )
    from results_client import (
        RESULTS_DATABASE_INSTRUMENT_TYPE,
        ResultsDatabaseSessionConstructor,
    )

    context = PinMapContext(pin_map_id=read_pin_map_id(sequence_context), sites=[0])
    with SessionManagementClient() as sessions:
        with sessions.reserve_session(context, "ResultsPin", timeout=10.0) as reservation:
            with reservation.initialize_session(
                ResultsDatabaseSessionConstructor(), RESULTS_DATABASE_INSTRUMENT_TYPE
            ) as session_info:
                database = session_info.session
                assert not database.new_session_initialized  # Setup's session, attached
                database.record_result("current", 0.001, unit="A", step_name=step_name)
                return database.session_id
'''


def write_steps(directory: Path, file_name: str = "runner_steps.py") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name
    path.write_text(STEPS_MODULE, encoding="utf-8")
    return path


def calls(directory: Path) -> list[str]:
    path = directory / "calls.txt"
    return path.read_text().split() if path.exists() else []


def module_step(name: str, function: str, *, module: str = "runner_steps.py") -> dict[str, Any]:
    step: dict[str, Any] = {"name": name, "module": module, "function": function}
    if function in ("read_id", "read_socket", "record_first", "record_second"):
        step["sequence_context"] = True
    return step


def echo_step(name: str, x: float) -> dict[str, Any]:
    return {
        "name": name,
        "measurement_service": echo_measurement.SERVICE_CLASS,
        "configuration": {"x": x, "function": "AC_VOLTS"},
    }


def write_sequence(directory: Path, **groups: list[dict[str, Any]]) -> Path:
    path = directory / "test.sequence.json"
    path.write_text(json.dumps({"name": "RunnerTest", **groups}), encoding="utf-8")
    return path


def statuses(report: RunReport) -> dict[str, str]:
    return {result.name: result.status.value for result in report.results}


def test_a_failing_main_step_is_recorded_the_next_runs_and_cleanup_always_runs(
    station: Station, tmp_path: Path
) -> None:
    write_steps(tmp_path)
    path = write_sequence(
        tmp_path,
        setup=[module_step("Read pin map id", "read_id")],
        main=[
            echo_step("Echo negative", -1.0),
            echo_step("Echo", 2.0),
            module_step("Module fails", "fail"),
        ],
        cleanup=[module_step("Cleanup fails", "fail"), module_step("Cleanup", "cleanup_two")],
    )

    report = run_sequence(load_sequence(path), "pin-map-7")

    assert statuses(report) == {
        "Read pin map id": "Passed",
        "Echo negative": "Failed",
        "Echo": "Passed",
        "Module fails": "Failed",
        "Cleanup fails": "Failed",
        "Cleanup": "Passed",
    }
    assert not report.passed
    assert report.result("Read pin map id").value == "pin-map-7"
    assert "x must not be negative" in report.result("Echo negative").message
    outputs = report.result("Echo").value
    assert outputs["doubled"] == [2.0, 4.0] and outputs["pin_map_id"] == "pin-map-7"
    assert outputs["function_out"].name == "AC_VOLTS"
    assert report.result("Module fails").message == "RuntimeError: step failed on purpose"
    assert calls(tmp_path) == ["read_id", "fail", "fail", "cleanup_two"]
    assert [r.name for r in report.group(StepGroup.CLEANUP)] == ["Cleanup fails", "Cleanup"]
    assert all(r.duration > 0 for r in report.results)

    text = format_report(report)
    assert re.search(r"Main\s+Echo\s+Passed\s+\d+\.\d{3} s\s+function_out=AC_VOLTS", text)
    assert re.search(r"Main\s+Echo negative\s+Failed .*x must not be negative", text)
    assert "Result: Failed (3 passed, 3 failed, 0 skipped)" in text


def test_a_failing_setup_step_skips_setup_and_main_but_not_cleanup(
    station: Station, tmp_path: Path
) -> None:
    write_steps(tmp_path)
    path = write_sequence(
        tmp_path,
        setup=[
            module_step("Setup 1", "ok"),
            module_step("Setup 2", "fail"),
            module_step("Setup 3", "ok_again"),
        ],
        main=[echo_step("Echo", 1.0)],
        cleanup=[module_step("Cleanup 1", "cleanup_one"), module_step("Cleanup 2", "cleanup_two")],
    )

    report = run_sequence(load_sequence(path), "id")

    assert statuses(report) == {
        "Setup 1": "Passed",
        "Setup 2": "Failed",
        "Setup 3": "Skipped",
        "Echo": "Skipped",
        "Cleanup 1": "Passed",
        "Cleanup 2": "Passed",
    }
    assert report.result("Echo").message == "Setup step 'Setup 2' failed"
    assert calls(tmp_path) == ["ok", "fail", "cleanup_one", "cleanup_two"]
    assert "Result: Failed (3 passed, 1 failed, 2 skipped)" in format_report(report)


def test_stop_on_failure_skips_the_remaining_main_steps(station: Station, tmp_path: Path) -> None:
    write_steps(tmp_path)
    path = write_sequence(
        tmp_path,
        main=[echo_step("Echo negative", -1.0), echo_step("Echo", 1.0)],
        cleanup=[module_step("Cleanup", "cleanup_one")],
    )

    report = run_sequence(load_sequence(path), "id", stop_on_failure=True)

    assert statuses(report) == {"Echo negative": "Failed", "Echo": "Skipped", "Cleanup": "Passed"}


def test_the_real_code_modules_in_a_run_whose_measurement_fails_leave_nothing_open(
    clean_station: Station, tmp_path: Path
) -> None:
    """The shipped Setup and Cleanup steps around a failing Main step (the echo plug-in)."""
    station = clean_station
    pin_map_id = station.register_pin_map(tmp_path)
    shipped = load_sequence()
    path = write_sequence(
        tmp_path,
        setup=[_as_json(step) for step in shipped.setup],
        main=[echo_step("Echo negative", -1.0)],
        cleanup=[_as_json(step) for step in shipped.cleanup],
    )

    report = run_sequence(load_sequence(path), pin_map_id)

    assert [r.status for r in report.group(StepGroup.SETUP)] == [StepStatus.PASSED] * 4
    assert report.result("Echo negative").status is StepStatus.FAILED
    assert [r.status for r in report.group(StepGroup.CLEANUP)] == [StepStatus.PASSED] * 4
    station.assert_clean()


def _as_json(step: ModuleStep | MeasurementStep) -> dict[str, Any]:
    assert isinstance(step, ModuleStep)
    return {
        "name": step.name,
        "module": str(step.module),  # absolute: the shipped module files
        "function": step.function,
        "sequence_context": step.sequence_context,
    }


@pytest.mark.parametrize("fails", [False, True], ids=["passing run", "failing run"])
def test_the_run_shares_one_database_transaction_committed_only_when_it_passed(
    clean_station: Station, tmp_path: Path, fails: bool
) -> None:
    """Setup opens the transaction, two steps record into it, Cleanup commits or rolls back."""
    station = clean_station
    pin_map_id = station.register_pin_map(tmp_path)
    write_steps(tmp_path)
    shipped = load_sequence()
    main = [module_step("Record 1", "record_first"), module_step("Record 2", "record_second")]
    if fails:
        main.insert(1, module_step("Fails", "fail"))
    path = write_sequence(
        tmp_path,
        setup=[_as_json(step) for step in shipped.setup],
        main=main,
        cleanup=[_as_json(step) for step in shipped.cleanup],
    )

    report = run_sequence(load_sequence(path), pin_map_id)

    [setup_id] = report.result("Create results database sessions").value
    assert report.result("Record 1").value == report.result("Record 2").value == setup_id
    with sqlite3.connect(tmp_path / "results.db") as connection:
        rows = connection.execute("SELECT run_id, session_id FROM results").fetchall()
    assert rows == ([] if fails else [(setup_id, setup_id)] * 2)
    assert report.passed is not fails
    assert report.result("Destroy results database sessions").status is StepStatus.PASSED
    station.assert_clean()


def test_two_code_modules_with_the_same_file_name_are_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    write_steps(tmp_path / "a", "steps.py")
    write_steps(tmp_path / "b", "steps.py")
    path = write_sequence(
        tmp_path,
        setup=[module_step("A", "ok", module="a/steps.py")],
        cleanup=[module_step("B", "ok", module="b/steps.py")],
    )

    with pytest.raises(ModuleNameCollisionError, match="both named 'steps'"):
        run_sequence(load_sequence(path), "id")

    assert calls(tmp_path / "a") == [] and calls(tmp_path / "b") == []


def test_a_code_module_named_like_an_imported_module_is_refused(tmp_path: Path) -> None:
    write_steps(tmp_path, "json.py")
    path = write_sequence(tmp_path, setup=[module_step("A", "ok", module="json.py")])

    with pytest.raises(ModuleNameCollisionError, match="already imported"):
        run_sequence(load_sequence(path), "id")


def test_code_modules_of_separate_runs_do_not_collide(tmp_path: Path) -> None:
    for run in ("first", "second"):
        write_steps(tmp_path / run)
        path = write_sequence(tmp_path / run, setup=[module_step("A", "ok")])
        assert run_sequence(load_sequence(path), "id").passed
    assert "runner_steps" not in __import__("sys").modules


# -- The CLI ----------------------------------------------------------------------------------


def test_cli_prints_the_report_and_exits_non_zero_when_a_step_failed(tmp_path: Path) -> None:
    write_steps(tmp_path)
    passing = write_sequence(tmp_path, setup=[module_step("A", "ok")])
    result = CliRunner().invoke(cli_main, ["--sequence", str(passing), "--pin-map-id", "id"])
    assert result.exit_code == 0, result.output
    assert re.search(r"Setup\s+A\s+Passed\s+\d\.\d{3} s\s+42", result.output)

    failing = write_sequence(tmp_path, setup=[module_step("A", "fail")])
    result = CliRunner().invoke(cli_main, ["--sequence", str(failing), "--pin-map-id", "id"])
    assert result.exit_code == 1
    assert "Setup step 'A': RuntimeError: step failed on purpose" in result.output


def test_cli_runs_sockets_at_once_each_with_its_own_socket_index(tmp_path: Path) -> None:
    write_steps(tmp_path)
    sequence = write_sequence(tmp_path, setup=[module_step("Which socket", "read_socket")])

    result = CliRunner().invoke(
        cli_main, ["--sequence", str(sequence), "--pin-map-id", "id", "--sockets", "3"]
    )

    assert result.exit_code == 0, result.output
    for socket in range(3):
        assert f"Sequence RunnerTest, socket {socket} (pin map id)" in result.output
    values = re.findall(r"Setup\s+Which socket\s+Passed\s+\S+ s\s+(\d)", result.output)
    assert values == ["0", "1", "2"]


def test_cli_refuses_a_bad_description(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"name": "x", "setpu": []}')
    result = CliRunner().invoke(cli_main, ["--sequence", str(path), "--pin-map-id", "id"])
    assert result.exit_code == 2
    assert "unknown key(s) 'setpu'" in result.output


# -- The sequence description -----------------------------------------------------------------


def test_the_shipped_sequence_describes_the_session_sharing_flow() -> None:
    sequence = load_sequence()

    assert sequence.name == "SessionSharing"
    assert sequence.pin_map == (TESTSTAND_DIR.parent / "pinmap" / "SessionSharing.pinmap")
    assert [step.function for step in sequence.setup if isinstance(step, ModuleStep)] == [
        "create_json_logger_sessions",
        "create_results_database_sessions",
        "create_nidcpower_sessions",
        "create_nidmm_sessions",
    ]
    assert all(isinstance(step, ModuleStep) and step.sequence_context for step in sequence.setup)
    assert [
        step.measurement_service for step in sequence.main if isinstance(step, MeasurementStep)
    ] == [
        "ni.examples.session_sharing.NIDCPowerWithLogger_Python",
        "ni.examples.session_sharing.NIDmmWithLogger_Python",
    ]
    # Cleanup destroys in the reverse order of Setup.
    cleanup_modules = [
        step.module.name for step in sequence.cleanup if isinstance(step, ModuleStep)
    ]
    setup_modules = [step.module.name for step in sequence.setup if isinstance(step, ModuleStep)]
    assert cleanup_modules == setup_modules[::-1]
    modules = {
        "teststand_json_logger.py": teststand_json_logger,
        "teststand_results_database.py": teststand_results_database,
        "teststand_nidcpower.py": teststand_nidcpower,
        "teststand_nidmm.py": teststand_nidmm,
    }
    for _, step in sequence.steps():
        if isinstance(step, ModuleStep):
            assert callable(getattr(modules[step.module.name], step.function)), step.name


def test_the_readme_step_table_matches_the_sequence() -> None:
    readme = (TESTSTAND_DIR / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (Setup|Main|Cleanup) \| ([^|]+?) \|", readme, flags=re.MULTILINE)
    sequence = load_sequence()
    expected = [(group.display_name, step.name) for group, step in sequence.steps()]
    assert rows == expected


def test_the_shipped_sequence_configurations_match_the_plugins() -> None:
    measurement_files = {
        "ni.examples.session_sharing.NIDCPowerWithLogger_Python": "nidcpower_with_logger",
        "ni.examples.session_sharing.NIDmmWithLogger_Python": "nidmm_with_logger",
    }
    for step in load_sequence().main:
        assert isinstance(step, MeasurementStep)
        source = (
            TESTSTAND_DIR.parent
            / "measurements"
            / measurement_files[step.measurement_service]
            / "measurement.py"
        )
        if not source.exists():
            pytest.skip(f"{source} not there yet")
        text = source.read_text(encoding="utf-8")
        for name in step.configuration:
            assert f'"{name}"' in text, (step.name, name)


BASE = {"name": "S"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected an object, got list"),
        ({}, r"missing key\(s\) 'name'"),
        ({**BASE, "stpes": []}, r"unknown key\(s\) 'stpes'"),
        ({**BASE, "setup": {}}, "'setup' must be a list of steps"),
        ({**BASE, "main": [{"name": "x"}]}, r"main\[0\] \('x'\): .* found neither"),
        (
            {
                **BASE,
                "main": [
                    {"name": "x", "module": "m.py", "function": "f", "measurement_service": "s"}
                ],
            },
            "found both",
        ),
        (
            {**BASE, "setup": [{"name": "x", "module": "gone.py", "function": "f"}]},
            r"module file 'gone.py' not found",
        ),
        ({**BASE, "setup": [{"name": "x", "module": "m.txt", "function": "f"}]}, "not a .py file"),
        ({**BASE, "setup": [{"name": "x", "module": "m.py"}]}, r"missing key\(s\) 'function'"),
        (
            {**BASE, "setup": [{"name": "x", "module": "m.py", "function": "f", "modul": 1}]},
            r"unknown key\(s\) 'modul'",
        ),
        (
            {**BASE, "setup": [{"name": "x", "module": "m.py", "function": "f()"}]},
            "is not a Python name",
        ),
        (
            {
                **BASE,
                "setup": [
                    {"name": "x", "module": "m.py", "function": "f", "sequence_context": "yes"}
                ],
            },
            "must be true or false",
        ),
        (
            {**BASE, "main": [{"name": "x", "measurement_service": "s", "configuration": [1]}]},
            "'configuration' must be an object",
        ),
        (
            {**BASE, "main": [{"name": "x", "measurement_service": "s", "function": "f"}]},
            r"unknown key\(s\) 'function'",
        ),
        (
            {**BASE, "main": [{"name": "", "measurement_service": "s"}]},
            "'name' must be a non-empty string",
        ),
        (
            {
                **BASE,
                "setup": [{"name": "x", "module": "m.py", "function": "f"}],
                "cleanup": [{"name": "x", "module": "m.py", "function": "f"}],
            },
            r"cleanup\[0\]: step name 'x' is used twice \(also setup\[0\]\)",
        ),
    ],
)
def test_malformed_descriptions_are_refused_with_a_clear_message(
    tmp_path: Path, data: object, message: str
) -> None:
    (tmp_path / "m.py").write_text("def f(): pass\n")
    (tmp_path / "m.txt").write_text("")

    with pytest.raises(SequenceDescriptionError, match=message):
        parse_sequence(data, base_dir=tmp_path, source="bad.json")


def test_an_unreadable_description_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{")
    with pytest.raises(SequenceDescriptionError, match=r"broken\.json: not valid JSON"):
        load_sequence(path)
    with pytest.raises(SequenceDescriptionError, match="cannot read"):
        load_sequence(tmp_path / "absent.json")


def test_the_stand_in_sequence_context_answers_like_teststand() -> None:
    variables = StandInSequenceContext("id-1").Execution.RunTimeVariables
    assert variables.Exists("NI.MeasurementPlugIns.PinMapId", 0)
    assert variables.GetValString("NI.MeasurementPlugIns.PinMapId", 0) == "id-1"
    assert not StandInSequenceContext(None).Execution.RunTimeVariables.Exists("x", 0)
    with pytest.raises(KeyError, match="Unknown variable"):
        StandInSequenceContext(None).Execution.RunTimeVariables.GetValString("x", 0)
