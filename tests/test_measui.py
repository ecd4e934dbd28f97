"""The committed .measui files: what ``uv run python tools/generate_measui.py`` writes, with every
configuration and output of the plug-in bound to one control.

(Whether InstrumentStudio renders them as intended cannot be checked without it.)
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

GENERATOR_PATH = Path(__file__).resolve().parents[1] / "tools" / "generate_measui.py"


def load_generator() -> ModuleType:
    """The development tool, which is not part of the package, loaded from its file."""
    spec = importlib.util.spec_from_file_location("generate_measui", GENERATOR_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


generate_measui = load_generator()
TARGETS = generate_measui.TARGETS
MeasuiTarget = generate_measui.MeasuiTarget

CHANNEL = re.compile(r"\[string\](\{[0-9a-f-]{36}\})/(Configuration|Output)/(.+)")
SCREEN = "{http://www.ni.com/InstrumentFramework/ScreenDocument}"


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


@pytest.fixture(params=TARGETS, ids=lambda target: target.package.rpartition(".")[2])
def target(request: pytest.FixtureRequest) -> MeasuiTarget:
    value: MeasuiTarget = request.param
    return value


def test_committed_files_are_what_the_generator_writes(target: MeasuiTarget) -> None:
    committed = target.measui_path.read_text(encoding="utf-8")

    assert committed == generate_measui.generate(target), (
        "stale .measui: run `uv run python tools/generate_measui.py`"
    )


def test_check_mode_passes_on_the_committed_files() -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR_PATH), "--check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_configuration_and_output_is_bound_once(target: MeasuiTarget) -> None:
    service = target.load_service()
    root = ET.fromstring(target.measui_path.read_text(encoding="utf-8-sig"))
    [screen] = root.iter(f"{SCREEN}Screen")
    bound: list[tuple[str, str]] = []
    client_ids = set()
    for element in root.iter():
        match = CHANNEL.fullmatch(element.get("Channel", ""))
        if match:
            client_ids.add(match.group(1))
            bound.append((match.group(2), match.group(3)))

    assert screen.get("ServiceClass") == service.service_info.service_class
    assert screen.get("DisplayName") == service.service_info.display_name
    assert client_ids == {screen.get("ClientId")}
    expected = [("Configuration", p.display_name) for p in service._configuration_parameter_list]
    expected += [("Output", p.display_name) for p in service._output_parameter_list]
    assert sorted(bound) == sorted(expected)


def test_ids_are_unique_and_every_reference_resolves(target: MeasuiTarget) -> None:
    root = ET.fromstring(target.measui_path.read_text(encoding="utf-8-sig"))
    ids = [element.get("Id") for element in root.iter() if element.get("Id")]
    references = [
        value[len("[UIModel]") :]
        for element in root.iter()
        for value in element.attrib.values()
        if value.startswith("[UIModel]")
    ]

    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[0-9a-f]{32}", str(value)) for value in ids)
    assert set(references) <= set(ids)
    labelled = {
        element.get("LabelOwner", "")[len("[UIModel]") :]
        for element in root.iter()
        if local(element.tag) == "Label"
    }
    controls = {element.get("Id") for element in root.iter() if element.get("Channel")}
    assert controls <= labelled


def test_controls_match_the_parameter_types() -> None:
    dmm = next(target for target in TARGETS if target.package.endswith("nidmm_with_logger"))
    root = ET.fromstring(dmm.measui_path.read_text(encoding="utf-8-sig"))
    by_name = {
        element.get("Channel", "").rpartition("/")[2]: element
        for element in root.iter()
        if element.get("Channel")
    }

    assert local(by_name["nidmm_pin"].tag) == "ChannelPinSelector"
    assert local(by_name["json_logger_pin"].tag) == "ChannelPinSelector"
    enum = by_name["measurement_type"]
    assert local(enum.tag) == "ChannelEnumSelector"
    assert enum.get("Value") == "[int]1"  # DC_VOLTS, the default
    service = dmm.load_service()
    [parameter] = [
        p for p in service._configuration_parameter_list if p.display_name == "measurement_type"
    ]
    members = json.loads(parameter.annotations["ni/enum.values"])
    assert {
        info.get("DisplayValue", "")[len("[string]") :]: int(info.get("Value", "")[len("[int]") :])
        for info in enum
    } == members
    assert local(by_name["signal_out_of_range"].tag) == "ChannelLED"
    assert by_name["measured_value"].get("IsReadOnly") == "[bool]True"


def test_array_outputs_use_array_viewers() -> None:
    dcpower = next(target for target in TARGETS if target.package.endswith("nidcpower_with_logger"))
    root = ET.fromstring(dcpower.measui_path.read_text(encoding="utf-8-sig"))
    viewers = {
        element.get("Channel", "").rpartition("/")[2]: [local(child.tag) for child in element]
        for element in root.iter()
        if local(element.tag) == "ChannelArrayViewer"
    }
    pins = [element for element in root.iter() if local(element.tag) == "ChannelPinSelector"]

    assert viewers == {
        "measurement_sites": ["p.DefaultElementValue", "ChannelArrayNumericText"],
        "measurement_pin_names": ["p.DefaultElementValue", "ChannelArrayStringControl"],
        "voltage_measurements": ["p.DefaultElementValue", "ChannelArrayNumericText"],
        "current_measurements": ["p.DefaultElementValue", "ChannelArrayNumericText"],
        "in_compliance": ["p.DefaultElementValue", "ChannelArrayBooleanLed"],
    }
    assert [pin.get("MultipleSelectionMode") for pin in pins] == [
        "[MultipleSelectionModes]List",
        None,
        None,
    ]
