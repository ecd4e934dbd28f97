"""The generic measurement v2 client against a real (echo) plug-in over loopback gRPC."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from ni.measurementlink.sessionmanagement.v1.client import PinMapContext

from local_ni_platform.activation import activate
from local_ni_platform.platform import LocalPlatform
from measurements.client import MeasurementClient
from tests.plugins import echo_measurement
from tests.plugins.echo_measurement import SERVICE_CLASS, Function

CONTEXT = PinMapContext(pin_map_id="echo-pin-map", sites=[0])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeasurementClient]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NI_LOCAL_PLATFORM_DIR", str(tmp_path_factory.mktemp("platform")))
        activate()
        with (
            LocalPlatform(parts=[]),
            echo_measurement.measurement_service.host_service(),
            MeasurementClient(SERVICE_CLASS) as measurement_client,
        ):
            yield measurement_client


def test_defaults_come_from_the_plugin(client: MeasurementClient) -> None:
    defaults = client.configuration_defaults()

    assert defaults["pins"] == ["P1"] and defaults["x"] == 1.5
    assert defaults["function"].name == "DC_VOLTS"


def test_measure_with_defaults_and_the_pin_map_context(client: MeasurementClient) -> None:
    outputs = client.measure(CONTEXT)

    assert outputs["doubled"] == [1.5, 3.0]
    assert outputs["pins_out"] == ["P1"]
    assert outputs["pin_map_id"] == "echo-pin-map"
    assert outputs["function_out"].name == "DC_VOLTS"


@pytest.mark.parametrize("function", ["AC_VOLTS", 2, Function.AC_VOLTS])
def test_enum_configurations_take_names_numbers_and_members(
    client: MeasurementClient, function: object
) -> None:
    outputs = client.measure(CONTEXT, function=function, x=3.0, pins=["A", "B"])

    assert outputs["function_out"].value == 2
    assert outputs["doubled"] == [3.0, 6.0] and outputs["pins_out"] == ["A", "B"]


def test_unknown_configuration_names_are_refused_before_calling(client: MeasurementClient) -> None:
    with pytest.raises(TypeError, match="unknown configurations \\['bogus'\\]"):
        client.measure(CONTEXT, bogus=1)


def test_a_failing_measurement_reports_its_message(client: MeasurementClient) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        client.measure(CONTEXT, x=-1.0)

    assert "x must not be negative" in raised.value.details()


def test_metadata_names_the_plugin(client: MeasurementClient) -> None:
    metadata = client.get_metadata()

    assert metadata.measurement_details.display_name == "Echo"
    assert [p.name for p in metadata.measurement_signature.outputs][:2] == [
        "function_out",
        "doubled",
    ]
