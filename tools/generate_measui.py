"""Write each plug-in's ``.measui`` (InstrumentStudio's panel) from the plug-in's own metadata.

``uv run python tools/generate_measui.py`` rewrites the committed files; ``--check`` only reports
(exit code 1) which ones differ from what the plug-ins' current configurations and outputs give.
A development tool: it imports the plug-ins from the project's environment and is not part of the
distribution (tests/test_measui.py loads it from this file).

The panel binds one control to every configuration and every output, by name, through NI's
channel paths ``{<client id>}/Configuration/<name>`` and ``{<client id>}/Output/<name>``:

==============================  ============================================================
parameter                       control (as in NI's example ``.measui`` files)
==============================  ============================================================
I/O resource (pin), 1D array     ``ChannelPinSelector`` (multiple selection for arrays)
enum                             ``ChannelEnumSelector`` with one ``RingSelectorInfo`` a member
number                           ``ChannelNumericText`` (read-only for outputs)
Boolean                          ``ChannelCheckBox`` / ``ChannelLED`` (output)
string                           ``ChannelStringControl``
1D array output                  ``ChannelArrayViewer`` of numbers, strings or LEDs
==============================  ============================================================

Configurations form the left column; scalar outputs the next column; array outputs sit side by side
as the columns of a table (site, pin, voltage, ... of one channel on one row). The file is
deterministic: element ids are derived from the service class and the parameter names, and the
``Checksum``/``Timestamp`` attributes of ``SourceFile`` are fixed values computed from the content.
InstrumentStudio's own checksum algorithm is not public; NI's plug-in generator renders its
``.measui`` template (fixed checksum, new service class and display name) the same way, so a
checksum that does not match InstrumentStudio's is evidently accepted. The result has not been
opened in InstrumentStudio here (no Windows/NI software); the element vocabulary follows NI's
examples (``ni/measurement-plugin-python`` ``examples/*/*.measui``), except the LED array element,
``ChannelArrayBooleanLed``, which no NI example uses.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import click
from google.protobuf.type_pb2 import Field

if TYPE_CHECKING:
    from ni_measurement_plugin_sdk_service.measurement.client_support import ParameterMetadata
    from ni_measurement_plugin_sdk_service.measurement.service import MeasurementService

NS_PLATFORM = "http://www.ni.com/PlatformFramework"
NS_CORE = "http://www.ni.com/ConfigurationBasedSoftware.Core"
NS_SCREEN = "http://www.ni.com/InstrumentFramework/ScreenDocument"
NS_PANEL = "http://www.ni.com/PanelCommon"
NS_CONTROLS = "http://www.ni.com/Controls.LabVIEW.Design"

TYPE_SPECIALIZATION_KEY = "ni/type_specialization"
INSTRUMENT_TYPE_KEY = "ni/ioresource.instrument_type"
ENUM_VALUES_KEY = "ni/enum.values"

_FEATURE_SET = """\
	<SourceModelFeatureSet>
		<ParsableNamespace AssemblyFileVersion="9.14.0.49911" FeatureSetName="Configuration Based Software Core" Name="http://www.ni.com/ConfigurationBasedSoftware.Core" OldestCompatibleVersion="6.3.0.49152" Version="9.8.1.49152" />
		<ParsableNamespace AssemblyFileVersion="9.14.0.49911" FeatureSetName="LabVIEW Controls" Name="http://www.ni.com/Controls.LabVIEW.Design" OldestCompatibleVersion="8.1.0.49152" Version="8.1.0.49152" />
		<ParsableNamespace AssemblyFileVersion="24.8.0.49911" FeatureSetName="InstrumentStudio Measurement UI" Name="http://www.ni.com/InstrumentFramework/ScreenDocument" OldestCompatibleVersion="22.1.0.1" Version="24.8.0.0" />
		<ParsableNamespace AssemblyFileVersion="9.14.0.49911" FeatureSetName="Editor" Name="http://www.ni.com/PanelCommon" OldestCompatibleVersion="6.1.0.0" Version="6.1.0.49152" />
		<ParsableNamespace AssemblyFileVersion="9.14.0.49911" FeatureSetName="Editor" Name="http://www.ni.com/PlatformFramework" OldestCompatibleVersion="8.1.0.49152" Version="8.1.0.49152" />
		<ApplicationVersionInfo Build="24.8.0.49911" Name="Measurement Plug-In UI Editor" Version="24.8.0.49911" />
	</SourceModelFeatureSet>
"""  # noqa: E501 - the feature set of NI's plug-in generator template, verbatim
"""The feature set NI's generator writes (InstrumentStudio 2024 Q3 and later read it)."""

_TIMESTAMP = format(
    (1_767_225_600 + 11_644_473_600) * 10_000_000, "X"
)  # 2026-01-01T00:00:00Z as a Windows FILETIME, like InstrumentStudio's Timestamp attribute

# Layout (device-independent pixels).
_LEFT = 30
_TOP = 36
_LABEL_GAP = 20
_ROW_STEP = 56
_CONFIG_WIDTH = 200
_NUMERIC_WIDTH = 120
_OUTPUT_LEFT = _LEFT + _CONFIG_WIDTH + 50
_ARRAY_ROWS = 4
_ARRAY_ELEMENT_WIDTH = 96
_ARRAY_WIDTH = _ARRAY_ELEMENT_WIDTH + 32
_ARRAY_HEIGHT = 120
_ARRAY_STEP = _ARRAY_WIDTH + 20
_MARGIN = 30

_NUMERIC_TYPES = {
    Field.TYPE_DOUBLE: "Double",
    Field.TYPE_FLOAT: "Single",
    Field.TYPE_INT32: "Int32",
    Field.TYPE_INT64: "Int64",
    Field.TYPE_UINT32: "UInt32",
    Field.TYPE_UINT64: "UInt64",
}
_INTEGER_FORMAT = (
    "DisplayFormat=Automatic:Digits=0:DigitDisplayType=DigitsOfPrecision:MinimumFieldWidth=0:"
    "AlwaysShowSign=False:ShowThousandsSeparator=False"
)


@dataclass(frozen=True)
class MeasuiTarget:
    """One plug-in whose ``.measui`` this script writes."""

    package: str
    """The plug-in package (it defines ``MEASUI_PATH``; its ``measurement`` module the service)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    """Label text by parameter name (default: the name, spaced and capitalised)."""

    @property
    def measui_path(self) -> Path:
        """Where the plug-in's ``.measui`` lives."""
        path: Path = importlib.import_module(self.package).MEASUI_PATH
        return path

    def load_service(self) -> MeasurementService:
        """Import the plug-in and return its ``MeasurementService`` (nothing is hosted)."""
        service: MeasurementService = importlib.import_module(
            f"{self.package}.measurement"
        ).measurement_service
        return service


_LOGGER_PIN_LABEL = "Logger pin (log file)"
TARGETS = (
    MeasuiTarget(
        "measurements.nidcpower_with_logger",
        {
            "nidcpower_pins": "NI-DCPower pins",
            "json_logger_pin": _LOGGER_PIN_LABEL,
            "voltage_level": "Voltage level (V)",
            "voltage_level_range": "Voltage level range (V)",
            "current_limit": "Current limit (A)",
            "current_limit_range": "Current limit range (A)",
            "source_delay": "Source delay (s)",
            "measurement_sites": "Site",
            "measurement_pin_names": "Pin",
            "voltage_measurements": "Voltage (V)",
            "current_measurements": "Current (A)",
            "in_compliance": "In compliance",
        },
    ),
    MeasuiTarget(
        "measurements.nidmm_with_logger",
        {
            "nidmm_pin": "NI-DMM pin",
            "json_logger_pin": _LOGGER_PIN_LABEL,
            "measurement_type": "Measurement type",
            "range": "Range",
            "resolution_digits": "Resolution (digits)",
            "measured_value": "Measured value",
            "signal_out_of_range": "Signal out of range",
            "absolute_resolution": "Absolute resolution",
        },
    ),
    MeasuiTarget(
        "measurements.dut_supply_with_connection",
        {
            "dut_pin": "DUT pin",
            "json_logger_pin": _LOGGER_PIN_LABEL,
            "voltage_level": "Voltage level (V)",
            "identity": "Identity",
            "measured_voltage": "Measured voltage (V)",
        },
    ),
)
"""The plug-ins of this project."""


@dataclass
class _Element:
    tag: str
    attributes: dict[str, str]
    namespace: str | None = None
    children: list[_Element] = field(default_factory=list)
    text: str | None = None

    def write(self, lines: list[str], depth: int) -> None:
        attributes = sorted(self.attributes.items())
        if self.namespace is not None:
            attributes.append(("xmlns", self.namespace))
        rendered = " ".join(f'{key}="{_quote(value)}"' for key, value in attributes)
        opening = f"{chr(9) * depth}<{self.tag}{' ' + rendered if rendered else ''}"
        if self.text is not None:
            lines.append(f"{opening}>{escape(self.text)}</{self.tag}>")
        elif not self.children:
            lines.append(f"{opening} />")
        else:
            lines.append(f"{opening}>")
            for child in self.children:
                child.write(lines, depth + 1)
            lines.append(f"{chr(9) * depth}</{self.tag}>")


def _quote(value: str) -> str:
    return escape(value, {'"': "&quot;"})


class _Ids:
    """Deterministic 32-hex-digit element ids."""

    def __init__(self, service_class: str) -> None:
        self._namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"measui:{service_class}")
        self._used: set[str] = set()

    def __call__(self, purpose: str) -> str:
        value = uuid.uuid5(self._namespace, purpose).hex
        if value in self._used:  # pragma: no cover - uuid5 of distinct purposes
            raise ValueError(f"duplicate element id for {purpose}")
        self._used.add(value)
        return value


def _f(value: float) -> str:
    return f"[float]{value:g}"


def _label_width(text: str) -> float:
    return float(6 * len(text) + 4)


def _default_label(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


class _Panel:
    def __init__(self, service: MeasurementService, labels: Mapping[str, str]) -> None:
        self.service_class = service.service_info.service_class
        self.display_name = service.service_info.display_name
        self.client_id = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, self.service_class)) + "}"
        self.ids = _Ids(self.service_class)
        self.labels = labels
        self.elements: list[_Element] = []
        self.bottom = 0.0
        self.right = 0.0

    def channel(self, role: str, name: str) -> str:
        return f"[string]{self.client_id}/{role}/{name}"

    def place(
        self,
        control: _Element,
        role: str,
        name: str,
        *,
        left: float,
        top: float,
        width: float,
        height: float,
    ) -> None:
        """Add ``control`` with its bounds, its binding and its label (above it)."""
        control_id = self.ids(f"{role}/{name}")
        label_id = self.ids(f"{role}/{name}/label")
        text = self.labels.get(name) or _default_label(name)
        control.attributes.update(
            {
                "Channel": self.channel(role, name),
                "Height": _f(height),
                "Id": control_id,
                "IsLabelBoundToChannel": "[bool]False",
                "Label": f"[UIModel]{label_id}",
                "Left": _f(left),
                "Top": _f(top),
                "Width": _f(width),
            }
        )
        label = _Element(
            "Label",
            {
                "Height": _f(16),
                "Id": label_id,
                "LabelOwner": f"[UIModel]{control_id}",
                "Left": _f(left),
                "Text": f"[string]{text}",
                "Top": _f(top - _LABEL_GAP),
                "Width": _f(_label_width(text)),
            },
            NS_PANEL,
        )
        self.elements += [control, label]
        self.bottom = max(self.bottom, top + height)
        self.right = max(self.right, left + max(width, _label_width(text)))

    def document(self) -> str:
        surface = _Element(
            "ScreenSurface",
            {
                "BackgroundColor": "[SMSolidColorBrush]#ffffffff",
                "Height": _f(self.bottom + _MARGIN),
                "Id": self.ids("surface"),
                "Left": _f(0),
                "PanelSizeMode": "Fixed",
                "Top": _f(0),
                "Width": _f(self.right + _MARGIN),
            },
            NS_CORE,
            self.elements,
        )
        screen = _Element(
            "Screen",
            {
                "ClientId": self.client_id,
                "DisplayName": self.display_name,
                "Id": self.ids("screen"),
                "ServiceClass": self.service_class,
            },
            NS_SCREEN,
            [surface],
        )
        body: list[str] = []
        screen.write(body, 1)
        content = _FEATURE_SET + "\n".join(body) + "\n"
        checksum = hashlib.sha512(content.encode("utf-8")).hexdigest().upper()
        return (
            '\ufeff<?xml version="1.0" encoding="utf-8"?>\n'
            f'<SourceFile Checksum="{checksum}" Timestamp="{_TIMESTAMP}" xmlns="{NS_PLATFORM}">\n'
            f"{content}</SourceFile>\n"
        )


def render_measui(service: MeasurementService, labels: Mapping[str, str] | None = None) -> str:
    """The ``.measui`` text for a plug-in's registered configurations and outputs.

    Raises:
        ValueError: a parameter type this generator has no control for.
    """
    panel = _Panel(service, labels or {})
    top = float(_TOP)
    for parameter in _parameters(service, outputs=False):
        height = 24.0
        panel.place(
            _configuration_control(parameter),
            "Configuration",
            parameter.display_name,
            left=_LEFT,
            top=top,
            width=_configuration_width(parameter),
            height=height,
        )
        top += _ROW_STEP
    outputs = _parameters(service, outputs=True)
    top = float(_TOP)
    for parameter in (p for p in outputs if not p.repeated):
        control, width, height = _scalar_output(parameter)
        panel.place(
            control,
            "Output",
            parameter.display_name,
            left=_OUTPUT_LEFT,
            top=top,
            width=width,
            height=height,
        )
        top += max(_ROW_STEP, height + 32)
    left = float(_OUTPUT_LEFT)
    for parameter in (p for p in outputs if p.repeated):
        panel.place(
            _array_output(parameter, panel.ids),
            "Output",
            parameter.display_name,
            left=left,
            top=top,
            width=_ARRAY_WIDTH,
            height=_ARRAY_HEIGHT,
        )
        left += _ARRAY_STEP
    return panel.document()


def _parameters(service: MeasurementService, *, outputs: bool) -> Sequence[ParameterMetadata]:
    # The SDK keeps the registered metadata in these lists (its public accessors are deprecated).
    if outputs:
        return list(service._output_parameter_list)
    return list(service._configuration_parameter_list)


def _specialization(parameter: ParameterMetadata) -> str:
    return parameter.annotations.get(TYPE_SPECIALIZATION_KEY, "")


def _configuration_width(parameter: ParameterMetadata) -> float:
    if parameter.type in _NUMERIC_TYPES and not parameter.repeated:
        return _NUMERIC_WIDTH
    return _CONFIG_WIDTH


def _unsupported(parameter: ParameterMetadata, role: str) -> ValueError:
    kind = Field.Kind.Name(parameter.type)
    array = " array" if parameter.repeated else ""
    return ValueError(f"no {role} control for {parameter.display_name!r} ({kind}{array})")


def _configuration_control(parameter: ParameterMetadata) -> _Element:
    specialization = _specialization(parameter)
    if specialization in ("ioresource", "pin"):
        attributes = {
            "AllowUndefinedValues": "[bool]True",
            "BaseName": "[string]Pin",
            "DataType": "[Type]String",
            "Enabled": "[bool]True",
        }
        default = parameter.default_value
        if parameter.repeated:
            attributes["MultipleSelectionMode"] = "[MultipleSelectionModes]List"
            default = default[0] if len(default) == 1 else ""
        if default:
            attributes["SelectedResource"] = f"[NI_Core_DataValues_TagRefnum]{default}"
        return _Element("ChannelPinSelector", attributes, NS_SCREEN)
    if parameter.repeated:
        raise _unsupported(parameter, "configuration")
    if parameter.type == Field.TYPE_ENUM:
        values: dict[str, int] = json.loads(parameter.annotations[ENUM_VALUES_KEY])
        default_value = getattr(parameter.default_value, "value", parameter.default_value)
        return _Element(
            "ChannelEnumSelector",
            {
                "AdaptsToType": "[bool]True",
                "AllowNonSequentialValues": "[bool]True",
                "BaseName": "[string]Enum",
                "Enabled": "[bool]True",
                "Value": f"[int]{int(default_value)}",
            },
            NS_SCREEN,
            [
                _Element(
                    "RingSelectorInfo",
                    {
                        "DisplayValue": f"[string]{name}",
                        "IsEnabled": "[bool]True",
                        "Value": f"[int]{value}",
                    },
                    NS_CONTROLS,
                )
                for name, value in values.items()
            ],
        )
    if parameter.type in _NUMERIC_TYPES:
        return _numeric_text(parameter, read_only=False)
    if parameter.type == Field.TYPE_BOOL:
        return _Element(
            "ChannelCheckBox",
            {
                "BaseName": "[string]Checkbox",
                "Content": "[string]Off/On",
                "Enabled": "[bool]True",
                "MinHeight": _f(16),
                "MinWidth": _f(16),
            },
        )
    if parameter.type == Field.TYPE_STRING:
        return _string_control(read_only=False)
    raise _unsupported(parameter, "configuration")


def _numeric_text(parameter: ParameterMetadata, *, read_only: bool) -> _Element:
    value_type = _NUMERIC_TYPES[parameter.type]
    attributes = {
        "AdaptsToType": "[bool]True",
        "BaseName": "[string]Numeric",
        "UnitAnnotation": "[string]",
        "ValueFormatter": f"[string]{_value_format(value_type)}",
        "ValueType": f"[Type]{value_type}",
    }
    attributes["IsReadOnly" if read_only else "Enabled"] = "[bool]True"
    return _Element("ChannelNumericText", attributes)


def _value_format(value_type: str) -> str:
    return "LV:G5" if value_type in ("Double", "Single") else _INTEGER_FORMAT


def _string_control(*, read_only: bool) -> _Element:
    attributes = {
        "AcceptsReturn": "[bool]False",
        "BaseName": "[string]String",
        "HorizontalScrollBarVisibility": "[ScrollBarVisibility]Hidden",
        "VerticalScrollBarVisibility": "[ScrollBarVisibility]Auto",
    }
    attributes["IsReadOnly" if read_only else "Enabled"] = "[bool]True"
    return _Element("ChannelStringControl", attributes)


def _scalar_output(parameter: ParameterMetadata) -> tuple[_Element, float, float]:
    if parameter.type in _NUMERIC_TYPES:
        return _numeric_text(parameter, read_only=True), float(_NUMERIC_WIDTH), 24.0
    if parameter.type == Field.TYPE_BOOL:
        led = _Element(
            "ChannelLED",
            {
                "BaseName": "[string]Round LED",
                "ContentVisibility": "[Visibility]Collapsed",
                "FalseBackground": "[SMSolidColorBrush]#ff007133",
                "FalseContent": "[string]Off",
                "IsReadOnly": "[bool]True",
                "MinHeight": _f(20),
                "MinWidth": _f(20),
                "Shape": "[LEDShape]Round",
                "TrueBackground": "[SMSolidColorBrush]#ff83ca9d",
                "TrueContent": "[string]On",
            },
        )
        return led, 30.0, 30.0
    if parameter.type == Field.TYPE_STRING:
        return _string_control(read_only=True), float(_CONFIG_WIDTH), 24.0
    raise _unsupported(parameter, "output")


def _array_output(parameter: ParameterMetadata, ids: _Ids) -> _Element:
    element_id = ids(f"Output/{parameter.display_name}/element")
    common = {
        "Columns": "[int]1",
        "Dimensions": "[int]1",
        "IndexVisibility": "[Visibility]Collapsed",
        "IsFixedSize": "[bool]False",
        "Orientation": "[SMOrientation]Vertical",
        "Rows": f"[int]{_ARRAY_ROWS}",
        "VerticalScrollBarVisibility": "[ScrollBarVisibility]Visible",
        "ArrayElement": f"[UIModel]{element_id}",
    }
    if parameter.type in _NUMERIC_TYPES:
        element = _numeric_text(parameter, read_only=True)
        element.tag = "ChannelArrayNumericText"
        del element.attributes["AdaptsToType"]
        if _NUMERIC_TYPES[parameter.type] not in ("Double", "Single"):
            element.attributes["Interval"] = "[int]1"
        default = "0x0" if _NUMERIC_TYPES[parameter.type] in ("Double", "Single") else "0"
        base_name, adapts = "Numeric Array Output", True
    elif parameter.type == Field.TYPE_STRING:
        element = _string_control(read_only=True)
        element.tag = "ChannelArrayStringControl"
        default, base_name, adapts = '""', "String Array Output", False
    elif parameter.type == Field.TYPE_BOOL:
        element = _Element(
            "ChannelArrayBooleanLed",
            {
                "BaseName": "[string]Round LED",
                "ContentVisibility": "[Visibility]Collapsed",
                "FalseContent": "[string]Off",
                "IsReadOnly": "[bool]True",
                "MinHeight": _f(20),
                "MinWidth": _f(20),
                "Shape": "[LEDShape]Round",
                "TrueContent": "[string]On",
            },
        )
        element.attributes.update({"Height": _f(20), "Width": _f(20)})
        default, base_name, adapts = "false", "Boolean Array Output", True
    else:
        raise _unsupported(parameter, "output")
    element.attributes.setdefault("Height", _f(24))
    element.attributes.setdefault("Width", _f(_ARRAY_ELEMENT_WIDTH))
    element.attributes["Id"] = element_id
    attributes = {**common, "BaseName": f"[string]{base_name}"}
    if adapts:
        attributes["AdaptsToType"] = "[bool]True"
    return _Element(
        "ChannelArrayViewer",
        attributes,
        children=[_Element("p.DefaultElementValue", {}, text=default), element],
    )


def generate(target: MeasuiTarget) -> str:
    """The ``.measui`` text of one plug-in."""
    return render_measui(target.load_service(), target.labels)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--check", is_flag=True, help="Only report stale files (exit code 1); write nothing.")
def main(check: bool) -> None:
    """Write (or check) the .measui file of every plug-in of this project."""
    stale = []
    for target in TARGETS:
        text = generate(target)
        path = target.measui_path
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not check:
            path.write_text(text, encoding="utf-8", newline="\n")
            click.echo(f"wrote {path}")
    if check and stale:
        for path in stale:
            click.echo(f"stale: {path}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
