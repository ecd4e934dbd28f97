# ruff: noqa: N802, D102 - the RPC methods bear NI's names and are documented by NI's proto.
"""gRPC face of the simulated NI-DCPower driver: ``nidcpower_grpc.NiDCPower``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import grpc
from nidcpower import nidcpower_pb2 as dcpower_pb2
from nidcpower import nidcpower_pb2_grpc as dcpower_pb2_grpc
from nidcpower import nidevice_pb2

from local_ni_platform.device_server.attributes import AttributeType
from local_ni_platform.device_server.catalog import ids_by_name
from local_ni_platform.device_server.configuration import (
    read_configuration_file,
    write_configuration_file,
)
from local_ni_platform.device_server.dcpower import (
    ATTRIBUTES,
    CALIBRATION_DATE,
    CALIBRATION_TEMPERATURE,
    EXTERNAL_CALIBRATION_INTERVAL_MONTHS,
    LOAD_RESISTANCE_OHMS,
    DCPowerSession,
)
from local_ni_platform.device_server.dcpower_lcr import LCR_MODE, LcrMeasurement, phase_degrees
from local_ni_platform.device_server.errors import INVALID_VALUE, DriverError, error_message
from local_ni_platform.device_server.repository import OpenedSession, SessionRepository
from local_ni_platform.device_server.servicers import (
    Calls,
    DriverServicer,
    Stores,
    abort_as_nis_server,
    field_value,
    reject_unsimulated,
    session_message,
    with_table_rpcs,
)
from local_ni_platform.waits import (
    DEFAULT_CANCEL_CHECK_INTERVAL,
    DEFAULT_MAX_WAITING_CALLS,
    WaitBudget,
)

_DCPOWER_SERVICE = dcpower_pb2.DESCRIPTOR.services_by_name["NiDCPower"]
_IDS = ids_by_name(ATTRIBUTES)
"""Attribute ids by the name NI's ``nidcpower`` client gives them."""

DCPOWER_SERVICE_NAME: str = _DCPOWER_SERVICE.full_name
"""``nidcpower_grpc.NiDCPower``: gRPC service name and discovery interface."""


_CONFIGURE_RPCS: dict[str, tuple[str, str, bool]] = {
    # RPC: (attribute name in NI's client, request field, whether the request names channels)
    "ConfigureSourceMode": ("source_mode", "source_mode", False),
    "ConfigureSourceModeWithChannels": ("source_mode", "source_mode", True),
    "ConfigureOutputFunction": ("output_function", "function", True),
    "ConfigureOutputEnabled": ("output_enabled", "enabled", True),
    "ConfigureVoltageLevel": ("voltage_level", "level", True),
    "ConfigureVoltageLevelRange": ("voltage_level_range", "range", True),
    "ConfigureCurrentLimit": ("current_limit", "limit", True),
    "ConfigureCurrentLimitRange": ("current_limit_range", "range", True),
    "ConfigureCurrentLevel": ("current_level", "level", True),
    "ConfigureCurrentLevelRange": ("current_level_range", "range", True),
    "ConfigureVoltageLimit": ("voltage_limit", "limit", True),
    "ConfigureVoltageLimitRange": ("voltage_limit_range", "range", True),
    "ConfigureOutputResistance": ("output_resistance", "resistance", True),
    "ConfigurePowerLineFrequency": ("power_line_frequency", "powerline_frequency", False),
    "ConfigureSense": ("sense", "sense", True),
    "ConfigureAutoZero": ("auto_zero", "auto_zero", True),
}
"""NI-DCPower's ``Configure*`` functions that set one attribute (NI's C examples call them; NI's
Python client sets the attributes instead)."""


_PULSE_SETTINGS = {
    "VoltageLevel": "level", "CurrentLimit": "limit", "BiasVoltageLevel": "level",
    "BiasCurrentLimit": "limit", "VoltageLevelRange": "range", "CurrentLimitRange": "range",
    "CurrentLevel": "level", "VoltageLimit": "limit", "BiasCurrentLevel": "level",
    "BiasVoltageLimit": "limit", "CurrentLevelRange": "range", "VoltageLimitRange": "range",
}  # fmt: skip
"""``ConfigurePulse<Setting>``: the request field that sets ``pulse_<setting>``."""

_TRIGGERS = ("Start", "SequenceAdvance", "Source", "Measure", "Pulse", "Shutdown")
_TRIGGER_NONE, _TRIGGER_DIGITAL_EDGE, _TRIGGER_SOFTWARE_EDGE = 1012, 1014, 1015


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _stores() -> dict[str, Stores]:
    """The storing rows: :data:`_CONFIGURE_RPCS`, the pulse settings, and each trigger's
    digital-edge, software-edge and disable calls (with and without channels).
    """
    rows = {
        rpc: Stores(((field, _IDS[attribute]),), with_channels=channels)
        for rpc, (attribute, field, channels) in _CONFIGURE_RPCS.items()
    }
    for setting, field in _PULSE_SETTINGS.items():
        attribute = _IDS[f"pulse_{_snake(setting)}"]
        rows[f"ConfigurePulse{setting}"] = Stores(((field, attribute),), with_channels=True)
    for trigger in _TRIGGERS:
        kind = _IDS[f"{_snake(trigger)}_trigger_type"]
        terminal = _IDS[f"digital_edge_{_snake(trigger)}_trigger_input_terminal"]
        for suffix, channels in (("", False), ("WithChannels", True)):
            rows[f"ConfigureDigitalEdge{trigger}Trigger{suffix}"] = Stores(
                (("input_terminal", terminal),), ((kind, _TRIGGER_DIGITAL_EDGE),), channels
            )
            rows[f"ConfigureSoftwareEdge{trigger}Trigger{suffix}"] = Stores(
                (), ((kind, _TRIGGER_SOFTWARE_EDGE),), channels
            )
            disable = Stores((), ((kind, _TRIGGER_NONE),), channels)
            rows[f"Disable{trigger}Trigger{suffix}"] = disable
    return rows


_CALLS: dict[str, Calls] = {
    "Initiate": Calls("initiate"),
    "InitiateWithChannels": Calls("initiate", with_channels=True),
    "Commit": Calls("commit"),
    "CommitWithChannels": Calls("commit", with_channels=True),
    "Abort": Calls("abort"),
    "AbortWithChannels": Calls("abort", with_channels=True),
    "Reset": Calls("reset"),
    "ResetWithChannels": Calls("reset", with_channels=True),
    "ResetDevice": Calls("reset"),
    "ResetWithDefaults": Calls("reset"),
    "SendSoftwareEdgeTrigger": Calls("send_software_edge_trigger"),
    "SendSoftwareEdgeTriggerWithChannels": Calls("send_software_edge_trigger", with_channels=True),
    "CalSelfCalibrate": Calls("resolve_channels", with_channels=True),  # nothing to calibrate
    "Disable": Calls("disable", takes_channels=False),
    # The ideal simulated LCR fixture needs no compensation; these check model and channels.
    "PerformLCROpenCompensation": Calls("lcr_compensate", with_channels=True),
    "PerformLCRShortCompensation": Calls("lcr_compensate", with_channels=True),
    "PerformLCRLoadCompensation": Calls("lcr_compensate", with_channels=True),
    "PerformLCROpenCustomCableCompensation": Calls("lcr_compensate", with_channels=True),
    "PerformLCRShortCustomCableCompensation": Calls("lcr_compensate", with_channels=True),
}
"""Calls that run one session method on the channels they name (or the whole session)."""

_CALIBRATION_DATE = dict(
    zip(("year", "month", "day", "hour", "minute"), CALIBRATION_DATE, strict=True)
)

_ANSWERS: dict[str, Mapping[str, object]] = {
    "SelfTest": {"self_test_result": 0, "self_test_message": "Self test passed (simulated)."},
    "GetSelfCalLastDateAndTime": _CALIBRATION_DATE,
    "GetExtCalLastDateAndTime": _CALIBRATION_DATE,
    "GetSelfCalLastTemp": {"temperature": CALIBRATION_TEMPERATURE},
    "GetExtCalLastTemp": {"temperature": CALIBRATION_TEMPERATURE},
    "ReadCurrentTemperature": {"temperature": CALIBRATION_TEMPERATURE},
    "GetExtCalRecommendedInterval": {"months": EXTERNAL_CALIBRATION_INTERVAL_MONTHS},
    "GetNextCoercionRecord": {"coercion_record": ""},  # the simulation never coerces silently
    "GetNextInterchangeWarning": {"interchange_warning": ""},
}
"""Calls whose simulated answer is fixed: NI's simulated calibration records and temperature,
a passing self test, no coercion records or interchange warnings."""


@reject_unsimulated(_DCPOWER_SERVICE)
@with_table_rpcs(dcpower_pb2, DCPowerSession, stores=_stores(), answers=_ANSWERS, calls=_CALLS)
class DCPowerServicer(DriverServicer, dcpower_pb2_grpc.NiDCPowerServicer):  # type: ignore[misc]
    """``nidcpower_grpc.NiDCPower`` backed by :class:`DCPowerSession` simulations."""

    _messages = dcpower_pb2
    _kind = DCPowerSession

    def __init__(
        self,
        repository: SessionRepository,
        *,
        load_resistance: float = LOAD_RESISTANCE_OHMS,
        wait_budget: WaitBudget | None = None,
        cancel_check_interval: float = DEFAULT_CANCEL_CHECK_INTERVAL,
    ) -> None:
        """Serve the DCPower sessions of ``repository``; new sessions get ``load_resistance``.

        Event waits that must sleep hold a slot of ``wait_budget`` (default: a budget of
        :data:`~local_ni_platform.waits.DEFAULT_MAX_WAITING_CALLS`); a waiter re-checks its caller
        at least every ``cancel_check_interval`` seconds.
        """
        super().__init__(repository)
        self._load_resistance = load_resistance
        self._wait_budget = wait_budget or WaitBudget(
            "NI-DCPower event wait", DEFAULT_MAX_WAITING_CALLS
        )
        self._cancel_check_interval = cancel_check_interval

    def InitializeWithIndependentChannels(self, request: Any, context: grpc.ServicerContext) -> Any:
        opened = self._initialize(context, request, channels=None)
        return dcpower_pb2.InitializeWithIndependentChannelsResponse(
            status=0,
            vi=session_message(opened.name),
            new_session_initialized=opened.new_session_initialized,
        )

    def InitializeWithChannels(self, request: Any, context: grpc.ServicerContext) -> Any:
        opened = self._initialize(context, request, channels=request.channels)
        return dcpower_pb2.InitializeWithChannelsResponse(
            status=0,
            vi=session_message(opened.name),
            new_session_initialized=opened.new_session_initialized,
        )

    def _initialize(
        self, context: grpc.ServicerContext, request: Any, *, channels: str | None
    ) -> OpenedSession[DCPowerSession]:
        def initialize() -> DCPowerSession:
            session = DCPowerSession(
                request.resource_name,
                request.option_string,
                load_resistance=self._load_resistance,
                channels=channels,
            )
            if request.reset:
                session.reset("")
            return session

        return self._open(
            context,
            request.session_name,
            request.initialization_behavior,
            DCPowerSession,
            initialize,
        )

    def Close(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._close(context, request.vi, DCPowerSession)
        return dcpower_pb2.CloseResponse(status=0)

    def GetChannelNameFromString(self, request: Any, context: grpc.ServicerContext) -> Any:
        names = self._call(
            context, request.vi, DCPowerSession, lambda s: s.channel_names_at(request.index)
        )
        return dcpower_pb2.GetChannelNameFromStringResponse(status=0, channel_name=names)

    def GetChannelName(self, request: Any, context: grpc.ServicerContext) -> Any:
        name = self._call(
            context, request.vi, DCPowerSession, lambda s: s.channel_name(request.index)
        )
        return dcpower_pb2.GetChannelNameResponse(status=0, channel_name=name)

    def GetAttributeViInt64(self, request: Any, context: grpc.ServicerContext) -> Any:
        value = self._get(context, request, AttributeType.INT64)
        return dcpower_pb2.GetAttributeViInt64Response(status=0, attribute_value=int(value))

    def SetAttributeViInt64(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._set(context, request, AttributeType.INT64, lambda: request.attribute_value_raw)
        return dcpower_pb2.SetAttributeViInt64Response(status=0)

    def WaitForEventWithChannels(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._wait_for_event(context, request, request.channel_name)
        return dcpower_pb2.WaitForEventWithChannelsResponse(status=0)

    def WaitForEvent(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._wait_for_event(context, request, "")
        return dcpower_pb2.WaitForEventResponse(status=0)

    def _wait_for_event(self, context: grpc.ServicerContext, request: Any, channels: str) -> None:
        """Wait for the event on ``channels`` ("" = all) for as long as the caller waits."""
        member = request.WhichOneof("event_id_enum")
        event_id = request.event_id if member == "event_id" else request.event_id_raw
        self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.wait_for_event(
                channels,
                event_id,
                request.timeout,
                caller=context,
                budget=self._wait_budget,
                cancel_check_interval=self._cancel_check_interval,
            ),
        )

    def MeasureMultiple(self, request: Any, context: grpc.ServicerContext) -> Any:
        measurements = self._call(
            context, request.vi, DCPowerSession, lambda s: s.measure_multiple(request.channel_name)
        )
        return dcpower_pb2.MeasureMultipleResponse(
            status=0,
            voltage_measurements=[m.voltage for m in measurements],
            current_measurements=[m.current for m in measurements],
        )

    def Measure(self, request: Any, context: grpc.ServicerContext) -> Any:
        member = request.WhichOneof("measurement_type_enum")
        kind = (
            request.measurement_type
            if member == "measurement_type"
            else request.measurement_type_raw
        )
        value = self._call(
            context, request.vi, DCPowerSession, lambda s: s.measure(request.channel_name, kind)
        )
        return dcpower_pb2.MeasureResponse(status=0, measurement=value)

    def QueryInCompliance(self, request: Any, context: grpc.ServicerContext) -> Any:
        in_compliance = self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.query_in_compliance(request.channel_name),
        )
        return dcpower_pb2.QueryInComplianceResponse(status=0, in_compliance=in_compliance)

    def ErrorQuery(self, request: Any, context: grpc.ServicerContext) -> Any:
        code, description = self._call(
            context, request.vi, DCPowerSession, lambda s: s.take_error()
        )
        return dcpower_pb2.ErrorQueryResponse(status=0, error_code=code, error_message=description)

    def CreateAdvancedSequence(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._create_sequence(context, request, "")
        return dcpower_pb2.CreateAdvancedSequenceResponse(status=0)

    def CreateAdvancedSequenceWithChannels(
        self, request: Any, context: grpc.ServicerContext
    ) -> Any:
        self._create_sequence(context, request, request.channel_name)
        return dcpower_pb2.CreateAdvancedSequenceWithChannelsResponse(status=0)

    def _create_sequence(self, context: grpc.ServicerContext, request: Any, channels: str) -> None:
        name, attribute_ids = request.sequence_name, list(request.attribute_ids)
        make_active = request.set_as_active_sequence
        self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.create_advanced_sequence(
                channels, name, attribute_ids, make_active=make_active
            ),
        )

    def CreateAdvancedSequenceStep(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._add_step(context, request, "", commit=False)
        return dcpower_pb2.CreateAdvancedSequenceStepResponse(status=0)

    def CreateAdvancedSequenceStepWithChannels(
        self, request: Any, context: grpc.ServicerContext
    ) -> Any:
        self._add_step(context, request, request.channel_name, commit=False)
        return dcpower_pb2.CreateAdvancedSequenceStepWithChannelsResponse(status=0)

    def CreateAdvancedSequenceCommitStepWithChannels(
        self, request: Any, context: grpc.ServicerContext
    ) -> Any:
        self._add_step(context, request, request.channel_name, commit=True)
        return dcpower_pb2.CreateAdvancedSequenceCommitStepWithChannelsResponse(status=0)

    def _add_step(
        self, context: grpc.ServicerContext, request: Any, channels: str, *, commit: bool
    ) -> None:
        make_active = request.set_as_active_step
        self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.create_advanced_sequence_step(
                channels, make_active=make_active, commit=commit
            ),
        )

    def DeleteAdvancedSequence(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._delete_sequence(context, request, "")
        return dcpower_pb2.DeleteAdvancedSequenceResponse(status=0)

    def DeleteAdvancedSequenceWithChannels(
        self, request: Any, context: grpc.ServicerContext
    ) -> Any:
        self._delete_sequence(context, request, request.channel_name)
        return dcpower_pb2.DeleteAdvancedSequenceWithChannelsResponse(status=0)

    def _delete_sequence(self, context: grpc.ServicerContext, request: Any, channels: str) -> None:
        name = request.sequence_name
        self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.delete_advanced_sequence(channels, name),
        )

    def FetchMultiple(self, request: Any, context: grpc.ServicerContext) -> Any:
        measurements = self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.fetch_multiple(request.channel_name, request.count),
        )
        return dcpower_pb2.FetchMultipleResponse(
            status=0,
            voltage_measurements=[m.voltage for m in measurements],
            current_measurements=[m.current for m in measurements],
            in_compliance=[m.in_compliance for m in measurements],
            actual_count=len(measurements),
        )

    def QueryOutputState(self, request: Any, context: grpc.ServicerContext) -> Any:
        state = field_value(request, "output_state")
        in_state = self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.query_output_state(request.channel_name, state),
        )
        return dcpower_pb2.QueryOutputStateResponse(status=0, in_state=in_state)

    def QueryMaxCurrentLimit(self, request: Any, context: grpc.ServicerContext) -> Any:
        limit = self._query(context, request, "max_current_limit", request.voltage_level)
        return dcpower_pb2.QueryMaxCurrentLimitResponse(status=0, max_current_limit=limit)

    def QueryMaxVoltageLevel(self, request: Any, context: grpc.ServicerContext) -> Any:
        level = self._query(context, request, "max_voltage_level", request.current_limit)
        return dcpower_pb2.QueryMaxVoltageLevelResponse(status=0, max_voltage_level=level)

    def QueryMinCurrentLimit(self, request: Any, context: grpc.ServicerContext) -> Any:
        limit = self._query(context, request, "min_current_limit", request.voltage_level)
        return dcpower_pb2.QueryMinCurrentLimitResponse(status=0, min_current_limit=limit)

    def _query(
        self, context: grpc.ServicerContext, request: Any, which: str, level: float
    ) -> float:
        return self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.query_limit(request.channel_name, which, level),
        )

    def ConfigureApertureTime(self, request: Any, context: grpc.ServicerContext) -> Any:
        units = field_value(request, "units")
        self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.configure_aperture_time(request.channel_name, request.aperture_time, units),
        )
        return dcpower_pb2.ConfigureApertureTimeResponse(status=0)

    def SetSequence(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.set_sequence(
                request.channel_name, list(request.values), list(request.source_delays)
            ),
        )
        return dcpower_pb2.SetSequenceResponse(status=0)

    def ExportAttributeConfigurationBuffer(
        self, request: Any, context: grpc.ServicerContext
    ) -> Any:
        data = self._call(context, request.vi, DCPowerSession, lambda s: s.export_configuration())
        return dcpower_pb2.ExportAttributeConfigurationBufferResponse(status=0, configuration=data)

    def ImportAttributeConfigurationBuffer(
        self, request: Any, context: grpc.ServicerContext
    ) -> Any:
        self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.import_configuration(request.configuration),
        )
        return dcpower_pb2.ImportAttributeConfigurationBufferResponse(status=0)

    def ExportAttributeConfigurationFile(self, request: Any, context: grpc.ServicerContext) -> Any:
        def export(session: DCPowerSession) -> None:
            write_configuration_file(request.file_path, session.export_configuration())

        self._call(context, request.vi, DCPowerSession, export)
        return dcpower_pb2.ExportAttributeConfigurationFileResponse(status=0)

    def ImportAttributeConfigurationFile(self, request: Any, context: grpc.ServicerContext) -> Any:
        def load(session: DCPowerSession) -> None:
            session.import_configuration(read_configuration_file(request.file_path))

        self._call(context, request.vi, DCPowerSession, load)
        return dcpower_pb2.ImportAttributeConfigurationFileResponse(status=0)

    def MeasureMultipleLCR(self, request: Any, context: grpc.ServicerContext) -> Any:
        measurements = self._call(
            context, request.vi, DCPowerSession, lambda s: s.measure_lcr(request.channel_name)
        )
        return dcpower_pb2.MeasureMultipleLCRResponse(
            status=0, measurements=[_lcr_message(m) for m in measurements]
        )

    def FetchMultipleLCR(self, request: Any, context: grpc.ServicerContext) -> Any:
        measurements = self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.measure_lcr(request.channel_name, request.count),
        )
        return dcpower_pb2.FetchMultipleLCRResponse(
            status=0,
            measurements=[_lcr_message(m) for m in measurements],
            actual_count=len(measurements),
        )

    def GetLCRCompensationLastDateAndTime(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._compensate(context, request)
        return dcpower_pb2.GetLCRCompensationLastDateAndTimeResponse(status=0, **_CALIBRATION_DATE)

    def GetLCRCustomCableCompensationData(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._compensate(context, request)
        return dcpower_pb2.GetLCRCustomCableCompensationDataResponse(
            status=0, custom_cable_compensation_data=CABLE_COMPENSATION_DATA
        )

    def ConfigureLCRCustomCableCompensation(
        self, request: Any, context: grpc.ServicerContext
    ) -> Any:
        self._compensate(context, request)
        if not request.custom_cable_compensation_data.startswith(CABLE_COMPENSATION_DATA):
            abort_as_nis_server(
                context,
                DriverError(INVALID_VALUE, "Not custom cable compensation data of this driver."),
            )
        return dcpower_pb2.ConfigureLCRCustomCableCompensationResponse(status=0)

    def _compensate(self, context: grpc.ServicerContext, request: Any) -> None:
        self._call(
            context, request.vi, DCPowerSession, lambda s: s.lcr_compensate(request.channel_name)
        )

    def ErrorMessage(self, request: Any, context: grpc.ServicerContext) -> Any:
        return dcpower_pb2.ErrorMessageResponse(
            status=0, error_message=error_message(request.error_code)
        )

    def GetError(self, request: Any, context: grpc.ServicerContext) -> Any:
        code, description = self._call(
            context, request.vi, DCPowerSession, lambda s: s.take_error()
        )
        return dcpower_pb2.GetErrorResponse(status=0, code=code, description=description)

    def _get(self, context: grpc.ServicerContext, request: Any, kind: AttributeType) -> Any:
        return self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.get_attribute(request.channel_name, request.attribute_id, kind),
        )

    def _set(
        self,
        context: grpc.ServicerContext,
        request: Any,
        kind: AttributeType,
        value: Callable[[], object],
    ) -> None:
        self._call(
            context,
            request.vi,
            DCPowerSession,
            lambda s: s.set_attribute(request.channel_name, request.attribute_id, kind, value()),
        )


CABLE_COMPENSATION_DATA = b"ni-local-platform LCR cable compensation v1\n"
"""What the simulated LCR meter exports as custom cable compensation data (an ideal cable)."""


def _complex(value: complex) -> Any:
    return nidevice_pb2.NIComplexNumber(real=value.real, imaginary=value.imag)


def _lcr_message(measurement: LcrMeasurement) -> Any:
    z = measurement.z
    y = 1 / z
    return dcpower_pb2.NILCRMeasurement(
        vdc=measurement.vdc,
        idc=measurement.idc,
        stimulus_frequency=measurement.stimulus_frequency,
        ac_voltage=_complex(measurement.ac_voltage),
        ac_current=_complex(measurement.ac_current),
        z=_complex(z),
        z_magnitude=abs(z),
        z_phase=phase_degrees(z),
        y=_complex(y),
        y_magnitude=abs(y),
        y_phase=phase_degrees(y),
        rs=z.real,
        rp=z.real,
        measurement_mode=LCR_MODE,
        dc_in_compliance=False,
        ac_in_compliance=False,
        unbalanced=False,
    )
