"""The simulated NI-DCPower driver behaves as NI's simulated driver where NI's clients can tell.

Driven by NI's unchanged ``nidcpower`` client over real gRPC (the ``device_server_channel``
fixture); each test names the NI-DCPower behaviour it pins.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import hightime
import nidcpower
import pytest
from nidcpower import nidcpower_pb2 as dcpower_pb2
from nidcpower import nidcpower_pb2_grpc as dcpower_pb2_grpc

UNKNOWN_CHANNEL = -1074135008
UNKNOWN_OPTION_VALUE = -1074134964
DEVICE_NOT_FOUND = -1074097793
RESOURCE_NOT_FOUND = -1074118656
ALL_CHANNELS_REQUIRED = -1074118494
CHANNEL_NAME_NOT_ALLOWED = -1074134971
SIMULATED_4162 = "Simulate=1, DriverSetup=Model:4162; BoardType:PXIe"


def open_session(
    channel: grpc.Channel,
    resource_name: str,
    channels: str | None = None,
    *,
    options: str = SIMULATED_4162,
    independent_channels: bool = True,
) -> nidcpower.Session:
    return nidcpower.Session(
        resource_name,
        channels,
        options=options,
        independent_channels=independent_channels,
        grpc_options=nidcpower.GrpcSessionOptions(channel, ""),
    )


def test_an_instrument_has_its_models_channels(device_server_channel: grpc.Channel) -> None:
    with open_session(device_server_channel, "Dev1") as session:
        assert session.channel_count == 12
        assert session.get_channel_names(range(12))[-1] == "Dev1/11"
        assert session.instrument_model == "NI PXIe-4162"
    options = "Simulate=1, DriverSetup=Model:4190"
    with open_session(device_server_channel, "Dev1,Dev2", options=options) as session:
        assert session.get_channel_names(range(2)) == ["Dev1/0", "Dev2/0"]
    with pytest.raises(nidcpower.Error) as raised:
        open_session(device_server_channel, "Dev1/12")
    assert raised.value.code == UNKNOWN_CHANNEL


def test_an_unknown_model_fails_the_init(device_server_channel: grpc.Channel) -> None:
    with pytest.raises(nidcpower.Error) as raised:
        open_session(device_server_channel, "Dev1", options="Simulate=1, DriverSetup=Model:nope")
    assert raised.value.code == UNKNOWN_OPTION_VALUE
    assert "unknown option value" in raised.value.description


def test_names_keep_their_first_spelling_and_match_loosely(
    device_server_channel: grpc.Channel,
) -> None:
    with open_session(device_server_channel, "DEV1  /1:4,dev1/  6") as session:
        assert session.get_channel_names(range(5)) == [f"DEV1/{n}" for n in (1, 2, 3, 4, 6)]
        measured = session.channels[" 6 , 2 - 3 "].measure_multiple()
        assert [m.channel for m in measured] == ["DEV1/6", "DEV1/2", "DEV1/3"]


def test_a_repeated_instrument_prefix_names_the_channel(
    device_server_channel: grpc.Channel,
) -> None:
    # NI's client joins resource "Dev1" and channels "0:2,Dev1/4" into "Dev1/0:2,Dev1/Dev1/4".
    with pytest.deprecated_call(), open_session(device_server_channel, "Dev1", "0:2,Dev1/4") as s:
        assert s.get_channel_names(range(4)) == ["Dev1/0", "Dev1/1", "Dev1/2", "Dev1/4"]
    with pytest.deprecated_call(), pytest.raises(nidcpower.Error) as raised:
        open_session(device_server_channel, "Dev1/0", "0")  # "Dev1/0/0"
    assert raised.value.code == DEVICE_NOT_FOUND


def test_instrument_names_select_instrument_attributes(
    device_server_channel: grpc.Channel,
) -> None:
    with open_session(device_server_channel, "Dev1,Dev2,Dev3") as session:
        for name in ("Dev2", "Dev1,Dev3", ""):
            assert session.instruments[name].instrument_model == "NI PXIe-4162"
        with pytest.raises(nidcpower.Error) as raised:
            session.instruments["Dev4"].instrument_model  # noqa: B018
    assert raised.value.code == UNKNOWN_CHANNEL


def test_a_session_without_independent_channels_numbers_its_channels(
    device_server_channel: grpc.Channel,
) -> None:
    with pytest.deprecated_call():
        session = open_session(device_server_channel, "Dev1", "0,2-3,6", independent_channels=False)
    with session:
        assert session.channel_count == 4
        session.channels["3"].voltage_level = 0.5
        with session.initiate():
            measured = session.channels["3,0"].measure_multiple()
        assert [(m.channel, m.voltage) for m in measured] == [("3", 0.5), ("0", 0.0)]
        session.channels["0,2-3,6"].reset()  # all channels: allowed
        with pytest.raises(nidcpower.Error) as subset:
            session.channels["0"].reset()
        with pytest.raises(nidcpower.Error) as named:
            session.channels["0"].instrument_model  # noqa: B018
    assert subset.value.code == ALL_CHANNELS_REQUIRED
    assert named.value.code == CHANNEL_NAME_NOT_ALLOWED


def test_a_session_without_independent_channels_needs_simulation(
    device_server_channel: grpc.Channel,
) -> None:
    with pytest.deprecated_call(), pytest.raises(nidcpower.Error) as raised:
        open_session(device_server_channel, "Dev1", "", options="", independent_channels=False)
    assert raised.value.code == RESOURCE_NOT_FOUND


def test_fetch_multiple_returns_the_programmed_output(device_server_channel: grpc.Channel) -> None:
    with open_session(device_server_channel, "Dev1/0") as session:
        session.voltage_level = 1.0
        session.measure_when = nidcpower.MeasureWhen.AUTOMATICALLY_AFTER_SOURCE_COMPLETE
        with session.initiate():
            fetched = session.fetch_multiple(5)
            assert session.query_output_state(nidcpower.OutputStates.CONSTANT_VOLTAGE)
            assert not session.query_output_state(nidcpower.OutputStates.CONSTANT_CURRENT)
    assert [(m.voltage, m.channel) for m in fetched] == [(1.0, "Dev1/0")] * 5
    assert fetched[0].current == pytest.approx(1.0 / 50_000)


def test_queries_answer_with_the_models_limits(device_server_channel: grpc.Channel) -> None:
    with open_session(device_server_channel, "Dev1/0") as session:
        assert session.query_max_current_limit(6) == pytest.approx(0.1)
        assert session.query_max_voltage_level(0.03) == pytest.approx(24)
        assert session.query_min_current_limit(0.03) == pytest.approx(1e-7)
        with pytest.raises(nidcpower.Error):
            session.query_max_current_limit(100)  # beyond the PXIe-4162's 24 V


def test_aperture_time_is_configured_and_reset(device_server_channel: grpc.Channel) -> None:
    with open_session(device_server_channel, "Dev1/0") as session:
        assert session.aperture_time == pytest.approx(0.01666)
        assert session.aperture_time_units == nidcpower.ApertureTimeUnits.SECONDS
        session.configure_aperture_time(5, nidcpower.ApertureTimeUnits.POWER_LINE_CYCLES)
        assert session.aperture_time == 5
        session.output_function = nidcpower.OutputFunction.DC_CURRENT
        session.reset_with_defaults()
        assert session.aperture_time_units == nidcpower.ApertureTimeUnits.SECONDS
        assert session.output_function == nidcpower.OutputFunction.DC_VOLTAGE
        session.disable()
        assert session.output_enabled is False


def test_an_attribute_configuration_round_trips(
    device_server_channel: grpc.Channel, tmp_path: Path
) -> None:
    path = str(tmp_path / "configuration.bin")
    with open_session(device_server_channel, "Dev1/0") as session:
        session.voltage_level = 1.0
        exported = session.export_attribute_configuration_buffer()
        session.export_attribute_configuration_file(path)
        session.voltage_level = 2.0
        session.import_attribute_configuration_buffer(exported)
        assert session.voltage_level == 1.0
        session.voltage_level = 2.0
        session.import_attribute_configuration_file(path)
        assert session.voltage_level == 1.0
        with pytest.raises(nidcpower.Error):
            session.import_attribute_configuration_buffer(b"another driver's bytes")
    with open_session(device_server_channel, "Dev1/0-1") as other:
        with pytest.raises(nidcpower.Error):  # exported for other channels
            other.import_attribute_configuration_buffer(exported)


def test_advanced_sequences_are_kept_per_channel(device_server_channel: grpc.Channel) -> None:
    with open_session(device_server_channel, "Dev1/0-1") as session:
        channel = session.channels["Dev1/1"]
        channel.source_mode = nidcpower.SourceMode.SEQUENCE
        channel.create_advanced_sequence("ramp", ["voltage_level"], set_as_active_sequence=True)
        channel.create_advanced_sequence_step(set_as_active_step=True)
        channel.create_advanced_sequence_step(set_as_active_step=True)
        assert channel.active_advanced_sequence == "ramp"
        assert channel.active_advanced_sequence_step == 1
        assert session.channels["Dev1/0"].active_advanced_sequence == ""
        with pytest.raises(nidcpower.Error) as commit:
            channel.create_advanced_sequence_commit_step()  # not on a PXIe-4162
        channel.delete_advanced_sequence("ramp")
        assert channel.active_advanced_sequence == ""
        with pytest.raises(nidcpower.Error):
            channel.active_advanced_sequence = "ramp"
    assert commit.value.code == -1074118619
    options = "Simulate=1, DriverSetup=Model:4141"
    with open_session(device_server_channel, "Dev1/0", options=options) as session:
        session.create_advanced_sequence("s", ["voltage_level"])
        session.create_advanced_sequence_commit_step()


def test_a_software_trigger_needs_one_channel_without_independent_channels(
    device_server_channel: grpc.Channel,
) -> None:
    trigger = nidcpower.SendSoftwareEdgeTriggerType.START
    with open_session(device_server_channel, "Dev1/0-3") as session:
        session.channels["Dev1/2"].send_software_edge_trigger(trigger)
    with pytest.deprecated_call():
        legacy = open_session(device_server_channel, "Dev1", "0,1", independent_channels=False)
    with legacy, pytest.raises(nidcpower.Error) as raised:
        legacy.send_software_edge_trigger(trigger)
    assert raised.value.code == -1074118587


def test_calibration_answers_are_nis_simulated_constants(
    device_server_channel: grpc.Channel,
) -> None:
    with open_session(device_server_channel, "Dev1") as session:
        assert session.self_test() is None
        for when in (session.get_self_cal_last_date_and_time(),
                     session.get_ext_cal_last_date_and_time()):  # fmt: skip
            assert (when.year, when.month, when.day, when.hour, when.minute) == (1940, 3, 1, 0, 0)
        assert session.get_self_cal_last_temp() == 25.0
        assert session.read_current_temperature() == 25.0
        assert session.get_ext_cal_recommended_interval().days == 365


LCR_OPTIONS = "Simulate=1, DriverSetup=Model:4190; BoardType:PXIe"


def test_the_lcr_meter_measures_its_stimulus_and_bias(device_server_channel: grpc.Channel) -> None:
    with open_session(device_server_channel, "4190/0", options=LCR_OPTIONS) as session:
        session.instrument_mode = nidcpower.InstrumentMode.LCR
        session.lcr_stimulus_function = nidcpower.LCRStimulusFunction.VOLTAGE
        session.lcr_voltage_amplitude = 0.7
        session.lcr_frequency = 10_000.0
        session.lcr_dc_bias_source = nidcpower.LCRDCBiasSource.VOLTAGE
        session.lcr_dc_bias_voltage_level = 1.0
        with session.initiate():
            [measured] = session.measure_multiple_lcr()
            fetched = session.fetch_multiple_lcr(3)
    assert len(fetched) == 3 and fetched[0].channel == "4190/0"
    assert (measured.vdc, measured.stimulus_frequency) == (1.0, 10_000.0)
    assert measured.ac_voltage == complex(0.7, 0.0)
    assert measured.ac_current == pytest.approx(complex(0.7e-3, 0.0))  # into 1 kΩ
    assert measured.measurement_mode == nidcpower.InstrumentMode.LCR
    assert not (measured.dc_in_compliance or measured.ac_in_compliance or measured.unbalanced)


def test_lcr_calls_need_an_lcr_meter_in_lcr_mode(device_server_channel: grpc.Channel) -> None:
    with open_session(device_server_channel, "Dev1/0") as smu:
        with pytest.raises(nidcpower.Error) as not_lcr:
            smu.perform_lcr_open_compensation()
    assert not_lcr.value.code == -1074118619
    with open_session(device_server_channel, "4190/0", options=LCR_OPTIONS) as session:
        with pytest.raises(nidcpower.Error):
            session.measure_multiple_lcr()  # instrument_mode is still SMU_PS
        data = session.get_lcr_custom_cable_compensation_data()
        session.configure_lcr_custom_cable_compensation(bytes(data))
        with pytest.raises(nidcpower.Error):
            session.configure_lcr_custom_cable_compensation(b"foreign")
        when = session.get_lcr_compensation_last_date_and_time(nidcpower.LCRCompensationType.OPEN)
        assert when.year == 1940


def test_nis_c_style_configure_calls_set_their_attributes(
    device_server_channel: grpc.Channel,
) -> None:
    """NI's grpc-device example calls ConfigureVoltageLevel, Commit and Initiate (no channels)."""
    stub = dcpower_pb2_grpc.NiDCPowerStub(device_server_channel)
    vi = stub.InitializeWithChannels(
        dcpower_pb2.InitializeWithChannelsRequest(
            resource_name="SMU", channels="0", option_string="Simulate=1, DriverSetup=Model:4147"
        )
    ).vi
    stub.ConfigureVoltageLevel(dcpower_pb2.ConfigureVoltageLevelRequest(vi=vi, level=5.0))
    stub.ConfigureOutputFunction(
        dcpower_pb2.ConfigureOutputFunctionRequest(vi=vi, function_raw=1006)
    )
    stub.ConfigurePowerLineFrequency(
        dcpower_pb2.ConfigurePowerLineFrequencyRequest(vi=vi, powerline_frequency_raw=50.0)
    )
    stub.Commit(dcpower_pb2.CommitRequest(vi=vi))
    stub.Initiate(dcpower_pb2.InitiateRequest(vi=vi))
    fetched = stub.FetchMultiple(dcpower_pb2.FetchMultipleRequest(vi=vi, timeout=1, count=3))
    assert list(fetched.voltage_measurements) == [5.0] * 3
    with pytest.raises(grpc.RpcError) as bad:  # one attribute row refuses what NI refuses
        stub.ConfigureSense(dcpower_pb2.ConfigureSenseRequest(vi=vi, sense_raw=7))
    assert dict(bad.value.trailing_metadata())["ni-error"] == "-1074135024"
    stub.Close(dcpower_pb2.CloseRequest(vi=vi))


def test_the_record_delta_time_follows_the_aperture(device_server_channel: grpc.Channel) -> None:
    with open_session(device_server_channel, "Dev1/0") as session:
        assert session.measure_record_delta_time.total_seconds() == pytest.approx(0.01666)
        session.power_line_frequency = 50.0
        session.configure_aperture_time(2, nidcpower.ApertureTimeUnits.POWER_LINE_CYCLES)
        assert session.measure_record_delta_time.total_seconds() == pytest.approx(2 / 50)
        with pytest.raises(nidcpower.Error) as read_only:
            session.measure_record_delta_time = hightime.timedelta(seconds=1)
    assert read_only.value.code == -1074135027


def test_trigger_pulse_and_session_calls_of_nis_c_api(device_server_channel: grpc.Channel) -> None:
    stub = dcpower_pb2_grpc.NiDCPowerStub(device_server_channel)
    with open_session(device_server_channel, "Dev1/0-1") as session:
        vi = session._interpreter.get_session_handle()
        stub.ConfigureDigitalEdgeStartTriggerWithChannels(
            dcpower_pb2.ConfigureDigitalEdgeStartTriggerWithChannelsRequest(
                vi=vi, channel_name="Dev1/1", input_terminal="/Dev1/PXI_Trig0"
            )
        )
        stub.ConfigurePulseVoltageLevel(
            dcpower_pb2.ConfigurePulseVoltageLevelRequest(vi=vi, channel_name="Dev1/0", level=3.0)
        )
        assert session.channels["Dev1/1"].start_trigger_type == nidcpower.TriggerType.DIGITAL_EDGE
        assert session.channels["Dev1/1"].digital_edge_start_trigger_input_terminal == (
            "/Dev1/PXI_Trig0"
        )
        assert session.channels["Dev1/0"].start_trigger_type == nidcpower.TriggerType.NONE
        assert session.channels["Dev1/0"].pulse_voltage_level == 3.0
        stub.DisableStartTrigger(dcpower_pb2.DisableStartTriggerRequest(vi=vi))
        assert session.start_trigger_type == nidcpower.TriggerType.NONE
        revision = stub.RevisionQuery(dcpower_pb2.RevisionQueryRequest(vi=vi))
        assert revision.instrument_driver_revision == "local NI platform simulation"
        with pytest.raises(nidcpower.Error):
            session.instrument_model = "not writable"
        error = stub.ErrorQuery(dcpower_pb2.ErrorQueryRequest(vi=vi))
        assert error.error_code == -1074135027
        assert stub.ErrorQuery(dcpower_pb2.ErrorQueryRequest(vi=vi)).error_code == 0


def test_session_level_advanced_sequence_calls(device_server_channel: grpc.Channel) -> None:
    stub = dcpower_pb2_grpc.NiDCPowerStub(device_server_channel)
    options = "Simulate=1, DriverSetup=Model:4141"
    with open_session(device_server_channel, "Dev1/0-1", options=options) as session:
        vi = session._interpreter.get_session_handle()
        stub.CreateAdvancedSequence(
            dcpower_pb2.CreateAdvancedSequenceRequest(
                vi=vi, sequence_name="both", attribute_ids=[1250001], set_as_active_sequence=True
            )
        )
        stub.CreateAdvancedSequenceStep(
            dcpower_pb2.CreateAdvancedSequenceStepRequest(vi=vi, set_as_active_step=True)
        )
        assert [session.channels[c].active_advanced_sequence for c in ("Dev1/0", "Dev1/1")] == [
            "both",
            "both",
        ]
        stub.DeleteAdvancedSequence(
            dcpower_pb2.DeleteAdvancedSequenceRequest(vi=vi, sequence_name="both")
        )
        assert session.active_advanced_sequence == ""
        with pytest.raises(grpc.RpcError):  # already deleted
            stub.DeleteAdvancedSequence(
                dcpower_pb2.DeleteAdvancedSequenceRequest(vi=vi, sequence_name="both")
            )
