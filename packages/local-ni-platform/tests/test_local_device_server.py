"""The simulated NI gRPC Device Server, driven by NI's unchanged nidcpower/nidmm clients and SDK.

Everything runs over real loopback gRPC: the device server is a part of a running
:class:`LocalPlatform`, registered in its discovery like NI's device server.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import hightime
import nidcpower
import nidmm
import pytest
import session_pb2
from ni.measurementlink.discovery.v1.client import DiscoveryClient, ServiceLocation
from ni.measurementlink.sessionmanagement.v1.client import (
    SessionInformation,
    SessionInitializationBehavior,
)
from ni.measurementlink.sessionmanagement.v1.client._drivers import (
    _grpcdevice,
    closing_session_with_ts_code_module_support,
)
from ni.measurementlink.sessionmanagement.v1.client._drivers._nidcpower import (
    SessionConstructor as DCPowerSessionConstructor,
)
from ni.measurementlink.sessionmanagement.v1.client._drivers._nidmm import (
    SessionConstructor as DmmSessionConstructor,
)
from ni_grpc_extensions.channelpool import GrpcChannelPool
from nidcpower import nidcpower_pb2 as dcpower_pb2
from nidcpower import nidcpower_pb2_grpc as dcpower_pb2_grpc
from nidmm import nidmm_pb2 as dmm_pb2
from nidmm import nidmm_pb2_grpc as dmm_pb2_grpc

from local_ni_platform import activation
from local_ni_platform.device_server import (
    DCPowerSession,
    DeviceServerPart,
    DmmSession,
    DriverError,
    SessionExistsError,
    SessionNameConflictError,
    SessionNotInitializedError,
    SessionRepository,
    resolution_absolute,
)
from local_ni_platform.device_server import errors as ds_errors
from local_ni_platform.device_server.attributes import AttributeType
from local_ni_platform.platform import LocalPlatform
from session_core.behaviors import InitializationBehavior

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="on Windows NI's real platform services are used"
)

Behavior = nidcpower.SessionInitializationBehavior
DmmBehavior = nidmm.SessionInitializationBehavior
RESOURCE = "DCPower1/0, DCPower1/2"
CHANNELS = ["DCPower1/0", "DCPower1/2"]
INVALID_SESSION = -1074130544
EVENT_TIMEOUT = -1074116059
ATTRIBUTE_NOT_RECOGNIZED = -1074135028


@pytest.fixture
def part() -> DeviceServerPart:
    return DeviceServerPart()


@pytest.fixture
def platform(state_dir: Path, part: DeviceServerPart) -> Iterator[LocalPlatform]:
    with LocalPlatform(state_dir=state_dir, parts=[part]) as running:
        yield running


@pytest.fixture
def channel(platform: LocalPlatform) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(platform.discovery_address) as opened:
        yield opened


def dcpower(
    channel: grpc.Channel,
    session_name: str = "smu",
    behavior: nidcpower.SessionInitializationBehavior = Behavior.AUTO,
    resource_name: str = RESOURCE,
) -> nidcpower.Session:
    """A session exactly as NI's SDK constructor creates it."""
    return nidcpower.Session(
        resource_name=resource_name,
        reset=False,
        options={},
        grpc_options=nidcpower.GrpcSessionOptions(
            channel, session_name=session_name, initialization_behavior=behavior
        ),
    )


def dmm(
    channel: grpc.Channel,
    session_name: str = "dmm",
    behavior: nidmm.SessionInitializationBehavior = DmmBehavior.AUTO,
) -> nidmm.Session:
    return nidmm.Session(
        resource_name="DMM1",
        reset_device=False,
        options={},
        grpc_options=nidmm.GrpcSessionOptions(
            channel, session_name=session_name, initialization_behavior=behavior
        ),
    )


def configure_like_reference_plugin(
    channels: nidcpower.Session,
    *,
    voltage_level: float = 5.0,
    current_limit: float = 0.01,
    source_delay: float = 0.0,
) -> None:
    """The setter sequence of NI's nidcpower_source_dc_voltage example and acceptance test."""
    channels.source_mode = nidcpower.SourceMode.SINGLE_POINT
    channels.output_function = nidcpower.OutputFunction.DC_VOLTAGE
    channels.current_limit = current_limit
    channels.voltage_level_range = 10.0
    channels.current_limit_range = 0.01
    channels.source_delay = hightime.timedelta(seconds=source_delay)
    channels.voltage_level = voltage_level


# --- Session initialization behaviours (NI-DCPower) -------------------------------------------


def test_auto_initializes_then_closes_on_exit(
    channel: grpc.Channel, part: DeviceServerPart
) -> None:
    with dcpower(channel) as session:
        assert session._interpreter._close_on_exit is True
        assert session.channel_count == 2
        assert session.get_channel_names(range(2)) == CHANNELS
        assert part.repository.names() == ["smu"]
    assert part.repository.names() == []


def test_auto_attaches_to_existing_session_and_leaves_it_open(
    channel: grpc.Channel, part: DeviceServerPart
) -> None:
    with dcpower(channel, behavior=Behavior.INITIALIZE_SERVER_SESSION) as owner:
        owner.channels["DCPower1/2"].voltage_level = 3.0
        # Attaching ignores the resource name: the session keeps its two channels.
        with dcpower(channel, resource_name="Other/0") as attached:
            assert attached._interpreter._close_on_exit is False
            assert attached.channel_count == 2
            assert attached.channels["DCPower1/2"].voltage_level == 3.0
        assert part.repository.names() == ["smu"]
        assert owner.channels["DCPower1/0"].voltage_level == 0.0
    assert part.repository.names() == []


def test_initialize_server_session_refuses_an_existing_name(channel: grpc.Channel) -> None:
    with (
        dcpower(channel, session_name="my smu"),
        pytest.raises(nidcpower.errors.RpcError) as excinfo,
    ):
        dcpower(channel, session_name="my smu", behavior=Behavior.INITIALIZE_SERVER_SESSION)
    assert excinfo.value.rpc_code == grpc.StatusCode.ALREADY_EXISTS
    assert excinfo.value.description == "Cannot initialize 'my smu' when a session already exists."


def test_attach_to_missing_session_fails_precondition(channel: grpc.Channel) -> None:
    with pytest.raises(nidcpower.errors.RpcError) as excinfo:
        dcpower(channel, session_name="absent", behavior=Behavior.ATTACH_TO_SERVER_SESSION)
    assert excinfo.value.rpc_code == grpc.StatusCode.FAILED_PRECONDITION
    assert excinfo.value.description == (
        "Cannot attach to 'absent' because a session has not been initialized."
    )


def test_attach_never_closes_on_exit_and_close_frees_the_name(
    channel: grpc.Channel, part: DeviceServerPart
) -> None:
    owner = dcpower(channel, behavior=Behavior.INITIALIZE_SERVER_SESSION)
    with dcpower(channel, behavior=Behavior.ATTACH_TO_SERVER_SESSION) as attached:
        assert attached._interpreter._close_on_exit is False
    assert part.repository.names() == ["smu"]

    attached = dcpower(channel, behavior=Behavior.ATTACH_TO_SERVER_SESSION)
    attached.close()  # an explicit close always closes the server session
    assert part.repository.names() == []
    with pytest.raises(nidcpower.errors.DriverError) as excinfo:
        owner.channels["DCPower1/0"].voltage_level = 1.0
    assert excinfo.value.code == INVALID_SESSION
    assert "The session handle is not valid." in excinfo.value.description
    with pytest.raises(nidcpower.errors.RpcError):
        dcpower(channel, behavior=Behavior.ATTACH_TO_SERVER_SESSION)


def test_empty_session_name_generates_unique_names(
    channel: grpc.Channel, part: DeviceServerPart
) -> None:
    with dcpower(channel, session_name="") as first, dcpower(channel, session_name="") as second:
        names = part.repository.names()
        assert len(names) == 2
        assert all(name.startswith("ni:generated:") for name in names)
        assert first._interpreter.get_session_handle().name in names
        assert second._interpreter.get_session_handle().name in names
    assert part.repository.names() == []


def test_concurrent_auto_inits_make_one_session(
    channel: grpc.Channel, part: DeviceServerPart
) -> None:
    stub = dcpower_pb2_grpc.NiDCPowerStub(channel)
    request = dcpower_pb2.InitializeWithIndependentChannelsRequest(
        session_name="shared", resource_name="DCPower1/0"
    )
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(
            pool.map(lambda _: stub.InitializeWithIndependentChannels(request), range(8))
        )
    assert sum(response.new_session_initialized for response in responses) == 1
    assert {response.vi.name for response in responses} == {"shared"}
    assert part.repository.names() == ["shared"]


# --- The reference plug-in's calls ------------------------------------------------------------


def test_reference_plugin_sequence_measures_5v_and_100ua(
    channel: grpc.Channel, part: DeviceServerPart
) -> None:
    session = dcpower(channel)
    try:
        channels = session.channels["DCPower1/0, DCPower1/2"]
        configure_like_reference_plugin(channels, source_delay=0.1)
        assert channels.source_delay == hightime.timedelta(seconds=0.1)
        with channels.initiate():
            channels.wait_for_event(nidcpower.Event.SOURCE_COMPLETE, timeout=10.0)
            measurements = channels.measure_multiple()
            in_compliance = [session.channels[name].query_in_compliance() for name in CHANNELS]
        assert [m.channel for m in measurements] == CHANNELS
        assert [m.voltage for m in measurements] == [5.0, 5.0]
        assert [m.current for m in measurements] == [0.0001, 0.0001]
        assert in_compliance == [False, False]

        session.reset()
        assert session.channels["DCPower1/0"].voltage_level == 0.0
    finally:
        session.close()
    assert part.repository.names() == []


def test_measure_multiple_follows_the_channel_string_order(channel: grpc.Channel) -> None:
    with dcpower(channel) as session:
        session.channels["DCPower1/0"].voltage_level = 1.0
        session.channels["DCPower1/2"].voltage_level = 2.0
        measured = session.channels["DCPower1/2,DCPower1/0"].measure_multiple()
        assert [(m.channel, m.voltage) for m in measured] == [
            ("DCPower1/2", 2.0),
            ("DCPower1/0", 1.0),
        ]
        assert [m.voltage for m in session.measure_multiple()] == [1.0, 2.0]


def test_low_current_limit_is_in_compliance(channel: grpc.Channel) -> None:
    with dcpower(channel) as session:
        channels = session.channels["DCPower1/0"]
        configure_like_reference_plugin(channels, current_limit=1e-5)
        with channels.initiate():
            channels.wait_for_event(nidcpower.Event.SOURCE_COMPLETE, timeout=1.0)
            (measurement,) = channels.measure_multiple()
            assert channels.query_in_compliance() is True
        assert measurement.current == pytest.approx(1e-5)
        assert measurement.voltage == pytest.approx(0.5)


def test_low_load_is_in_compliance(state_dir: Path) -> None:
    with (
        LocalPlatform(state_dir=state_dir, parts=[DeviceServerPart(load_resistance=100.0)]) as low,
        grpc.insecure_channel(low.discovery_address) as low_channel,
        dcpower(low_channel) as session,
    ):
        configure_like_reference_plugin(session)
        (first, _) = session.measure_multiple()
        assert session.query_in_compliance() is True
        assert first.current == pytest.approx(0.01)
        assert first.voltage == pytest.approx(1.0)


def test_wait_for_event_times_out_until_the_source_delay_elapsed(channel: grpc.Channel) -> None:
    with dcpower(channel) as session:
        channels = session.channels["DCPower1/0"]
        configure_like_reference_plugin(channels, source_delay=0.2)
        timeouts = 0
        with channels.initiate():
            # NI's example polls with short timeouts so that it can react to cancellation.
            while True:
                try:
                    channels.wait_for_event(nidcpower.Event.SOURCE_COMPLETE, timeout=0.05)
                    break
                except nidcpower.errors.DriverError as error:
                    assert error.code == EVENT_TIMEOUT
                    timeouts += 1
            assert timeouts >= 1
            # The event was consumed: waiting again times out.
            with pytest.raises(nidcpower.errors.DriverError) as excinfo:
                channels.wait_for_event(nidcpower.Event.SOURCE_COMPLETE, timeout=0.0)
        assert excinfo.value.code == EVENT_TIMEOUT
        assert str(excinfo.value).startswith(f"{EVENT_TIMEOUT}: ")


def test_wait_without_initiate_times_out(channel: grpc.Channel) -> None:
    with dcpower(channel) as session, pytest.raises(nidcpower.errors.DriverError) as excinfo:
        session.wait_for_event(nidcpower.Event.SOURCE_COMPLETE, timeout=0.01)
    assert excinfo.value.code == EVENT_TIMEOUT


def test_level_beyond_range_fails_at_initiate(channel: grpc.Channel) -> None:
    with dcpower(channel) as session:
        configure_like_reference_plugin(session, voltage_level=12.0)
        with pytest.raises(nidcpower.errors.DriverError) as excinfo:
            session.initiate()
    assert excinfo.value.code == ds_errors.INVALID_VALUE
    assert "voltage_level 12 exceeds voltage_level_range 10" in excinfo.value.description


# --- Errors as NI's server reports them -------------------------------------------------------


def test_unknown_session_name_is_a_driver_error(channel: grpc.Channel) -> None:
    stub = dcpower_pb2_grpc.NiDCPowerStub(channel)
    request = dcpower_pb2.GetAttributeViInt32Request(
        vi=session_pb2.Session(name="nobody"), attribute_id=1050203
    )
    with pytest.raises(grpc.RpcError) as excinfo:
        stub.GetAttributeViInt32(request)
    error = excinfo.value
    assert error.code() == grpc.StatusCode.UNKNOWN
    assert "The session handle is not valid." in error.details()
    assert ("ni-error", str(INVALID_SESSION)) in [
        (item.key, item.value) for item in error.trailing_metadata()
    ]


def test_invalid_attribute_reaches_the_client_with_code_and_text(channel: grpc.Channel) -> None:
    with dcpower(channel) as session:
        with pytest.raises(nidcpower.errors.DriverError) as excinfo:
            session._interpreter.get_attribute_vi_int32("", 1234567)
        assert excinfo.value.code == ATTRIBUTE_NOT_RECOGNIZED
        assert "Attribute ID not recognized." in excinfo.value.description
        # GetError returns the session's last error once.
        assert session._interpreter.get_error() == (
            ATTRIBUTE_NOT_RECOGNIZED,
            excinfo.value.description,
        )
        assert session._interpreter.get_error() == (0, "")
        assert "Attribute ID not recognized." in session._error_message(ATTRIBUTE_NOT_RECOGNIZED)


def test_failed_driver_init_registers_nothing(
    channel: grpc.Channel, part: DeviceServerPart
) -> None:
    with pytest.raises(nidcpower.errors.DriverError) as excinfo:
        dcpower(channel, resource_name="")
    assert excinfo.value.code == ds_errors.RESOURCE_NOT_FOUND
    assert "Device was not recognized." in excinfo.value.description
    assert part.repository.names() == []


def test_single_measure_and_current_mode(channel: grpc.Channel) -> None:
    with dcpower(channel) as session:
        smu = session.channels["DCPower1/2"]
        smu.output_function = nidcpower.OutputFunction.DC_CURRENT
        smu.current_level = 1e-5
        smu.voltage_limit = 6.0
        assert smu.measure(nidcpower.MeasurementTypes.VOLTAGE) == pytest.approx(0.5)
        assert smu.measure(nidcpower.MeasurementTypes.CURRENT) == pytest.approx(1e-5)
        smu.current_level = 1e-3  # 50 V into 50 kOhm: clamped at the 6 V limit
        assert smu.query_in_compliance() is True
        assert smu.measure(nidcpower.MeasurementTypes.VOLTAGE) == pytest.approx(6.0)


def test_unknown_channel_is_a_driver_error(channel: grpc.Channel) -> None:
    with dcpower(channel) as session, pytest.raises(nidcpower.errors.DriverError) as excinfo:
        session.channels["DCPower1/1"].voltage_level = 1.0
    assert excinfo.value.code == ds_errors.UNKNOWN_CHANNEL_NAME


def test_unsimulated_rpc_is_unimplemented_and_named(channel: grpc.Channel) -> None:
    with dcpower(channel) as session:
        with pytest.raises(nidcpower.errors.RpcError) as excinfo:
            session.clear_latched_output_cutoff_state(nidcpower.OutputCutoffReason.ALL)
        assert excinfo.value.rpc_code == grpc.StatusCode.UNIMPLEMENTED

        stub = dcpower_pb2_grpc.NiDCPowerStub(channel)
        vi = session._interpreter.get_session_handle()
        with pytest.raises(grpc.RpcError) as raw:
            stub.ConfigureOvp(dcpower_pb2.ConfigureOvpRequest(vi=vi))
        assert raw.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert "nidcpower_grpc.NiDCPower/ConfigureOvp is not simulated" in raw.value.details()


def test_raw_setter_uses_raw_member_and_status_zero(channel: grpc.Channel) -> None:
    stub = dcpower_pb2_grpc.NiDCPowerStub(channel)
    init = stub.InitializeWithIndependentChannels(
        dcpower_pb2.InitializeWithIndependentChannelsRequest(
            session_name="raw", resource_name="DCPower1/0-1"
        )
    )
    assert (init.status, init.vi.name, init.new_session_initialized) == (0, "raw", True)
    names = stub.GetChannelNameFromString(
        dcpower_pb2.GetChannelNameFromStringRequest(vi=init.vi, index="0,1")
    )
    assert names.channel_name == "DCPower1/0,DCPower1/1"
    response = stub.SetAttributeViReal64(
        dcpower_pb2.SetAttributeViReal64Request(
            vi=init.vi, channel_name="DCPower1/1", attribute_id=1250001, attribute_value_raw=2.0
        )
    )
    assert response.status == 0
    measured = stub.MeasureMultiple(dcpower_pb2.MeasureMultipleRequest(vi=init.vi))
    assert list(measured.voltage_measurements) == [0.0, 2.0]
    assert stub.Close(dcpower_pb2.CloseRequest(vi=init.vi)).status == 0
    with pytest.raises(grpc.RpcError) as excinfo:
        stub.Close(dcpower_pb2.CloseRequest(vi=init.vi))
    assert excinfo.value.code() == grpc.StatusCode.UNKNOWN


# --- NI-DMM ----------------------------------------------------------------------------------


def test_dmm_digits_read_and_resolution(channel: grpc.Channel, part: DeviceServerPart) -> None:
    with dmm(channel) as session:
        assert session._interpreter._close_on_exit is True
        session.configure_measurement_digits(nidmm.Function.DC_VOLTS, 10.0, 5.5)
        reading = session.read()
        assert -10.0 <= reading <= 10.0
        assert reading == pytest.approx(2.5, abs=1e-3)
        assert session.resolution_absolute == pytest.approx(5e-05)
        assert session.function == nidmm.Function.DC_VOLTS
        assert session.range == 10.0
        assert session.resolution_digits == 5.5
    assert part.repository.names() == []


def test_dmm_over_range_reads_nan(channel: grpc.Channel) -> None:
    with dmm(channel) as session:
        session.configure_measurement_digits(nidmm.Function.DC_VOLTS, 1.0, 6.5)
        assert math.isnan(session.read())
        assert session.resolution_absolute == pytest.approx(5e-07)


def test_dmm_attach_semantics(channel: grpc.Channel, part: DeviceServerPart) -> None:
    with dmm(channel, behavior=DmmBehavior.INITIALIZE_SERVER_SESSION) as owner:
        owner.configure_measurement_digits(nidmm.Function.DC_VOLTS, 100.0, 4.5)
        with dmm(channel, behavior=DmmBehavior.ATTACH_TO_SERVER_SESSION) as attached:
            assert attached._interpreter._close_on_exit is False
            assert attached.range == 100.0
        with dmm(channel) as auto:
            assert auto._interpreter._close_on_exit is False
        assert part.repository.names() == ["dmm"]
        with pytest.raises(nidmm.errors.RpcError) as excinfo:
            dmm(channel, behavior=DmmBehavior.INITIALIZE_SERVER_SESSION)
        assert excinfo.value.rpc_code == grpc.StatusCode.ALREADY_EXISTS
    assert part.repository.names() == []
    with pytest.raises(nidmm.errors.RpcError) as excinfo:
        dmm(channel, behavior=DmmBehavior.ATTACH_TO_SERVER_SESSION)
    assert excinfo.value.rpc_code == grpc.StatusCode.FAILED_PRECONDITION


def test_session_name_of_other_driver_is_invalid_argument(channel: grpc.Channel) -> None:
    with dcpower(channel, session_name="Shared1"):
        with pytest.raises(ValueError, match='The session name "Shared1" is being used by a'):
            dmm(channel, session_name="Shared1")
        # NI's server checks the behaviour first: INITIALIZE_NEW sees an existing name.
        with pytest.raises(nidmm.errors.RpcError) as excinfo:
            dmm(channel, session_name="Shared1", behavior=DmmBehavior.INITIALIZE_SERVER_SESSION)
        assert excinfo.value.rpc_code == grpc.StatusCode.ALREADY_EXISTS


def test_dmm_unknown_attribute_and_error_message(channel: grpc.Channel) -> None:
    stub = dmm_pb2_grpc.NiDmmStub(channel)
    message = stub.GetErrorMessage(dmm_pb2.GetErrorMessageRequest(error_code=INVALID_SESSION))
    assert message.error_message == "IVI: (Hex 0xBFFA1190) The session handle is not valid."
    with dmm(channel) as session, pytest.raises(nidmm.errors.DriverError) as excinfo:
        session._interpreter.get_attribute_vi_real64("", 42)
    assert excinfo.value.code == ATTRIBUTE_NOT_RECOGNIZED


# --- Discovery and NI's SDK session helpers ---------------------------------------------------


@pytest.fixture
def sdk_uses_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK reads these once at import; pin them to "use the server, found by discovery"."""
    monkeypatch.setattr(_grpcdevice, "USE_GRPC_DEVICE_SERVER", True)
    monkeypatch.setattr(_grpcdevice, "GRPC_DEVICE_SERVER_ADDRESS", "")


@pytest.mark.usefixtures("sdk_uses_discovery")
@pytest.mark.parametrize("interface", [nidcpower.GRPC_SERVICE_INTERFACE_NAME, "nidmm_grpc.NiDmm"])
def test_sdk_finds_the_device_server_through_discovery(
    platform: LocalPlatform, interface: str
) -> None:
    assert activation.activate() is True
    location = _grpcdevice.get_grpc_device_server_location(DiscoveryClient(), interface)
    assert location == ServiceLocation("127.0.0.1", str(platform.discovery_port), "")


@pytest.mark.usefixtures("sdk_uses_discovery")
def test_sdk_constructors_with_teststand_emulation(
    platform: LocalPlatform, part: DeviceServerPart
) -> None:
    assert activation.activate() is True
    info = SessionInformation(
        session_name="DCPower1/0, DCPower1/2",
        resource_name="DCPower1/0, DCPower1/2",
        channel_list="DCPower1/0, DCPower1/2",
        instrument_type_id="niDCPower",
        session_exists=False,
        channel_mappings=[],
    )
    discovery = DiscoveryClient()
    with GrpcChannelPool() as pool:

        def open_session(behavior: SessionInitializationBehavior) -> Any:
            constructor = DCPowerSessionConstructor(discovery, pool, False, {}, behavior)
            return closing_session_with_ts_code_module_support(behavior, constructor(info))

        # TestStand setup: initialize, then detach (the server session stays).
        with open_session(SessionInitializationBehavior.INITIALIZE_SESSION_THEN_DETACH) as setup:
            setup.channels[info.channel_list].voltage_level = 5.0
        assert part.repository.names() == [info.session_name]

        # A measurement step attaches (AUTO) and leaves the session open.
        with open_session(SessionInitializationBehavior.AUTO) as step:
            configure_like_reference_plugin(step.channels[info.channel_list])
            assert [m.current for m in step.measure_multiple()] == [0.0001, 0.0001]
        assert part.repository.names() == [info.session_name]

        # TestStand cleanup: attach, then close.
        with open_session(SessionInitializationBehavior.ATTACH_TO_SESSION_THEN_CLOSE):
            pass
        assert part.repository.names() == []

        dmm_info = info._replace(session_name="DMM1", resource_name="DMM1", channel_list="0")
        constructor = DmmSessionConstructor(
            discovery, pool, False, {}, SessionInitializationBehavior.AUTO
        )
        with constructor(dmm_info) as session:
            session.configure_measurement_digits(nidmm.Function.DC_VOLTS, 10.0, 5.5)
            assert session.resolution_absolute == pytest.approx(5e-05)
        assert part.repository.names() == []


def test_platform_stop_closes_sessions(state_dir: Path) -> None:
    part = DeviceServerPart()
    with LocalPlatform(state_dir=state_dir, parts=[part]) as running:
        with grpc.insecure_channel(running.discovery_address) as opened:
            dcpower(opened, behavior=Behavior.INITIALIZE_SERVER_SESSION)
        assert part.repository.names() == ["smu"]
    assert part.repository.names() == []


# --- The simulation without gRPC --------------------------------------------------------------


def test_repository_rules() -> None:
    repository = SessionRepository()
    opened = repository.open(
        "a", InitializationBehavior.UNSPECIFIED, DmmSession, lambda: DmmSession("DMM1")
    )
    assert opened.new_session_initialized is True
    again = repository.open("a", InitializationBehavior.UNSPECIFIED, DmmSession, _never)
    assert again.instrument is opened.instrument
    assert again.new_session_initialized is False
    with pytest.raises(SessionExistsError):
        repository.open("a", InitializationBehavior.INITIALIZE_NEW, DmmSession, _never)
    with pytest.raises(SessionNotInitializedError):
        repository.open("b", InitializationBehavior.ATTACH_TO_EXISTING, DmmSession, _never)
    with pytest.raises(SessionNameConflictError):
        repository.open("a", InitializationBehavior.ATTACH_TO_EXISTING, DCPowerSession, _never)
    with pytest.raises(DriverError) as excinfo:
        repository.get("a", DCPowerSession)
    assert excinfo.value.code == INVALID_SESSION
    # A failed driver init registers nothing.
    with pytest.raises(DriverError):
        repository.open("c", InitializationBehavior.UNSPECIFIED, DmmSession, lambda: DmmSession(""))
    assert repository.names() == ["a"]
    assert repository.remove("a", DmmSession) is opened.instrument
    assert repository.names() == []


def _never() -> DmmSession:
    raise AssertionError("init must not be called when attaching")


def test_channel_strings() -> None:
    session = DCPowerSession("DCPower1/0-2, SMU2")
    assert session.channel_names == (
        "DCPower1/0",
        "DCPower1/1",
        "DCPower1/2",
        "SMU2/0",
        "SMU2/1",
        "SMU2/2",
        "SMU2/3",
    )
    assert session.resolve_channels("dcpower1/2:1, SMU2/3") == [
        "DCPower1/2",
        "DCPower1/1",
        "SMU2/3",
    ]
    assert session.channel_names_at("1-0") == "DCPower1/1,DCPower1/0"
    with pytest.raises(DriverError) as excinfo:
        session.resolve_channels("0")  # bare numbers need a single-instrument session
    assert excinfo.value.code == ds_errors.UNKNOWN_CHANNEL_NAME
    assert DCPowerSession("DCPower1/0,DCPower1/2").resolve_channels("2,0") == [
        "DCPower1/2",
        "DCPower1/0",
    ]
    with pytest.raises(DriverError) as excinfo:
        DCPowerSession("DCPower1/0,dcpower1/0")
    assert excinfo.value.code == ds_errors.DUPLICATE_CHANNEL_STRING


def test_dmm_resolution_formula() -> None:
    assert resolution_absolute(10.0, 5.5) == 5e-05
    assert resolution_absolute(10.0, 6.5) == 5e-06
    assert resolution_absolute(1.0, 3.5) == 5e-04
    session = DmmSession("DMM1", "Simulate=1, DriverSetup=Model:4071; BoardType:PXI")
    session.configure_measurement_digits(1, 5.0, 5.0)  # coerced to the 10 V range, 5.5 digits
    assert session.get_attribute(1250002, AttributeType.REAL64) == 10.0
    assert session.get_attribute(1250003, AttributeType.REAL64) == 5.5
    assert session.get_attribute(1050512, AttributeType.STRING) == "NI PXI-4071"
    session.configure_measurement_digits(1, -1.0, 5.5)  # auto range picks 10 V for 2.5 V
    assert session.get_attribute(1250331, AttributeType.REAL64) == 10.0
    with pytest.raises(DriverError):
        session.configure_measurement_digits(1, 2000.0, 5.5)


def test_close_wakes_a_waiting_thread() -> None:
    session = DCPowerSession("DCPower1/0")
    started = threading.Event()

    def wait_forever() -> None:
        started.set()
        session.wait_for_event("", 1030, -1.0)

    with ThreadPoolExecutor(max_workers=1) as pool:
        waiter = pool.submit(wait_forever)
        assert started.wait(5.0)
        session.close()
        with pytest.raises(DriverError) as excinfo:
            waiter.result(timeout=5.0)
    assert excinfo.value.code == INVALID_SESSION
