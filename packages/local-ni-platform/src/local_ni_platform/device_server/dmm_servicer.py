# ruff: noqa: N802, D102 - the RPC methods bear NI's names and are documented by NI's proto.
"""gRPC face of the simulated NI-DMM driver: ``nidmm_grpc.NiDmm``.

Requests name enum parameters twice (``x`` and ``x_raw`` in a oneof, the same numbers); NI's
Python client sends ``x_raw``, :func:`_oneof` reads whichever is set. The ``Configure…`` calls
that only store attributes are rows of :data:`_STORING_CALLS`. Fetches and reads pass the RPC's
context as the waiter's caller, so a fetch waiting for points ends with its RPC.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from nidmm import nidmm_pb2 as dmm_pb2
from nidmm import nidmm_pb2_grpc as dmm_pb2_grpc

from local_ni_platform.device_server import dmm_attributes as attrs
from local_ni_platform.device_server.attributes import AttributeType
from local_ni_platform.device_server.catalog import ids_by_name
from local_ni_platform.device_server.configuration import (
    read_configuration_file,
    write_configuration_file,
)
from local_ni_platform.device_server.dmm import ATTRIBUTES, DmmSession
from local_ni_platform.device_server.dmm_acquisition import Waiter
from local_ni_platform.device_server.errors import error_message
from local_ni_platform.device_server.repository import SessionRepository
from local_ni_platform.device_server.servicers import (
    DriverServicer,
    Stores,
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

_DMM_SERVICE = dmm_pb2.DESCRIPTOR.services_by_name["NiDmm"]

_ID = ids_by_name(ATTRIBUTES)
"""Attribute ids by the name NI's ``nidmm`` client gives them."""

DMM_SERVICE_NAME: str = _DMM_SERVICE.full_name
"""``nidmm_grpc.NiDmm``: gRPC service name and discovery interface."""


_STORES: dict[str, Stores] = {
    "ConfigureMultiPoint": Stores(
        (
            ("trigger_count", attrs.TRIGGER_COUNT),
            ("sample_count", attrs.SAMPLE_COUNT),
            ("sample_trigger", attrs.SAMPLE_TRIGGER),
            ("sample_interval", attrs.SAMPLE_INTERVAL),
        )
    ),
    "ConfigureTrigger": Stores(
        (("trigger_source", attrs.TRIGGER_SOURCE), ("trigger_delay", attrs.TRIGGER_DELAY))
    ),
    "ConfigureRTDType": Stores(
        (("rtd_type", attrs.TEMP_RTD_TYPE), ("rtd_resistance", attrs.TEMP_RTD_RES))
    ),
    "ConfigureRTDCustom": Stores(
        (("rtd_a", attrs.TEMP_RTD_A), ("rtd_b", attrs.TEMP_RTD_B), ("rtd_c", attrs.TEMP_RTD_C))
    ),
    "ConfigureThermistorCustom": Stores(
        (
            ("thermistor_a", attrs.TEMP_THERMISTOR_A),
            ("thermistor_b", attrs.TEMP_THERMISTOR_B),
            ("thermistor_c", attrs.TEMP_THERMISTOR_C),
        )
    ),
    "ConfigureThermistorType": Stores((("thermistor_type", attrs.TEMP_THERMISTOR_TYPE),)),
    "ConfigureThermocouple": Stores(
        (
            ("thermocouple_type", attrs.TEMP_TC_TYPE),
            ("reference_junction_type", attrs.TEMP_TC_REF_JUNC_TYPE),
        )
    ),
    "ConfigureTransducerType": Stores((("transducer_type", attrs.TEMP_TRANSDUCER_TYPE),)),
    "ConfigureFixedRefJunction": Stores(
        (("fixed_reference_junction", attrs.TEMP_TC_FIXED_REF_JUNC),)
    ),
    "ConfigurePowerLineFrequency": Stores((("power_line_frequency_hz", _ID["powerline_freq"]),)),
    "ConfigureAutoZeroMode": Stores((("auto_zero_mode", _ID["auto_zero"]),)),
    "ConfigureACBandwidth": Stores(
        (
            ("ac_minimum_frequency_hz", _ID["ac_min_freq"]),
            ("ac_maximum_frequency_hz", _ID["ac_max_freq"]),
        )
    ),
    "ConfigureOffsetCompOhms": Stores((("offset_comp_ohms", _ID["offset_comp_ohms"]),)),
    "ConfigureCurrentSource": Stores((("current_source", _ID["current_source"]),)),
    "ConfigureWaveformCoupling": Stores((("waveform_coupling", _ID["waveform_coupling"]),)),
    "ConfigureMeasCompleteDest": Stores(
        (("meas_complete_destination", _ID["meas_complete_dest"]),)
    ),
    "ConfigureFrequencyVoltageRange": Stores((("voltage_range", _ID["freq_voltage_range"]),)),
    "ConfigureADCCalibration": Stores((("adc_calibration", _ID["adc_calibration"]),)),
    "ConfigureCableCompType": Stores((("cable_comp_type", _ID["cable_comp_type"]),)),
    "ConfigureOpenCableCompValues": Stores(
        (
            ("conductance", _ID["open_cable_comp_conductance"]),
            ("susceptance", _ID["open_cable_comp_susceptance"]),
        )
    ),
    "ConfigureShortCableCompValues": Stores(
        (
            ("resistance", _ID["short_cable_comp_resistance"]),
            ("reactance", _ID["short_cable_comp_reactance"]),
        )
    ),
}
"""NI-DMM's ``Configure*`` calls that only store attributes."""


@reject_unsimulated(_DMM_SERVICE)
@with_table_rpcs(dmm_pb2, DmmSession, stores=_STORES, answers={})
class DmmServicer(DriverServicer, dmm_pb2_grpc.NiDmmServicer):  # type: ignore[misc]
    """``nidmm_grpc.NiDmm`` backed by :class:`DmmSession` simulations."""

    _messages = dmm_pb2
    _kind = DmmSession

    def __init__(
        self,
        repository: SessionRepository,
        *,
        wait_budget: WaitBudget | None = None,
        cancel_check_interval: float = DEFAULT_CANCEL_CHECK_INTERVAL,
    ) -> None:
        """Serve the DMM sessions of ``repository``.

        Fetches that must sleep hold a slot of ``wait_budget`` (default: a budget of its own of
        :data:`~local_ni_platform.waits.DEFAULT_MAX_WAITING_CALLS`); a waiting fetch re-checks
        its caller at least every ``cancel_check_interval`` seconds.
        """
        super().__init__(repository)
        self._wait_budget = wait_budget or WaitBudget(
            "NI-DMM fetch wait", DEFAULT_MAX_WAITING_CALLS
        )
        self._cancel_check_interval = cancel_check_interval

    def _waiter(self, context: grpc.ServicerContext) -> Waiter:
        return Waiter(context, self._wait_budget, self._cancel_check_interval)

    def _run(
        self, request: Any, context: grpc.ServicerContext, operation: Callable[[DmmSession], Any]
    ) -> Any:
        return self._call(context, request.vi, DmmSession, operation)

    # --- session --------------------------------------------------------------------------------

    def InitWithOptions(self, request: Any, context: grpc.ServicerContext) -> Any:
        def initialize() -> DmmSession:
            session = DmmSession(request.resource_name, request.option_string)
            if request.reset_device:
                session.reset()
            return session

        opened = self._open(
            context, request.session_name, request.initialization_behavior, DmmSession, initialize
        )
        return dmm_pb2.InitWithOptionsResponse(
            status=0,
            vi=session_message(opened.name),
            new_session_initialized=opened.new_session_initialized,
        )

    def Close(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._close(context, request.vi, DmmSession)
        return dmm_pb2.CloseResponse(status=0)

    def Reset(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._run(request, context, lambda s: s.reset())
        return dmm_pb2.ResetResponse(status=0)

    def ResetWithDefaults(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._run(request, context, lambda s: s.reset())
        return dmm_pb2.ResetWithDefaultsResponse(status=0)

    def GetErrorMessage(self, request: Any, context: grpc.ServicerContext) -> Any:
        return dmm_pb2.GetErrorMessageResponse(
            status=0, error_message=error_message(request.error_code)
        )

    def GetError(self, request: Any, context: grpc.ServicerContext) -> Any:
        code, description = self._run(request, context, lambda s: s.take_error())
        return dmm_pb2.GetErrorResponse(status=0, error_code=code, description=description)

    # --- configuration --------------------------------------------------------------------------

    def ConfigureMeasurementDigits(self, request: Any, context: grpc.ServicerContext) -> Any:
        function = field_value(request, "measurement_function")
        self._run(
            request,
            context,
            lambda s: s.configure_measurement_digits(
                function, request.range, request.resolution_digits
            ),
        )
        return dmm_pb2.ConfigureMeasurementDigitsResponse(status=0)

    def ConfigureMeasurementAbsolute(self, request: Any, context: grpc.ServicerContext) -> Any:
        function = field_value(request, "measurement_function")
        self._run(
            request,
            context,
            lambda s: s.configure_measurement_absolute(
                function, request.range, request.resolution_absolute
            ),
        )
        return dmm_pb2.ConfigureMeasurementAbsoluteResponse(status=0)

    def ConfigureWaveformAcquisition(self, request: Any, context: grpc.ServicerContext) -> Any:
        function = field_value(request, "measurement_function")
        self._run(
            request,
            context,
            lambda s: s.configure_waveform_acquisition(
                function, request.range, request.rate, request.waveform_points
            ),
        )
        return dmm_pb2.ConfigureWaveformAcquisitionResponse(status=0)

    # --- acquisition ----------------------------------------------------------------------------

    def Initiate(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._run(request, context, lambda s: s.initiate())
        return dmm_pb2.InitiateResponse(status=0)

    def Abort(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._run(request, context, lambda s: s.abort())
        return dmm_pb2.AbortResponse(status=0)

    def Disable(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._run(request, context, lambda s: s.abort())
        return dmm_pb2.DisableResponse(status=0)

    def SendSoftwareTrigger(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._run(request, context, lambda s: s.send_software_trigger())
        return dmm_pb2.SendSoftwareTriggerResponse(status=0)

    def ReadStatus(self, request: Any, context: grpc.ServicerContext) -> Any:
        backlog, status = self._run(request, context, lambda s: s.read_status())
        return dmm_pb2.ReadStatusResponse(
            status=0,
            acquisition_backlog=backlog,
            acquisition_status=int(status),
            acquisition_status_raw=int(status),
        )

    def Fetch(self, request: Any, context: grpc.ServicerContext) -> Any:
        (reading,) = self._points(request, context, 1, read=False)
        return dmm_pb2.FetchResponse(status=0, reading=reading)

    def Read(self, request: Any, context: grpc.ServicerContext) -> Any:
        (reading,) = self._points(request, context, 1, read=True)
        return dmm_pb2.ReadResponse(status=0, reading=reading)

    def FetchMultiPoint(self, request: Any, context: grpc.ServicerContext) -> Any:
        readings = self._points(request, context, request.array_size, read=False)
        return dmm_pb2.FetchMultiPointResponse(
            status=0, reading_array=readings, actual_number_of_points=len(readings)
        )

    def ReadMultiPoint(self, request: Any, context: grpc.ServicerContext) -> Any:
        readings = self._points(request, context, request.array_size, read=True)
        return dmm_pb2.ReadMultiPointResponse(
            status=0, reading_array=readings, actual_number_of_points=len(readings)
        )

    def FetchWaveform(self, request: Any, context: grpc.ServicerContext) -> Any:
        readings = self._points(request, context, request.array_size, read=False)
        return dmm_pb2.FetchWaveformResponse(
            status=0, waveform_array=readings, actual_number_of_points=len(readings)
        )

    def ReadWaveform(self, request: Any, context: grpc.ServicerContext) -> Any:
        readings = self._points(request, context, request.array_size, read=True)
        return dmm_pb2.ReadWaveformResponse(
            status=0, waveform_array=readings, actual_number_of_points=len(readings)
        )

    def _points(
        self, request: Any, context: grpc.ServicerContext, count: int, *, read: bool
    ) -> list[float]:
        """``count`` points of the acquisition (``read``: of a new one), waiting as the client."""
        maximum_time = field_value(request, "maximum_time")
        waiter = self._waiter(context)
        if read:
            return self._run(request, context, lambda s: s.read(count, maximum_time, waiter))  # type: ignore[no-any-return]
        return self._run(request, context, lambda s: s.fetch(count, maximum_time, waiter))  # type: ignore[no-any-return]

    # --- calibration, self test, cable compensation ---------------------------------------------

    def SelfTest(self, request: Any, context: grpc.ServicerContext) -> Any:
        result, message = self._run(request, context, lambda s: s.self_test())
        return dmm_pb2.SelfTestResponse(
            status=0, self_test_result=result, self_test_message=message
        )

    def SelfCal(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._run(request, context, lambda s: s.self_calibrate())
        return dmm_pb2.SelfCalResponse(status=0)

    def GetSelfCalSupported(self, request: Any, context: grpc.ServicerContext) -> Any:
        supported = self._run(request, context, lambda s: s.self_calibration_supported())
        return dmm_pb2.GetSelfCalSupportedResponse(status=0, self_cal_supported=supported)

    def GetCalDateAndTime(self, request: Any, context: grpc.ServicerContext) -> Any:
        cal_type = field_value(request, "cal_type")
        record = self._run(request, context, lambda s: s.last_calibration(cal_type))
        return dmm_pb2.GetCalDateAndTimeResponse(
            status=0,
            month=record.month,
            day=record.day,
            year=record.year,
            hour=record.hour,
            minute=record.minute,
        )

    def GetLastCalTemp(self, request: Any, context: grpc.ServicerContext) -> Any:
        cal_type = field_value(request, "cal_type")
        record = self._run(request, context, lambda s: s.last_calibration(cal_type))
        return dmm_pb2.GetLastCalTempResponse(status=0, temperature=record.temperature)

    def GetExtCalRecommendedInterval(self, request: Any, context: grpc.ServicerContext) -> Any:
        months = self._run(request, context, lambda s: s.ext_cal_recommended_interval_months())
        return dmm_pb2.GetExtCalRecommendedIntervalResponse(status=0, months=months)

    def GetDevTemp(self, request: Any, context: grpc.ServicerContext) -> Any:
        temperature = self._run(request, context, lambda s: s.device_temperature())
        return dmm_pb2.GetDevTempResponse(status=0, temperature=temperature)

    def GetAutoRangeValue(self, request: Any, context: grpc.ServicerContext) -> Any:
        value = self._run(
            request,
            context,
            lambda s: s.get_attribute(attrs.AUTO_RANGE_VALUE, AttributeType.REAL64),
        )
        return dmm_pb2.GetAutoRangeValueResponse(status=0, actual_range=value)

    def PerformOpenCableComp(self, request: Any, context: grpc.ServicerContext) -> Any:
        conductance, susceptance = self._run(request, context, lambda s: s.cable_compensation())
        return dmm_pb2.PerformOpenCableCompResponse(
            status=0, conductance=conductance, susceptance=susceptance
        )

    def PerformShortCableComp(self, request: Any, context: grpc.ServicerContext) -> Any:
        resistance, reactance = self._run(request, context, lambda s: s.cable_compensation())
        return dmm_pb2.PerformShortCableCompResponse(
            status=0, resistance=resistance, reactance=reactance
        )

    # --- attribute configuration ----------------------------------------------------------------

    def ExportAttributeConfigurationBuffer(
        self, request: Any, context: grpc.ServicerContext
    ) -> Any:
        blob = self._run(request, context, lambda s: s.export_configuration())
        return dmm_pb2.ExportAttributeConfigurationBufferResponse(status=0, configuration=blob)

    def ImportAttributeConfigurationBuffer(
        self, request: Any, context: grpc.ServicerContext
    ) -> Any:
        self._run(request, context, lambda s: s.import_configuration(request.configuration))
        return dmm_pb2.ImportAttributeConfigurationBufferResponse(status=0)

    def ExportAttributeConfigurationFile(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._run(
            request,
            context,
            lambda s: write_configuration_file(request.file_path, s.export_configuration()),
        )
        return dmm_pb2.ExportAttributeConfigurationFileResponse(status=0)

    def ImportAttributeConfigurationFile(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._run(
            request,
            context,
            lambda s: s.import_configuration(read_configuration_file(request.file_path)),
        )
        return dmm_pb2.ImportAttributeConfigurationFileResponse(status=0)

    # --- attributes (the RPCs are shared, see servicers.DriverServicer) -------------------------

    def _get(self, context: grpc.ServicerContext, request: Any, kind: AttributeType) -> Any:
        return self._run(request, context, lambda s: s.get_attribute(request.attribute_id, kind))

    def _set(
        self,
        context: grpc.ServicerContext,
        request: Any,
        kind: AttributeType,
        value: Callable[[], object],
    ) -> None:
        self._run(request, context, lambda s: s.set_attribute(request.attribute_id, kind, value()))
