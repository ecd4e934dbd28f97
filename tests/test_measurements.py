"""The NI-DCPower and NI-DMM plug-ins with the shared log, each in its own process, called as
InstrumentStudio calls them: the measurement v2 API with a pin map context, on the local NI
platform with the JSON Logger Service running.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from google.protobuf.type_pb2 import Field
from ni.measurementlink.pinmap.v1.client import PinMapClient
from ni.measurementlink.sessionmanagement.v1.client import (
    PinMapContext,
    SessionInitializationBehavior,
    SessionManagementClient,
)

import pinmap
from json_logger import json_logger_pb2 as pb
from json_logger.json_logger_pb2_grpc import JsonLoggerStub
from local_ni_platform.activation import activate
from local_ni_platform.device_server import DeviceServerPart
from local_ni_platform.platform import LocalPlatform
from local_ni_platform.session_management import pin_map_and_session_management_parts
from lock_client import HardwareLockClient
from logger_client import JSON_LOGGER_INSTRUMENT_TYPE, JsonLoggerSessionConstructor, read_records
from measurements import nidcpower_with_logger, nidmm_with_logger
from measurements.client import MeasurementClient
from measurements.plugin_info import PluginInfo
from pinmap import LOCK_PIN, LOGGER_PIN, RESULTS_PIN, TWO_SOCKETS_PIN_MAP_PATH, render_pin_map
from results_client import RESULTS_DATABASE_INSTRUMENT_TYPE, ResultsDatabaseSessionConstructor
from session_sharing_demo.child_process import ServiceProcess, ServiceProcessError
from session_sharing_demo.programs import (
    logger_service_process,
    plugin_process,
    start_lock_service,
    start_logger_service,
    start_results_service,
)

Behavior = SessionInitializationBehavior
DCPOWER = nidcpower_with_logger.PLUGIN
DMM = nidmm_with_logger.PLUGIN
LOAD_OHMS = 50_000.0  # the simulated load on every NI-DCPower channel
SIMULATION_ENV = Path(nidmm_with_logger.PLUGIN_DIRECTORY).parent / ".env.simulation"


def simulation_options() -> dict[str, str]:
    """The settings of measurements/.env.simulation."""
    options = {}
    for line in SIMULATION_ENV.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            options[key.strip()] = value.strip()
    return options


class Rig:
    """The local platform, the logger service and both plug-ins, shared by this module."""

    def __init__(self, device: DeviceServerPart, logger: ServiceProcess) -> None:
        self.device = device
        self.logger = logger
        self.sessions = SessionManagementClient()
        self.dcpower = MeasurementClient(DCPOWER.service_class)
        self.dmm = MeasurementClient(DMM.service_class)

    def pin_map(self, folder: Path, log_name: str = "shared.ndjson") -> tuple[PinMapContext, Path]:
        """Register the committed pin map, logging to ``folder / log_name``."""
        log_path = folder / log_name
        pin_map_id = PinMapClient().update_pin_map(
            render_pin_map(log_path, folder / "SessionSharing.pinmap")
        )
        return PinMapContext(pin_map_id=pin_map_id, sites=[0]), log_path

    def open_log_sessions(self) -> list[str]:
        with grpc.insecure_channel(self.logger.address) as channel:
            listed = JsonLoggerStub(channel).ListSessions(pb.ListSessionsRequest(), timeout=10)
        return [session.resource_name for session in listed.sessions]

    def assert_nothing_held(self, context: PinMapContext) -> None:
        """No reservation left (every pin reservable at once), no session left open."""
        with self.sessions.reserve_sessions(context, timeout=0) as reservation:
            assert len(reservation.session_info) == 4  # DCPower1, DMM1, the log file, the database
        assert self.device.repository.names() == []
        assert self.open_log_sessions() == []


def fields(record: dict[str, object], key: str) -> dict[str, str]:
    """One of a record's string maps (``measurement_configurations``/``measurement_outputs``)."""
    value = record[key]
    assert isinstance(value, dict)
    return value


def decoded(record: dict[str, object]) -> dict[str, object]:
    """A record's outputs, decoded from the JSON text the logger stores."""
    return {key: json.loads(value) for key, value in fields(record, "measurement_outputs").items()}


def details(error: pytest.ExceptionInfo[grpc.RpcError]) -> str:
    return error.value.details() or ""


def stop(process: ServiceProcess) -> int | None:
    """Stop a child process; None if it never started."""
    try:
        return process.stop()
    except RuntimeError:
        return None


def start_all(processes: list[ServiceProcess]) -> None:
    with ThreadPoolExecutor(len(processes)) as pool:
        list(pool.map(lambda process: process.start(), processes))


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    state_dir = tmp_path_factory.mktemp("platform")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NI_LOCAL_PLATFORM_DIR", str(state_dir))
        patch.delenv("NI_LOCAL_PLATFORM_DISABLE", raising=False)
        activate()
        device = DeviceServerPart()
        with LocalPlatform(
            state_dir=state_dir, parts=[*pin_map_and_session_management_parts(), device]
        ):
            logger = logger_service_process(["--port", "0"])
            dcpower = plugin_process(DCPOWER)
            # The DMM plug-in runs with the options of .env.simulation (NI's driver simulation on
            # Windows); the DCPower plug-in without: the simulated device server takes both.
            dmm = plugin_process(DMM, env={**os.environ, **simulation_options()})
            rig = Rig(device, logger)
            try:
                start_all([logger, dcpower, dmm])
                yield rig
            finally:
                rig.dcpower.close()
                rig.dmm.close()
                codes = [stop(process) for process in (dcpower, dmm, rig.logger)]
            assert codes == [0, 0, 0], dcpower.stderr_tail + dmm.stderr_tail


# -- called as InstrumentStudio calls them -------------------------------------------------


def test_both_plugins_log_one_record_each_to_the_one_file(rig: Rig, tmp_path: Path) -> None:
    context, log_path = rig.pin_map(tmp_path)

    dcpower = rig.dcpower.measure(context, voltage_level=5.0)
    dmm = rig.dmm.measure(context)

    assert dcpower["measurement_sites"] == [0]
    assert dcpower["measurement_pin_names"] == ["DCPowerPin"]
    assert dcpower["voltage_measurements"] == pytest.approx([5.0])
    assert dcpower["current_measurements"] == pytest.approx([5.0 / LOAD_OHMS])
    assert dcpower["in_compliance"] == [False]
    assert 0.0 < dmm["measured_value"] <= 10.0
    assert dmm["signal_out_of_range"] is False
    assert dmm["absolute_resolution"] == pytest.approx(5e-05)

    first, second = read_records(log_path)
    assert first["measurement_name"] == DCPOWER.display_name
    assert fields(first, "measurement_configurations") == {
        "nidcpower_pins": '["DCPowerPin"]',
        "json_logger_pin": "LoggerPin",
        "voltage_level": "5.0",
        "voltage_level_range": "6.0",
        "current_limit": "0.01",
        "current_limit_range": "0.01",
        "source_delay": "0.0",
    }
    assert decoded(first) == dcpower
    assert second["measurement_name"] == DMM.display_name
    assert fields(second, "measurement_configurations") == {
        "nidmm_pin": "DMMPin",
        "json_logger_pin": "LoggerPin",
        "measurement_type": "DC_VOLTS",
        "range": "10.0",
        "resolution_digits": "5.5",
    }
    assert decoded(second) == dmm
    # Run alone, each plug-in created the file session (AUTO) and closed it again.
    assert first["session_id"] != second["session_id"]
    rig.assert_nothing_held(context)


def test_a_low_current_limit_puts_the_channel_in_compliance(rig: Rig, tmp_path: Path) -> None:
    context, log_path = rig.pin_map(tmp_path)

    outputs = rig.dcpower.measure(context, voltage_level=5.0, current_limit=1e-5)

    assert outputs["in_compliance"] == [True]
    assert outputs["current_measurements"] == pytest.approx([1e-5])
    assert outputs["voltage_measurements"] == pytest.approx([1e-5 * LOAD_OHMS])
    [record] = read_records(log_path)
    assert fields(record, "measurement_outputs")["in_compliance"] == "[true]"


def test_the_unspecified_measurement_type_measures_dc_volts(rig: Rig, tmp_path: Path) -> None:
    context, log_path = rig.pin_map(tmp_path)

    outputs = rig.dmm.measure(context, measurement_type="UNSPECIFIED", range=1.0)

    assert outputs["absolute_resolution"] == pytest.approx(5e-06)
    assert outputs["signal_out_of_range"] is True  # the simulated 2.5 V input is over 1 V
    [record] = read_records(log_path)
    assert fields(record, "measurement_configurations")["measurement_type"] == "DC_VOLTS"
    assert fields(record, "measurement_outputs")["measured_value"] == "NaN"


def test_concurrent_calls_of_both_plugins_share_the_file(rig: Rig, tmp_path: Path) -> None:
    context, log_path = rig.pin_map(tmp_path)
    calls = [rig.dcpower, rig.dmm] * 4

    with ThreadPoolExecutor(len(calls)) as pool:
        results = list(pool.map(lambda client: client.measure(context), calls))

    assert len(results) == len(calls)
    lines = log_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(calls)
    records = [json.loads(line) for line in lines]  # every line is one whole record
    names = sorted(record["measurement_name"] for record in records)
    assert names == sorted([DCPOWER.display_name, DMM.display_name] * 4)
    rig.assert_nothing_held(context)


def test_plugins_attach_to_the_session_a_teststand_setup_registered(
    rig: Rig, tmp_path: Path
) -> None:
    context, log_path = rig.pin_map(tmp_path)
    sessions = rig.sessions
    # Setup: create the file session, leave it open, register it.
    with sessions.reserve_sessions(context, [LOGGER_PIN], timeout=10) as reservation:
        with reservation.initialize_session(
            JsonLoggerSessionConstructor(Behavior.INITIALIZE_SESSION_THEN_DETACH),
            JSON_LOGGER_INSTRUMENT_TYPE,
        ) as setup:
            setup_session_id = setup.session.session_id
            sessions.register_sessions(reservation.session_info)
    try:
        rig.dcpower.measure(context)
        rig.dmm.measure(context)
        assert rig.open_log_sessions() == [str(log_path)]  # the plug-ins only detached
    finally:
        # Cleanup: unregister, attach and close.
        with sessions.reserve_all_registered_sessions(timeout=10) as reservation:
            sessions.unregister_sessions(reservation.session_info)
            with reservation.initialize_session(
                JsonLoggerSessionConstructor(Behavior.ATTACH_TO_SESSION_THEN_CLOSE),
                JSON_LOGGER_INSTRUMENT_TYPE,
            ):
                pass
    assert [record["session_id"] for record in read_records(log_path)] == [setup_session_id] * 2
    rig.assert_nothing_held(context)


def committed_rows(database_path: Path) -> list[tuple[str, str, str, int]]:
    """What another connection sees: the committed rows, in row order."""
    with contextlib.closing(sqlite3.connect(database_path)) as connection:
        return connection.execute(
            "SELECT step_name, measurement_name, unit, site FROM results ORDER BY row_id"
        ).fetchall()


EXPECTED_ROWS = [
    (DCPOWER.display_name, "DCPowerPin voltage", "V", 0),
    (DCPOWER.display_name, "DCPowerPin current", "A", 0),
    (DMM.display_name, "DMMPin DC_VOLTS", "V", 0),
]


def test_run_alone_each_plugin_commits_the_rows_it_records(rig: Rig, tmp_path: Path) -> None:
    context, log_path = rig.pin_map(tmp_path)
    results = start_results_service()
    try:
        rig.dcpower.measure(context, voltage_level=5.0, results_database_pin=RESULTS_PIN)
        rig.dmm.measure(context, results_database_pin=RESULTS_PIN)

        assert committed_rows(log_path.with_suffix(".db")) == EXPECTED_ROWS
    finally:
        assert results.stop() == 0
    assert len(read_records(log_path)) == 2
    rig.assert_nothing_held(context)


def test_under_a_registered_results_session_the_plugins_leave_the_commit_to_cleanup(
    rig: Rig, tmp_path: Path
) -> None:
    context, log_path = rig.pin_map(tmp_path)
    database_path = log_path.with_suffix(".db")
    sessions = rig.sessions
    results = start_results_service()
    try:
        # Setup: create the database session, leave it open, register it.
        with sessions.reserve_sessions(context, [RESULTS_PIN], timeout=10) as reservation:
            with reservation.initialize_session(
                ResultsDatabaseSessionConstructor(Behavior.INITIALIZE_SESSION_THEN_DETACH),
                RESULTS_DATABASE_INSTRUMENT_TYPE,
            ):
                sessions.register_sessions(reservation.session_info)
        try:
            rig.dcpower.measure(context, voltage_level=5.0, results_database_pin=RESULTS_PIN)
            rig.dmm.measure(context, results_database_pin=RESULTS_PIN)
            assert committed_rows(database_path) == []  # in the run's open transaction
        finally:
            # Cleanup: unregister, attach, commit and close.
            with sessions.reserve_all_registered_sessions(timeout=10) as reservation:
                sessions.unregister_sessions(reservation.session_info)
                with reservation.initialize_session(
                    ResultsDatabaseSessionConstructor(Behavior.ATTACH_TO_SESSION_THEN_CLOSE),
                    RESULTS_DATABASE_INSTRUMENT_TYPE,
                ) as cleanup:
                    assert cleanup.session.commit() == 3
        assert committed_rows(database_path) == EXPECTED_ROWS
    finally:
        assert results.stop() == 0
    rig.assert_nothing_held(context)


def two_sockets_pin_map(folder: Path, site: int) -> tuple[PinMapContext, Path]:
    """Register the two-socket pin map (the lock ``Shared DMM`` on ``LockPin``) for one site."""
    log_path = folder / "two-sockets.ndjson"
    pin_map_id = PinMapClient().update_pin_map(
        render_pin_map(log_path, folder / "TwoSockets.pinmap", source=TWO_SOCKETS_PIN_MAP_PATH)
    )
    return PinMapContext(pin_map_id=pin_map_id, sites=[site]), log_path


def test_run_alone_the_dmm_takes_the_lock_and_logs_its_fencing_token(
    rig: Rig, tmp_path: Path
) -> None:
    context, log_path = two_sockets_pin_map(tmp_path, site=1)
    with start_lock_service() as lock_service:
        rig.dmm.measure(context, hardware_lock_pin=LOCK_PIN)
        rig.dmm.measure(context, hardware_lock_pin=LOCK_PIN)

        with HardwareLockClient("Shared DMM", address=lock_service.address, wait=0) as after:
            pass  # released by each run
    tokens = [
        int(fields(r, "measurement_configurations")["fencing_token"])
        for r in read_records(log_path)
    ]
    assert len(tokens) == 2 and tokens[0] < tokens[1] < after.fencing_token


def test_run_alone_while_a_socket_holds_the_lock_the_dmm_fails_at_once_naming_it(
    rig: Rig, tmp_path: Path
) -> None:
    context, log_path = two_sockets_pin_map(tmp_path, site=0)
    with start_lock_service() as lock_service:
        with HardwareLockClient("Shared DMM", address=lock_service.address, holder="socket 1"):
            started = time.monotonic()
            with pytest.raises(grpc.RpcError) as raised:
                rig.dmm.measure(context, hardware_lock_pin=LOCK_PIN)

            assert raised.value.code() is grpc.StatusCode.ALREADY_EXISTS
            assert "socket 1" in details(raised) and "Shared DMM" in details(raised)
            assert time.monotonic() - started < 5.0
    assert log_path.read_text(encoding="utf-8") == ""  # the DMM was not touched, nothing logged
    assert rig.device.repository.names() == []


# -- errors: clear, and nothing left reserved or open ---------------------------------------


def test_a_wrong_pin_name_is_reported(rig: Rig, tmp_path: Path) -> None:
    context, log_path = rig.pin_map(tmp_path)

    with pytest.raises(grpc.RpcError) as raised:
        rig.dcpower.measure(context, nidcpower_pins=["NoSuchPin"])

    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "'NoSuchPin' is not a pin" in details(raised)
    assert "Could not reserve the pins NoSuchPin, LoggerPin" in details(raised)
    assert " within " not in details(raised)  # failed at once: no timeout was waited
    assert not log_path.exists()
    rig.assert_nothing_held(context)


@pytest.mark.parametrize(
    ("plugin", "configuration", "message"),
    [
        ("dcpower", {"nidcpower_pins": ["DMMPin"]}, "Select pins connected to NI-DCPower"),
        ("dmm", {"nidmm_pin": "DCPowerPin"}, "Select one pin connected to an NI-DMM"),
        ("dmm", {"json_logger_pin": "DMMPin"}, "Select a pin connected to the JsonLoggerService"),
    ],
)
def test_a_pin_of_the_wrong_instrument_is_reported(
    rig: Rig, tmp_path: Path, plugin: str, configuration: dict[str, object], message: str
) -> None:
    context, log_path = rig.pin_map(tmp_path)
    client = rig.dcpower if plugin == "dcpower" else rig.dmm

    with pytest.raises(grpc.RpcError) as raised:
        client.measure(context, **configuration)

    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert message in details(raised)
    assert not log_path.exists() or read_records(log_path) == []
    rig.assert_nothing_held(context)


def test_a_missing_logger_service_is_reported(rig: Rig, tmp_path: Path) -> None:
    context, log_path = rig.pin_map(tmp_path)
    assert rig.logger.stop() == 0
    try:
        for client in (rig.dcpower, rig.dmm):
            with pytest.raises(grpc.RpcError) as raised:
                client.measure(context)
            assert raised.value.code() is grpc.StatusCode.FAILED_PRECONDITION
            message = details(raised)
            assert "the JSON Logger Service (ni.logger.v1.json" in message
            assert "Start it with `python -m logger_service`" in message
            assert str(log_path) in message
    finally:
        rig.logger = start_logger_service()
    assert not log_path.exists()
    rig.assert_nothing_held(context)


def test_a_missing_results_service_is_reported(rig: Rig, tmp_path: Path) -> None:
    context, log_path = rig.pin_map(tmp_path)

    for client in (rig.dcpower, rig.dmm):
        with pytest.raises(grpc.RpcError) as raised:
            client.measure(context, results_database_pin=RESULTS_PIN)
        assert raised.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        message = details(raised)
        assert message.startswith(
            f"Cannot use the results database {str(log_path.with_suffix('.db'))!r}: "
            "the Results Database Service (ni.results.v1.database"
        )
        assert message.endswith("Start it with `python -m results_service`.")
    assert not log_path.exists() or read_records(log_path) == []
    rig.assert_nothing_held(context)


@pytest.mark.parametrize(
    ("log_name", "code", "message"),
    [
        ("shared.csv", grpc.StatusCode.INVALID_ARGUMENT, "must end with .ndjson, .log, .txt"),
        ("missing/shared.ndjson", grpc.StatusCode.FAILED_PRECONDITION, "does not exist; create it"),
    ],
    ids=["csv-name", "missing-folder"],
)
def test_a_log_path_the_service_refuses_is_reported(
    rig: Rig, tmp_path: Path, log_name: str, code: grpc.StatusCode, message: str
) -> None:
    context, log_path = rig.pin_map(tmp_path, log_name)

    for client in (rig.dcpower, rig.dmm):
        with pytest.raises(grpc.RpcError) as raised:
            client.measure(context)
        assert raised.value.code() is code
        assert f"The JSON Logger Service refused the log file {str(log_path)!r}" in details(raised)
        assert message in details(raised)
    assert not log_path.exists()
    rig.assert_nothing_held(context)


def test_the_callers_deadline_ends_the_wait_for_the_outputs(rig: Rig, tmp_path: Path) -> None:
    context, log_path = rig.pin_map(tmp_path)
    started = time.monotonic()

    with MeasurementClient(DCPOWER.service_class, timeout=1.0) as impatient:
        impatient.get_metadata()
        with pytest.raises(grpc.RpcError) as raised:
            impatient.measure(context, source_delay=5.0)

    assert raised.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    # The plug-in stops waiting within one wait slice and releases everything.
    with rig.sessions.reserve_sessions(context, timeout=2.0):
        pass
    assert time.monotonic() - started < 4.0
    assert not log_path.exists() or read_records(log_path) == []
    rig.assert_nothing_held(context)


# -- what InstrumentStudio reads ------------------------------------------------------------


@pytest.mark.parametrize(
    ("plugin", "configurations", "outputs"),
    [
        (
            DCPOWER,
            [
                ("nidcpower_pins", Field.TYPE_STRING, True, "niDCPower", ["DCPowerPin"]),
                ("json_logger_pin", Field.TYPE_STRING, False, "JsonLoggerService", "LoggerPin"),
                ("results_database_pin", Field.TYPE_STRING, False, "ResultsDatabaseService", ""),
                ("voltage_level", Field.TYPE_DOUBLE, False, None, 6.0),
                ("voltage_level_range", Field.TYPE_DOUBLE, False, None, 6.0),
                ("current_limit", Field.TYPE_DOUBLE, False, None, 0.01),
                ("current_limit_range", Field.TYPE_DOUBLE, False, None, 0.01),
                ("source_delay", Field.TYPE_DOUBLE, False, None, 0.0),
            ],
            [
                ("measurement_sites", Field.TYPE_INT32, True),
                ("measurement_pin_names", Field.TYPE_STRING, True),
                ("voltage_measurements", Field.TYPE_DOUBLE, True),
                ("current_measurements", Field.TYPE_DOUBLE, True),
                ("in_compliance", Field.TYPE_BOOL, True),
            ],
        ),
        (
            DMM,
            [
                ("nidmm_pin", Field.TYPE_STRING, False, "niDMM", "DMMPin"),
                ("json_logger_pin", Field.TYPE_STRING, False, "JsonLoggerService", "LoggerPin"),
                ("results_database_pin", Field.TYPE_STRING, False, "ResultsDatabaseService", ""),
                ("hardware_lock_pin", Field.TYPE_STRING, False, "HardwareLockService", ""),
                ("measurement_type", Field.TYPE_ENUM, False, None, "DC_VOLTS"),
                ("range", Field.TYPE_DOUBLE, False, None, 10.0),
                ("resolution_digits", Field.TYPE_DOUBLE, False, None, 5.5),
            ],
            [
                ("measured_value", Field.TYPE_DOUBLE, False),
                ("signal_out_of_range", Field.TYPE_BOOL, False),
                ("absolute_resolution", Field.TYPE_DOUBLE, False),
            ],
        ),
    ],
    ids=["dcpower", "dmm"],
)
def test_metadata_declares_the_configurations_and_outputs(
    rig: Rig,
    plugin: PluginInfo,
    configurations: list[tuple[str, int, bool, str | None, object]],
    outputs: list[tuple[str, int, bool]],
) -> None:
    client = rig.dcpower if plugin is DCPOWER else rig.dmm
    metadata = client.get_metadata()
    defaults = client.configuration_defaults()

    signature = metadata.measurement_signature
    declared = [
        (
            parameter.name,
            parameter.type,
            parameter.repeated,
            parameter.annotations.get("ni/ioresource.instrument_type"),
            getattr(defaults[parameter.name], "name", defaults[parameter.name]),
        )
        for parameter in signature.configuration_parameters
    ]
    assert declared == configurations
    assert [(o.name, o.type, o.repeated) for o in signature.outputs] == outputs
    assert metadata.measurement_details.display_name == plugin.display_name
    assert [Path(ui.file_url).suffix for ui in metadata.user_interface_details] == [".measui"]
    if plugin is DMM:
        [enum_parameter] = [
            p for p in signature.configuration_parameters if p.name == "measurement_type"
        ]
        values = json.loads(enum_parameter.annotations["ni/enum.values"])
        assert values["UNSPECIFIED"] == 0 and values["DC_VOLTS"] == 1
        assert "WAVEFORM_VOLTAGE" not in values


def test_a_plugin_without_the_platform_says_why_it_cannot_start(tmp_path: Path) -> None:
    env = {**os.environ, "NI_LOCAL_PLATFORM_DIR": str(tmp_path)}
    env.pop("NI_LOCAL_PLATFORM_DISABLE", None)

    with pytest.raises(ServiceProcessError) as raised:
        plugin_process(DMM, env=env).start()

    assert f"{DMM.display_name} could not start" in str(raised.value)
    assert "The local NI Discovery Service is not running" in str(raised.value)


# -- the pin map, the start scripts and the .serviceconfig files (no services needed) --------


def test_the_committed_pin_map_logs_to_the_home_folder() -> None:
    assert pinmap.log_resource_name() == "~/session_sharing_log.ndjson"
    assert pinmap.log_file_path() == Path.home() / "session_sharing_log.ndjson"


def test_render_pin_map_renames_the_custom_instruments_and_their_connections(
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "a & b" / "run.ndjson"
    database = log_path.with_suffix(".db")  # the default: beside the log

    rendered = render_pin_map(log_path, tmp_path / "copy.pinmap")

    text = rendered.read_text(encoding="utf-8-sig")
    root = ET.fromstring(text)
    ns = {"pm": "http://www.ni.com/TestStand/SemiconductorModule/PinMap.xsd"}
    instruments = root.findall("pm:Instruments/pm:Instrument", ns)
    connections = root.findall("pm:Connections/pm:SystemConnection", ns)
    assert [(i.get("name"), i.get("instrumentTypeId")) for i in instruments] == [
        (str(log_path), JSON_LOGGER_INSTRUMENT_TYPE),
        (str(database), "ResultsDatabaseService"),
    ]
    assert [(c.get("pin"), c.get("instrument")) for c in connections] == [
        (LOGGER_PIN, str(log_path)),
        (pinmap.RESULTS_PIN, str(database)),
    ]
    assert [pin.get("name") for pin in root.findall("pm:Pins/pm:SystemPin", ns)] == [
        LOGGER_PIN,
        pinmap.RESULTS_PIN,
    ]
    assert pinmap.log_resource_name(rendered) == str(log_path)
    # Everything else is the committed pin map, unchanged.
    committed = pinmap.PIN_MAP_PATH.read_text(encoding="utf-8-sig")
    assert committed.count(pinmap.DEFAULT_LOG_RESOURCE_NAME) == 2
    assert committed.count(pinmap.DEFAULT_DATABASE_RESOURCE_NAME) == 2
    expected = committed.replace(
        pinmap.DEFAULT_LOG_RESOURCE_NAME, str(log_path).replace("&", "&amp;")
    ).replace(pinmap.DEFAULT_DATABASE_RESOURCE_NAME, str(database).replace("&", "&amp;"))
    assert ET.canonicalize(text) == ET.canonicalize(expected)


def test_render_pin_map_names_the_device_connection_in_both_places(tmp_path: Path) -> None:
    device = "TCPIP0::10.0.0.5::5025::SOCKET"
    source = pinmap.DUT_SUPPLY_PIN_MAP_PATH

    rendered = render_pin_map(
        tmp_path / "run.ndjson", tmp_path / "d.pinmap", device=device, source=source
    )

    text = rendered.read_text(encoding="utf-8-sig")
    committed = source.read_text(encoding="utf-8-sig")
    assert committed.count(pinmap.DEFAULT_DEVICE_RESOURCE_NAME) == 2
    expected = committed.replace(pinmap.DEFAULT_DEVICE_RESOURCE_NAME, device).replace(
        pinmap.DEFAULT_LOG_RESOURCE_NAME, str(tmp_path / "run.ndjson")
    )
    assert ET.canonicalize(text) == ET.canonicalize(expected)
    with pytest.raises(pinmap.PinMapError, match="declares 0 instruments"):
        render_pin_map(tmp_path / "run.ndjson", tmp_path / "e.pinmap", device=device)
    with pytest.raises(ValueError, match="resource string must not be empty"):
        render_pin_map(tmp_path / "run.ndjson", tmp_path / "e.pinmap", device=" ", source=source)


def test_render_pin_map_needs_exactly_one_logger_instrument(tmp_path: Path) -> None:
    source = tmp_path / "none.pinmap"
    source.write_text(
        pinmap.PIN_MAP_PATH.read_text(encoding="utf-8-sig").replace(
            'instrumentTypeId="JsonLoggerService"', 'instrumentTypeId="Other"'
        ),
        encoding="utf-8",
    )

    with pytest.raises(pinmap.PinMapError, match="declares 0 instruments"):
        render_pin_map(tmp_path / "log.ndjson", tmp_path / "out.pinmap", source=source)


@pytest.mark.parametrize("plugin", [DCPOWER, DMM], ids=["dcpower", "dmm"])
def test_service_config_and_start_scripts(plugin: PluginInfo) -> None:
    package = nidcpower_with_logger if plugin is DCPOWER else nidmm_with_logger
    [service] = json.loads(package.SERVICE_CONFIG_PATH.read_text(encoding="utf-8"))["services"]
    folder = package.PLUGIN_DIRECTORY

    assert service["providedInterfaces"] == [
        "ni.measurementlink.measurement.v1.MeasurementService",
        "ni.measurementlink.measurement.v2.MeasurementService",
    ]
    assert service["serviceClass"].startswith("ni.examples.session_sharing.")
    assert service["version"] and service["annotations"]["ni/service.description"]
    assert service["path"] == "start.bat"
    start_bat = (folder / "start.bat").read_bytes()
    assert f'"%PYTHON%" -m {plugin.module} %*'.encode() in start_bat
    assert b'set "PYTHON=.venv\\Scripts\\python.exe"' in start_bat
    assert b"uv sync" in start_bat
    start_sh = folder / "start.sh"
    assert f"uv run python -m {plugin.module}" in start_sh.read_text(encoding="utf-8")
    assert os.access(start_sh, os.X_OK)
