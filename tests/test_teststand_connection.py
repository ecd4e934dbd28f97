"""The TestStand code module of the instrument connection, over the local NI platform and a real
Instrument Connection Service found through discovery: Setup opens and registers the device's
connection, a step's AUTO attaches to it, Cleanup closes and unregisters it; a failed Setup leaves
nothing open or registered.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from ni.measurementlink.pinmap.v1.client import PinMapClient
from ni.measurementlink.sessionmanagement.v1.client import PinMapContext, SessionManagementClient

from connection_client import (
    INSTRUMENT_CONNECTION_INSTRUMENT_TYPE,
    DeviceUnavailableError,
    InstrumentConnectionSessionConstructor,
)
from instrument_connection import instrument_connection_pb2 as pb
from instrument_connection.instrument_connection_pb2_grpc import InstrumentConnectionStub
from local_ni_platform.activation import activate
from local_ni_platform.platform import LocalPlatform
from local_ni_platform.session_management import pin_map_and_session_management_parts
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.programs import start_connection_service
from simulated_instrument.scpi import IDENTITY
from simulated_instrument.server import InstrumentServer
from teststand import teststand_instrument_connection as connection_module
from teststand.errors import SessionsAlreadyRegisteredError
from teststand.sequence_context import StandInSequenceContext

TIMEOUT = 10.0
PIN = "DutPin"


def write_pin_map(folder: Path, resource_name: str) -> Path:
    """A pin map whose custom instrument is the device, named by its VISA resource string."""
    path = folder / "Dut.pinmap"
    path.write_text(
        f"""<?xml version="1.0" encoding="utf-8"?>
<PinMap xmlns="http://www.ni.com/TestStand/SemiconductorModule/PinMap.xsd" schemaVersion="1.6">
  <Instruments>
    <Instrument name="{resource_name}" instrumentTypeId="{INSTRUMENT_CONNECTION_INSTRUMENT_TYPE}">
      <Channel id="0" />
    </Instrument>
  </Instruments>
  <Pins><SystemPin name="{PIN}" /></Pins>
  <Sites><Site siteNumber="0" /></Sites>
  <Connections>
    <SystemConnection pin="{PIN}" instrument="{resource_name}" channel="0" />
  </Connections>
</PinMap>
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The local platform (discovery, pin map, session management); yields a folder."""
    with pytest.MonkeyPatch.context() as patch:
        state_dir = tmp_path_factory.mktemp("platform")
        patch.setenv("NI_LOCAL_PLATFORM_DIR", str(state_dir))
        activate()
        with LocalPlatform(state_dir=state_dir, parts=pin_map_and_session_management_parts()):
            yield tmp_path_factory.mktemp("pin-maps")


@pytest.fixture(scope="module")
def service(platform: Path) -> Iterator[ServiceProcess]:
    process = start_connection_service()  # registered: the module finds it through discovery
    yield process
    assert process.stop() == 0, process.stderr_tail


@pytest.fixture
def device() -> Iterator[InstrumentServer]:
    with InstrumentServer() as server:
        yield server


def sessions(service: ServiceProcess) -> list[pb.SessionDescription]:
    with grpc.insecure_channel(service.address) as channel:
        stub = InstrumentConnectionStub(channel)
        return list(stub.ListSessions(pb.ListSessionsRequest(), timeout=TIMEOUT).sessions)


def registered() -> list[str]:
    with SessionManagementClient().reserve_all_registered_sessions(timeout=0) as reservation:
        return [info.session_name for info in reservation.session_info]


def test_setup_opens_and_registers_a_step_attaches_and_cleanup_closes(
    platform: Path, service: ServiceProcess, device: InstrumentServer
) -> None:
    pin_map_id = PinMapClient().update_pin_map(write_pin_map(platform, device.resource_name))
    context = StandInSequenceContext(pin_map_id)

    (session_id,) = connection_module.create_instrument_connection_sessions(context)
    session_name = f"{INSTRUMENT_CONNECTION_INSTRUMENT_TYPE}-{device.resource_name}"
    assert registered() == [session_name]
    with SessionManagementClient().reserve_session(
        PinMapContext(pin_map_id, sites=[0]), PIN, timeout=TIMEOUT
    ) as reservation:  # a measurement step: AUTO
        with reservation.initialize_session(
            InstrumentConnectionSessionConstructor(), INSTRUMENT_CONNECTION_INSTRUMENT_TYPE
        ) as info:
            step = info.session
            answer = step.query("*IDN?")
    assert (step.session_id, step.new_session_initialized, answer) == (session_id, False, IDENTITY)
    assert [s.session_id for s in sessions(service)] == [session_id]  # the step left it open

    closed = connection_module.destroy_instrument_connection_sessions()

    assert closed == [session_name]
    assert sessions(service) == [] and registered() == []
    assert connection_module.destroy_instrument_connection_sessions() == []


def test_a_device_setup_cannot_reach_leaves_nothing_open_or_registered(
    platform: Path, service: ServiceProcess
) -> None:
    with InstrumentServer() as gone:
        name = gone.resource_name  # a port nobody listens on once this block ends
    pin_map_id = PinMapClient().update_pin_map(write_pin_map(platform, name))

    with pytest.raises(DeviceUnavailableError, match="cannot connect"):
        connection_module.create_instrument_connection_sessions(StandInSequenceContext(pin_map_id))

    assert sessions(service) == [] and registered() == []


def test_a_second_setup_is_refused_while_the_first_is_registered(
    platform: Path, service: ServiceProcess, device: InstrumentServer
) -> None:
    pin_map_id = PinMapClient().update_pin_map(write_pin_map(platform, device.resource_name))
    context = StandInSequenceContext(pin_map_id)
    connection_module.create_instrument_connection_sessions(context)
    try:
        with pytest.raises(SessionsAlreadyRegisteredError, match="device connection"):
            connection_module.create_instrument_connection_sessions(context)
    finally:
        connection_module.destroy_instrument_connection_sessions()

    assert sessions(service) == [] and registered() == []
