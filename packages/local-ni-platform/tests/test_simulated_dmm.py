"""The simulated NI-DMM driver, driven by NI's unchanged ``nidmm`` client over real gRPC.

What NI's own nidmm system tests expect of a simulated device, checked here without them: the
model table and option string, range coercion, the acquisition state machine and its timing,
the temperature and multi-point attributes, NI's simulated calibration values, and the attribute
configuration round trip. Timed tests use delays of a few tenths of a second at most.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import hightime
import nidmm
import pytest
from nidmm import nidmm_pb2 as dmm_pb2
from nidmm import nidmm_pb2_grpc as dmm_pb2_grpc

from local_ni_platform.device_server import dmm_models
from local_ni_platform.device_server.dmm_acquisition import Acquisition, Schedule

Status = nidmm.AcquisitionStatus

UNKNOWN_OPTION_VALUE = -1074134964
MAX_TIME_EXCEEDED = -1074126845
DATA_NOT_AVAILABLE = -1074118641
CABLE_COMP_NOT_ALLOWED = -1074118629
FEATURE_NOT_SUPPORTED = -1074117849
INVALID_VALUE = -1074135024
READ_ONLY = -1074135027


def open_dmm(
    channel: grpc.Channel,
    options: str | dict[str, object] = "Simulate=1, DriverSetup=Model:4082; BoardType:PXIe",
    name: str = "dmm",
) -> nidmm.Session:
    """A session as NI's system tests open it (by default a simulated PXIe-4082)."""
    return nidmm.Session(
        "FakeDevice", False, True, options, grpc_options=nidmm.GrpcSessionOptions(channel, name)
    )


@pytest.fixture
def dmm(device_server_channel: grpc.Channel) -> Iterator[nidmm.Session]:
    with open_dmm(device_server_channel) as session:
        yield session


def driver_error(call: object, *args: object, **kwargs: object) -> nidmm.errors.DriverError:
    """The driver error ``call(*args, **kwargs)`` raises."""
    assert callable(call)
    with pytest.raises(nidmm.errors.DriverError) as raised:
        call(*args, **kwargs)
    return raised.value


# --- models and options -------------------------------------------------------------------------


def test_the_option_string_picks_model_and_bus(device_server_channel: grpc.Channel) -> None:
    with open_dmm(device_server_channel) as session:
        assert session.instrument_model == "NI PXIe-4082"
        assert driver_error(setattr, session, "instrument_model", "NI PXIe-4081").code == READ_ONLY
    options = {"simulate": True, "driver_setup": {"Model": "4071"}}  # "DriverSetup=…,Simulate=1"
    with open_dmm(device_server_channel, options) as session:
        assert session.instrument_model == "NI PXI-4071"
        assert "4065" in session.supported_instrument_models
    with open_dmm(device_server_channel, "") as session:
        assert session.instrument_model == "NI PXI-4081"


@pytest.mark.parametrize("setup", ["Model:invalid_model; BoardType:PXIe", "BoardType:VXI"])
def test_an_unknown_option_value_fails_init(
    device_server_channel: grpc.Channel, setup: str
) -> None:
    error = driver_error(open_dmm, device_server_channel, f"Simulate=1, DriverSetup={setup}")
    assert error.code == UNKNOWN_OPTION_VALUE
    assert "The option string parameter contains an entry with an unknown option value." in (
        error.description
    )


def test_ranges_coerce_per_model(dmm: nidmm.Session) -> None:
    dmm.range = 50
    assert dmm.range == 100  # coerced up
    dmm.configure_measurement_digits(nidmm.Function.CAPACITANCE, 0.002, 5.5)
    assert dmm.range == 0.01
    assert driver_error(setattr, dmm, "range", 1.0).code == INVALID_VALUE  # beyond 10 mF
    dmm.configure_measurement_digits(nidmm.Function.DC_VOLTS, 10, 5.5)
    dmm.function = nidmm.Function.AC_CURRENT  # a fixed 10 V range becomes the largest 3 A
    assert (dmm.function, dmm.range) == (nidmm.Function.AC_CURRENT, 3.0)
    assert driver_error(dmm.configure_measurement_digits, nidmm.Function.DC_VOLTS, 1, 7.5).code == (
        INVALID_VALUE  # a 4082 has 6½ digits
    )


def test_a_4081_has_no_capacitance(device_server_channel: grpc.Channel) -> None:
    with open_dmm(device_server_channel, "Simulate=1, DriverSetup=Model:4081") as session:
        error = driver_error(
            session.configure_measurement_digits, nidmm.Function.CAPACITANCE, 1e-6, 5.5
        )
    assert error.code == INVALID_VALUE


def test_auto_range_settles_where_nis_simulated_models_do(
    device_server_channel: grpc.Channel,
) -> None:
    with open_dmm(device_server_channel) as session:  # a 408x: its largest range
        assert session.range == -1  # auto by default
        with session.initiate():
            session.fetch()
            assert session.auto_range_value == 300
    with open_dmm(device_server_channel, "Simulate=1, DriverSetup=Model:4071") as session:
        session.configure_measurement_digits(nidmm.Function.DC_VOLTS, -1, 5.5)
        assert session.auto_range_value == 10  # a 407x: the range that holds the 2.5 V input


def test_measurement_absolute_picks_the_fewest_digits(dmm: nidmm.Session) -> None:
    dmm.configure_measurement_absolute(nidmm.Function.DC_VOLTS, 0.02, 0.001)
    assert (dmm.range, dmm.resolution_digits) == (0.1, 3.5)
    assert dmm.resolution_absolute == pytest.approx(5e-5)  # 0.1 V / 2000 counts
    dmm.resolution_absolute = 1e-6
    assert dmm.resolution_digits == 5.5
    assert dmm.resolution_absolute == pytest.approx(5e-7)


# --- attributes ---------------------------------------------------------------------------------


def test_multi_point_and_waveform_attributes(dmm: nidmm.Session) -> None:
    assert (dmm.sample_count, dmm.trigger_count, dmm.waveform_rate) == (1, 1, 1_800_000)
    dmm.sample_count = 5
    assert dmm.sample_count == 5
    assert driver_error(setattr, dmm, "sample_count", -1).code == INVALID_VALUE
    dmm.configure_waveform_acquisition(nidmm.Function.WAVEFORM_VOLTAGE, 100, 1_000_000, 400)
    assert dmm.function == nidmm.Function.WAVEFORM_VOLTAGE
    assert (dmm.range, dmm.waveform_rate, dmm.waveform_points) == (100, 900_000, 400)
    assert dmm.operation_mode == nidmm.OperationMode.WAVEFORM
    error = driver_error(
        dmm.configure_waveform_acquisition, nidmm.Function.WAVEFORM_VOLTAGE, 10, 5, 100
    )
    assert error.code == INVALID_VALUE
    assert dmm.waveform_points == 400  # nothing of the refused call was stored


def test_temperature_configuration_reads_back(dmm: nidmm.Session) -> None:
    assert dmm.temp_rtd_type == nidmm.RTDType.PT3851
    dmm.configure_rtd_type(nidmm.RTDType.CUSTOM, 110)
    dmm.configure_rtd_custom(0.1, 0.2, 0.3)
    assert (dmm.temp_rtd_type, dmm.temp_rtd_res) == (nidmm.RTDType.CUSTOM, 110)
    assert (dmm.temp_rtd_a, dmm.temp_rtd_b, dmm.temp_rtd_c) == (0.1, 0.2, 0.3)
    dmm.temp_thermistor_type = nidmm.ThermistorType.CUSTOM
    dmm.configure_thermistor_custom(0.4, 0.5, 0.6)
    assert (dmm.temp_thermistor_a, dmm.temp_thermistor_b, dmm.temp_thermistor_c) == (0.4, 0.5, 0.6)
    dmm.configure_thermocouple(
        nidmm.ThermocoupleType.K, nidmm.ThermocoupleReferenceJunctionType.FIXED
    )
    assert dmm.temp_tc_type == nidmm.ThermocoupleType.K
    assert dmm.temp_tc_ref_junc_type == nidmm.ThermocoupleReferenceJunctionType.FIXED


def test_reset_restores_the_defaults(dmm: nidmm.Session) -> None:
    dmm.function = nidmm.Function.PERIOD
    dmm.sample_count = 3
    dmm.reset()
    assert (dmm.function, dmm.sample_count) == (nidmm.Function.DC_VOLTS, 1)
    dmm.function = nidmm.Function.FREQ
    assert dmm.reset_with_defaults() is None
    assert dmm.function == nidmm.Function.DC_VOLTS


# --- acquisitions -------------------------------------------------------------------------------


def test_acquisition_states(dmm: nidmm.Session) -> None:
    assert dmm.read_status() == (0, Status.NO_ACQUISITION_IN_PROGRESS)
    assert driver_error(dmm.fetch).code == DATA_NOT_AVAILABLE
    dmm.configure_measurement_digits(nidmm.Function.DC_VOLTS, 10, 5.5)
    dmm.configure_multi_point(trigger_count=2, sample_count=3)
    with dmm.initiate():
        assert dmm.read_status() == (6, Status.FINISHED_WITH_BACKLOG)  # complete at once
        readings = dmm.fetch_multi_point(4)
        assert readings == pytest.approx([2.5] * 4, abs=1e-3)
        assert dmm.read_status() == (2, Status.FINISHED_WITH_BACKLOG)
        assert len(dmm.fetch_multi_point(2)) == 2
        assert dmm.read_status() == (0, Status.FINISHED_WITH_NO_BACKLOG)
        started = time.monotonic()
        assert driver_error(dmm.fetch).code == MAX_TIME_EXCEEDED  # at once: none will arrive
        assert time.monotonic() - started < 1.0
    assert dmm.read_status() == (0, Status.NO_ACQUISITION_IN_PROGRESS)  # aborted on exit
    assert driver_error(dmm.fetch).code == DATA_NOT_AVAILABLE
    dmm.initiate()
    dmm.disable()
    assert dmm.read_status()[1] == Status.NO_ACQUISITION_IN_PROGRESS


def test_reads_initiate_and_fetch(dmm: nidmm.Session) -> None:
    dmm.configure_multi_point(4, 2)
    dmm.configure_measurement_digits(nidmm.Function.DC_CURRENT, 1, 5.5)
    assert dmm.read() == pytest.approx(0.005, abs=1e-4)
    assert len(dmm.read_multi_point(8)) == 8
    assert driver_error(dmm.read_multi_point, 9).code == MAX_TIME_EXCEEDED
    dmm.trigger_count = 1  # a waveform per trigger
    dmm.configure_waveform_acquisition(nidmm.Function.WAVEFORM_VOLTAGE, 10, 1_800_000, 1000)
    waveform = dmm.read_waveform(100)
    assert len(waveform) == 100 and isinstance(waveform[1], float)
    assert len(dmm.fetch_waveform(900)) == 900
    error = driver_error(dmm.fetch_waveform, 1, maximum_time=hightime.timedelta(milliseconds=1))
    assert error.code == MAX_TIME_EXCEEDED


def test_an_acquisition_without_end_measures_at_a_steady_pace(dmm: nidmm.Session) -> None:
    # NI's continuous-acquisition example polls read_status() until points are backlogged.
    dmm.configure_multi_point(
        trigger_count=1, sample_count=0, sample_trigger=nidmm.SampleTrigger.SOFTWARE_TRIG
    )
    with dmm.initiate():
        dmm.send_software_trigger()  # simulated triggers fire by themselves; accepted
        assert len(dmm.fetch_multi_point(3)) == 3
        time.sleep(0.2)
        backlog, status = dmm.read_status()
        assert status == Status.RUNNING
        assert backlog >= 9  # one point per 1/60 s: at least 13 measured by now, 3 fetched
        assert len(dmm.fetch_multi_point(backlog)) == backlog


def test_a_fetch_waits_for_the_programmed_delay(dmm: nidmm.Session) -> None:
    dmm.configure_trigger(nidmm.TriggerSource.IMMEDIATE, hightime.timedelta(seconds=0.2))
    with dmm.initiate():
        assert dmm.read_status() == (0, Status.RUNNING)
        started = time.monotonic()
        dmm.fetch()
        assert 0.15 < time.monotonic() - started < 2.0
        assert dmm.read_status() == (0, Status.FINISHED_WITH_NO_BACKLOG)


def test_a_fetch_fails_at_its_maximum_time(dmm: nidmm.Session) -> None:
    dmm.trigger_delay = hightime.timedelta(seconds=5)
    with dmm.initiate():
        started = time.monotonic()
        error = driver_error(dmm.fetch, maximum_time=hightime.timedelta(milliseconds=100))
        assert 0.08 < time.monotonic() - started < 2.0
    assert error.code == MAX_TIME_EXCEEDED


def test_sample_interval_spaces_the_points(dmm: nidmm.Session) -> None:
    dmm.configure_multi_point(1, 3, nidmm.SampleTrigger.INTERVAL, hightime.timedelta(seconds=0.1))
    started = time.monotonic()
    assert len(dmm.read_multi_point(3)) == 3  # the third point is due 0.2 s after initiate
    assert 0.15 < time.monotonic() - started < 2.0


def test_abort_ends_a_waiting_fetch(dmm: nidmm.Session) -> None:
    dmm.trigger_delay = hightime.timedelta(seconds=30)
    dmm.initiate()
    errors: list[Exception] = []

    def fetch() -> None:
        try:
            dmm._interpreter.fetch(-1)  # past the client's session lock, as another process
        except Exception as error:
            errors.append(error)

    waiter = threading.Thread(target=fetch)
    waiter.start()
    time.sleep(0.2)
    dmm.abort()
    waiter.join(5.0)
    assert not waiter.is_alive()
    assert [getattr(e, "code", None) for e in errors] == [DATA_NOT_AVAILABLE]


def test_a_waiting_fetch_ends_with_its_rpc_deadline(device_server_channel: grpc.Channel) -> None:
    with open_dmm(device_server_channel, name="timed") as session:
        session.trigger_delay = hightime.timedelta(seconds=30)
        session.initiate()
        stub = dmm_pb2_grpc.NiDmmStub(device_server_channel)
        request = dmm_pb2.FetchRequest(vi=session._interpreter._vi, maximum_time_raw=-1)
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as raised:
            stub.Fetch(request, timeout=0.2)
        assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert time.monotonic() - started < 2.0
        assert session.read_status() == (0, Status.RUNNING)  # the session still answers


def test_schedule_arithmetic() -> None:
    schedule = Schedule(trigger_count=2, points_per_trigger=3, trigger_delay=1.0, point_period=0.5)
    assert schedule.total == 6
    assert [schedule.due(i) for i in range(6)] == [1.0, 1.5, 2.0, 3.5, 4.0, 4.5]
    acquisition = Acquisition(schedule, started=100.0)
    assert acquisition.measured(102.0) == 3
    assert acquisition.status(102.0) == Status.RUNNING.value
    assert acquisition.ready_at(4) == 103.5
    assert acquisition.ready_at(7) is None
    assert Schedule(1, 0).total is None


# --- calibration, self test, cable compensation -------------------------------------------------


def test_nis_simulated_calibration_values(dmm: nidmm.Session) -> None:
    assert dmm.get_cal_date_and_time(0) == datetime.datetime(1940, 3, 1, 0, 0)
    assert dmm.get_last_cal_temp(1) == 25
    assert dmm.get_ext_cal_recommended_interval().days == 730
    assert 20 <= dmm.get_dev_temp("") <= 50
    assert dmm.self_test() is None  # NI's client raises SelfTestError on a failure
    assert dmm.get_self_cal_supported() is True
    dmm.self_cal()


def test_a_4065_does_not_self_calibrate(device_server_channel: grpc.Channel) -> None:
    with open_dmm(device_server_channel, "Simulate=1, DriverSetup=Model:4065") as session:
        assert session.get_self_cal_supported() is False
        assert driver_error(session.self_cal).code == FEATURE_NOT_SUPPORTED
        assert session.get_last_cal_temp(0) == 0  # NI's simulated 407x and 4065 report zeros


def test_cable_compensation(dmm: nidmm.Session) -> None:
    assert driver_error(dmm.perform_open_cable_comp).code == CABLE_COMP_NOT_ALLOWED
    dmm.configure_measurement_digits(nidmm.Function.CAPACITANCE, 0.002, 5.5)
    assert dmm.perform_open_cable_comp() == (0, 0)
    assert dmm.perform_short_cable_comp() == (0, 0)


# --- attribute configuration export/import ------------------------------------------------------


def test_configuration_round_trips_through_a_buffer(dmm: nidmm.Session) -> None:
    dmm.configure_measurement_digits(nidmm.Function.AC_VOLTS, 5, 6.5)
    dmm.sample_count = 1
    buffer = dmm.export_attribute_configuration_buffer()
    dmm.sample_count = 2
    dmm.function = nidmm.Function.DC_CURRENT
    dmm.import_attribute_configuration_buffer(buffer)
    assert (dmm.sample_count, dmm.function, dmm.range) == (1, nidmm.Function.AC_VOLTS, 5)
    assert dmm.resolution_digits == 6.5


def test_a_foreign_buffer_is_refused_and_changes_nothing(dmm: nidmm.Session) -> None:
    dmm.sample_count = 7
    buffer = bytes(dmm.export_attribute_configuration_buffer())
    for foreign in (b"\x00\x01garbage", buffer[: len(buffer) // 2], buffer.replace(b"7", b"-7")):
        error = driver_error(dmm.import_attribute_configuration_buffer, foreign)
        assert error.code == INVALID_VALUE
        assert dmm.sample_count == 7


def test_configuration_round_trips_through_a_file(dmm: nidmm.Session, tmp_path: Path) -> None:
    path = tmp_path / "dmm.nidmmconfig"
    dmm.sample_count = 1
    dmm.export_attribute_configuration_file(str(path))
    dmm.sample_count = 2
    dmm.import_attribute_configuration_file(str(path))
    assert dmm.sample_count == 1
    missing = driver_error(dmm.import_attribute_configuration_file, str(tmp_path / "none"))
    assert missing.code == INVALID_VALUE


def test_error_messages_name_nidmm_codes(dmm: nidmm.Session) -> None:
    message = dmm._interpreter.error_message(MAX_TIME_EXCEEDED)
    assert message == "Max Time exceeded before the operation completed."
    assert dmm_models.MODELS["4082"].ranges[nidmm.Function.DC_VOLTS.value][-1] == 300


def test_nis_c_style_configure_calls_set_their_attributes(
    dmm: nidmm.Session, device_server_channel: grpc.Channel
) -> None:
    """NI's grpc-device example calls ConfigurePowerLineFrequency with the enum member."""
    stub = dmm_pb2_grpc.NiDmmStub(device_server_channel)
    vi = dmm._interpreter.get_session_handle()
    stub.ConfigurePowerLineFrequency(
        dmm_pb2.ConfigurePowerLineFrequencyRequest(
            vi=vi, power_line_frequency_hz=dmm_pb2.POWER_LINE_FREQUENCIES_NIDMM_VAL_50_HERTZ
        )
    )
    stub.ConfigureACBandwidth(
        dmm_pb2.ConfigureACBandwidthRequest(
            vi=vi, ac_minimum_frequency_hz=20.0, ac_maximum_frequency_hz=20_000.0
        )
    )
    assert dmm.powerline_freq == 50.0
    assert (dmm.ac_min_freq, dmm.ac_max_freq) == (20.0, 20_000.0)
