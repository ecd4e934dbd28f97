"""The DUT Supply with Connection plug-in in its own process, called as InstrumentStudio calls it,
on the local NI platform with the JSON Logger and Instrument Connection Services running and the
simulated SCPI instrument as the device: run alone it opens and closes its sessions; under a
TestStand Setup it uses the device connection Setup registered; a device it cannot reach is a
clear status with nothing left held.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from ni.measurementlink.pinmap.v1.client import PinMapClient
from ni.measurementlink.sessionmanagement.v1.client import PinMapContext, SessionManagementClient

from instrument_connection import instrument_connection_pb2 as pb
from instrument_connection.instrument_connection_pb2_grpc import InstrumentConnectionStub
from local_ni_platform.activation import activate
from local_ni_platform.platform import LocalPlatform
from local_ni_platform.session_management import pin_map_and_session_management_parts
from logger_client import read_records
from measurements.client import MeasurementClient
from measurements.dut_supply_with_connection import PLUGIN
from pinmap import DUT_SUPPLY_PIN_MAP_PATH, render_pin_map
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.programs import (
    plugin_process,
    start_connection_service,
    start_logger_service,
)
from simulated_instrument.scpi import IDENTITY
from simulated_instrument.server import InstrumentServer
from teststand import teststand_instrument_connection as connection_module
from teststand.sequence_context import StandInSequenceContext


class Rig:
    """The platform, both services and the plug-in, shared by this module."""

    def __init__(self, connection: ServiceProcess) -> None:
        self.connection = connection
        self.plugin = MeasurementClient(PLUGIN.service_class)

    def pin_map(self, folder: Path, device: str) -> tuple[PinMapContext, Path]:
        log_path = folder / "shared.ndjson"
        pin_map_id = PinMapClient().update_pin_map(
            render_pin_map(
                log_path, folder / "DutSupply.pinmap", device=device, source=DUT_SUPPLY_PIN_MAP_PATH
            )
        )
        return PinMapContext(pin_map_id=pin_map_id, sites=[0]), log_path

    def open_connections(self) -> list[pb.SessionDescription]:
        with grpc.insecure_channel(self.connection.address) as channel:
            stub = InstrumentConnectionStub(channel)
            return list(stub.ListSessions(pb.ListSessionsRequest(), timeout=10).sessions)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    state_dir = tmp_path_factory.mktemp("platform")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NI_LOCAL_PLATFORM_DIR", str(state_dir))
        activate()
        with LocalPlatform(state_dir=state_dir, parts=pin_map_and_session_management_parts()):
            with contextlib.ExitStack() as stack:
                for started in (start_logger_service(), start_connection_service()):
                    stack.callback(started.stop)
                connection = started
                plugin = plugin_process(PLUGIN)
                plugin.start()
                rig = Rig(connection)
                try:
                    yield rig
                finally:
                    rig.plugin.close()
                    assert plugin.stop() == 0, plugin.stderr_tail


@pytest.fixture
def device() -> Iterator[InstrumentServer]:
    with InstrumentServer() as server:
        yield server


def test_run_alone_it_sets_the_output_reads_it_back_logs_and_closes_what_it_opened(
    rig: Rig, device: InstrumentServer, tmp_path: Path
) -> None:
    context, log_path = rig.pin_map(tmp_path, device.resource_name)

    outputs = rig.plugin.measure(context, voltage_level=3.3)

    assert outputs == {"identity": IDENTITY, "measured_voltage": pytest.approx(3.3)}
    assert device.instrument.voltage == pytest.approx(3.3)
    (record,) = read_records(log_path)
    assert record["measurement_name"] == PLUGIN.display_name
    assert rig.open_connections() == []  # AUTO opened the connection, so it closed it


def test_under_teststand_it_uses_the_connection_setup_registered(
    rig: Rig, device: InstrumentServer, tmp_path: Path
) -> None:
    context, _ = rig.pin_map(tmp_path, device.resource_name)
    setup = StandInSequenceContext(context.pin_map_id)
    (session_id,) = connection_module.create_instrument_connection_sessions(setup)
    try:
        for level in (1.0, 2.0):
            assert rig.plugin.measure(context, voltage_level=level)["measured_voltage"] == level
        (still_open,) = rig.open_connections()
        assert (still_open.session_id, still_open.calls) == (session_id, 6)  # 2 x 3 device calls
    finally:
        connection_module.destroy_instrument_connection_sessions()
    assert rig.open_connections() == []


def test_a_device_it_cannot_reach_is_unavailable_naming_it_and_nothing_is_held(
    rig: Rig, tmp_path: Path
) -> None:
    with InstrumentServer() as gone:
        name = gone.resource_name
    context, log_path = rig.pin_map(tmp_path, name)

    with pytest.raises(grpc.RpcError) as error:
        rig.plugin.measure(context)

    assert error.value.code() is grpc.StatusCode.UNAVAILABLE
    assert name in (error.value.details() or "") and "cannot connect" in (
        error.value.details() or ""
    )
    assert rig.open_connections() == [] and read_records(log_path) == []
    with SessionManagementClient().reserve_sessions(context, timeout=0) as reservation:
        assert len(reservation.session_info) == 3  # every pin of the pin map free again
