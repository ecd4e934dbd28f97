"""The whole local platform through NI's unchanged SDK: pin map, reservations, the five
initialization behaviours of the driver helpers and of the JSON logger's session constructor,
and the TestStand Setup / step / Cleanup flow that shares one session of each.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import nidcpower
import nidmm
import pytest
from ni.measurementlink.pinmap.v1.client import PinMapClient
from ni.measurementlink.sessionmanagement.v1.client import (
    PinMapContext,
    SessionInitializationBehavior,
    SessionManagementClient,
)

from json_logger import json_logger_pb2 as pb
from json_logger.json_logger_pb2_grpc import JsonLoggerStub
from local_ni_platform.activation import activate
from local_ni_platform.device_server import DeviceServerPart
from local_ni_platform.platform import LocalPlatform
from local_ni_platform.session_management import pin_map_and_session_management_parts
from logger_client import JSON_LOGGER_INSTRUMENT_TYPE, JsonLoggerSessionConstructor, read_records
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.programs import start_logger_service

Behavior = SessionInitializationBehavior
TIMEOUT = 10.0

PIN_MAP = """\ufeff<?xml version="1.0" encoding="utf-8"?>
<PinMap schemaVersion="1.6" xmlns="http://www.ni.com/TestStand/SemiconductorModule/PinMap.xsd">
  <Instruments>
    <NIDCPowerInstrument name="DCPower1" numberOfChannels="4">
      <ChannelGroup name="CommonDCPowerChannelGroup" />
    </NIDCPowerInstrument>
    <NIDmmInstrument name="DMM1" />
    <Instrument name="{log}" instrumentTypeId="JsonLoggerService"><Channel id="0" /></Instrument>
  </Instruments>
  <Pins>
    <DUTPin name="DCPowerPin" />
    <DUTPin name="DMMPin" />
    <SystemPin name="LoggerPin" />
  </Pins>
  <Sites><Site siteNumber="0" /></Sites>
  <Connections>
    <Connection pin="DCPowerPin" siteNumber="0" instrument="DCPower1" channel="0" />
    <Connection pin="DMMPin" siteNumber="0" instrument="DMM1" channel="0" />
    <SystemConnection pin="LoggerPin" instrument="{log}" channel="0" />
  </Connections>
</PinMap>
"""


class Platform:
    def __init__(self, device: DeviceServerPart, pin_map_id: str, log_path: Path) -> None:
        self.device = device
        self.pin_map_id = pin_map_id
        self.log_path = log_path
        self.sessions = SessionManagementClient()

    def context(self) -> PinMapContext:
        return PinMapContext(pin_map_id=self.pin_map_id, sites=[0])

    def device_sessions(self) -> list[str]:
        return sorted(self.device.repository.names())


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    monkeypatch.setenv("NI_LOCAL_PLATFORM_DIR", str(tmp_path / "platform"))
    activate()
    device = DeviceServerPart()
    log_path = tmp_path / "shared.ndjson"
    pin_map_path = tmp_path / "session_sharing.pinmap"
    pin_map_path.write_text(PIN_MAP.format(log=log_path), encoding="utf-8")
    with LocalPlatform(
        state_dir=tmp_path / "platform", parts=[*pin_map_and_session_management_parts(), device]
    ):
        pin_map_id = PinMapClient().update_pin_map(pin_map_path)
        yield Platform(device, pin_map_id, log_path)


@pytest.fixture
def logger_service(platform: Platform) -> Iterator[ServiceProcess]:
    service = start_logger_service()  # registers with the platform's discovery
    yield service
    assert service.stop() == 0


def open_logger_sessions(service: ServiceProcess) -> list[str]:
    with grpc.insecure_channel(service.address) as channel:
        listed = JsonLoggerStub(channel).ListSessions(pb.ListSessionsRequest())
    return [session.resource_name for session in listed.sessions]


def measure_dc_voltage(session: nidcpower.Session, channels: str) -> tuple[float, float]:
    channel = session.channels[channels]
    channel.source_mode = nidcpower.SourceMode.SINGLE_POINT
    channel.output_function = nidcpower.OutputFunction.DC_VOLTAGE
    channel.current_limit = 0.01
    channel.voltage_level = 5.0
    with channel.initiate():
        channel.wait_for_event(nidcpower.Event.SOURCE_COMPLETE, timeout=TIMEOUT)
        [measurement] = channel.measure_multiple()
    return measurement.voltage, measurement.current


def test_teststand_flow_shares_one_session_of_each_kind(
    platform: Platform, logger_service: ServiceProcess
) -> None:
    sessions = platform.sessions
    # Setup: reserve everything, initialize-then-detach, register while still reserved.
    with sessions.reserve_sessions(platform.context(), timeout=TIMEOUT) as reservation:
        with (
            reservation.initialize_nidcpower_sessions(
                initialization_behavior=Behavior.INITIALIZE_SESSION_THEN_DETACH
            ),
            reservation.initialize_nidmm_sessions(
                initialization_behavior=Behavior.INITIALIZE_SESSION_THEN_DETACH
            ),
            reservation.initialize_session(
                JsonLoggerSessionConstructor(Behavior.INITIALIZE_SESSION_THEN_DETACH),
                JSON_LOGGER_INSTRUMENT_TYPE,
            ),
        ):
            sessions.register_sessions(reservation.session_info)
    assert platform.device_sessions() == ["niDCPower-DCPower1/0", "niDMM-DMM1"]
    assert open_logger_sessions(logger_service) == [str(platform.log_path)]

    # Two measurement steps: AUTO attaches to the registered sessions and leaves them open.
    with sessions.reserve_session(platform.context(), "DCPowerPin", timeout=TIMEOUT) as step:
        assert step.session_info.session_exists
        with step.initialize_nidcpower_session() as dcpower:
            voltage, current = measure_dc_voltage(dcpower.session, dcpower.channel_list)
    with sessions.reserve_session(platform.context(), "LoggerPin", timeout=TIMEOUT) as step:
        with step.initialize_session(
            JsonLoggerSessionConstructor(), JSON_LOGGER_INSTRUMENT_TYPE
        ) as logger:
            assert not logger.session.new_session_initialized
            logger.session.log_data("dc voltage", {"level": 5.0}, {"v": voltage, "i": current})
    with sessions.reserve_session(platform.context(), "DMMPin", timeout=TIMEOUT) as step:
        with step.initialize_nidmm_session() as dmm:
            dmm.session.configure_measurement_digits(nidmm.Function.DC_VOLTS, 10.0, 5.5)
            reading = dmm.session.read()
            resolution = dmm.session.resolution_absolute
    assert (voltage, current) == pytest.approx((5.0, 1e-4))
    assert abs(reading) <= 10.0 and resolution == pytest.approx(5e-05)
    assert platform.device_sessions() == ["niDCPower-DCPower1/0", "niDMM-DMM1"]
    assert open_logger_sessions(logger_service) == [str(platform.log_path)]

    # Cleanup: reserve the registered sessions, unregister, attach-then-close.
    with sessions.reserve_all_registered_sessions(timeout=TIMEOUT) as reservation:
        assert {info.channel_list for info in reservation.session_info} == {""}
        sessions.unregister_sessions(reservation.session_info)
        with (
            reservation.initialize_nidcpower_sessions(
                initialization_behavior=Behavior.ATTACH_TO_SESSION_THEN_CLOSE
            ),
            reservation.initialize_nidmm_sessions(
                initialization_behavior=Behavior.ATTACH_TO_SESSION_THEN_CLOSE
            ),
            reservation.initialize_session(
                JsonLoggerSessionConstructor(Behavior.ATTACH_TO_SESSION_THEN_CLOSE),
                JSON_LOGGER_INSTRUMENT_TYPE,
            ),
        ):
            pass
    assert platform.device_sessions() == []
    assert open_logger_sessions(logger_service) == []
    with sessions.reserve_all_registered_sessions(timeout=0) as reservation:
        assert list(reservation.session_info) == []
    [record] = read_records(platform.log_path)
    assert record["measurement_outputs"] == {"v": "5.0", "i": "0.0001"}


@pytest.mark.parametrize("kind", ["dcpower", "dmm"])
def test_driver_helpers_honour_the_other_behaviours(platform: Platform, kind: str) -> None:
    pin = "DCPowerPin" if kind == "dcpower" else "DMMPin"
    name = "niDCPower-DCPower1/0" if kind == "dcpower" else "niDMM-DMM1"

    def initialize(behavior: Behavior) -> object:
        reservation = platform.sessions.reserve_session(platform.context(), pin, timeout=TIMEOUT)
        with reservation:
            helper = (
                reservation.initialize_nidcpower_session
                if kind == "dcpower"
                else reservation.initialize_nidmm_session
            )
            with helper(initialization_behavior=behavior):
                return platform.device_sessions()

    # ATTACH_TO_SERVER_SESSION with nothing to attach to: the device server refuses.
    with pytest.raises(Exception, match="has not been initialized"):
        initialize(Behavior.ATTACH_TO_SERVER_SESSION)
    # AUTO and INITIALIZE_SERVER_SESSION create a session and close it on exit.
    assert initialize(Behavior.AUTO) == [name]
    assert initialize(Behavior.INITIALIZE_SERVER_SESSION) == [name]
    assert platform.device_sessions() == []
    # THEN_DETACH leaves it open; ATTACH_TO_SERVER_SESSION and AUTO attach without closing.
    initialize(Behavior.INITIALIZE_SESSION_THEN_DETACH)
    assert initialize(Behavior.ATTACH_TO_SERVER_SESSION) == [name]
    assert initialize(Behavior.AUTO) == [name]
    assert platform.device_sessions() == [name]
    # INITIALIZE_SERVER_SESSION while it exists: the device server refuses.
    with pytest.raises(Exception, match="already exists"):
        initialize(Behavior.INITIALIZE_SERVER_SESSION)
    # ATTACH_TO_SESSION_THEN_CLOSE closes it.
    initialize(Behavior.ATTACH_TO_SESSION_THEN_CLOSE)
    assert platform.device_sessions() == []


def test_a_step_waits_for_the_session_another_step_holds(platform: Platform) -> None:
    import threading
    import time

    sessions = platform.sessions
    acquired_after = []
    with sessions.reserve_session(platform.context(), "DMMPin", timeout=TIMEOUT):

        def second_step() -> None:
            started = time.perf_counter()
            with sessions.reserve_session(platform.context(), "DMMPin", timeout=TIMEOUT):
                acquired_after.append(time.perf_counter() - started)

        waiter = threading.Thread(target=second_step)
        waiter.start()
        with pytest.raises(grpc.RpcError) as raised:
            sessions.reserve_session(platform.context(), "DMMPin", timeout=0)
        assert raised.value.code() is grpc.StatusCode.UNAVAILABLE
    waiter.join(timeout=TIMEOUT)
    assert len(acquired_after) == 1 and acquired_after[0] < TIMEOUT / 2
