"""The ``ni_platform`` fixture as an NI plug-in author uses it: a test suite of their own, run by
pytest in a child process as their CI would run it, hosts a plug-in built with NI's SDK and calls
it through NI's packages alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PLUGIN = """
from pathlib import Path

import ni_measurement_plugin_sdk_service as nims

SERVICE_CLASS = "example.Greeter_Python"

measurement_service = nims.MeasurementService(
    service_config_path=Path(__file__).with_name("Greeter.serviceconfig"), ui_file_paths=[]
)


@measurement_service.register_measurement
@measurement_service.configuration("name", nims.DataType.String, "Linux")
@measurement_service.output("greeting", nims.DataType.String)
def measure(name):
    return (f"hello from {name}",)
"""

SERVICE_CONFIG = {
    "services": [
        {
            "displayName": "Greeter",
            "version": "1.0.0",
            "serviceClass": "example.Greeter_Python",
            "descriptionUrl": "",
            "providedInterfaces": ["ni.measurementlink.measurement.v2.MeasurementService"],
            "path": "start.bat",
        }
    ]
}

TESTS = """
import grpc
from google.protobuf import any_pb2, wrappers_pb2
from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.measurement.v2 import measurement_service_pb2 as v2
from ni.measurementlink.measurement.v2 import measurement_service_pb2_grpc as v2_grpc

import greeter

MEASUREMENT_V2 = "ni.measurementlink.measurement.v2.MeasurementService"
# The plug-in's Configurations message has one string field, numbered 1: as a StringValue has.
NAME = any_pb2.Any(
    type_url=f"type.googleapis.com/{greeter.SERVICE_CLASS}.Configurations",
    value=wrappers_pb2.StringValue(value="CI").SerializeToString(),
)


def test_a_plugin_registers_with_the_platform_and_answers(ni_platform):
    with greeter.measurement_service.host_service():
        location = DiscoveryClient().resolve_service(
            provided_interface=MEASUREMENT_V2, service_class=greeter.SERVICE_CLASS
        )
        with grpc.insecure_channel(location.insecure_address) as channel:
            stub = v2_grpc.MeasurementServiceStub(channel)
            metadata = stub.GetMetadata(v2.GetMetadataRequest())
            responses = list(stub.Measure(v2.MeasureRequest(configuration_parameters=NAME)))

    assert metadata.measurement_details.display_name == "Greeter"
    assert b"hello from CI" in responses[-1].outputs.value


def test_the_platform_lives_for_the_whole_session(ni_platform):
    assert ni_platform.is_running
"""


def test_a_plugin_authors_suite_runs_on_the_platform_the_fixture_starts(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        'pytest_plugins = ["local_ni_platform.pytest_plugin"]\n', encoding="utf-8"
    )
    (tmp_path / "greeter.py").write_text(PLUGIN, encoding="utf-8")
    (tmp_path / "Greeter.serviceconfig").write_text(json.dumps(SERVICE_CONFIG), encoding="utf-8")
    (tmp_path / "test_greeter.py").write_text(TESTS, encoding="utf-8")

    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts="],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
