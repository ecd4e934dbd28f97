"""Every attribute NI's clients declare is known to the simulated drivers, with NI's type.

The catalogue is read from the installed ``nidcpower``/``nidmm`` packages; the simulations describe
only the attributes they give meaning to. Driven by NI's unchanged clients over real gRPC.
"""

from __future__ import annotations

import grpc
import nidcpower
import nidmm
import pytest

from local_ni_platform.device_server import dcpower, dmm
from local_ni_platform.device_server.attributes import AttributeSpec, AttributeType
from local_ni_platform.device_server.catalog import driver_catalog

READ_ONLY = -1074135027
OPTIONS = {"simulate": True, "driver_setup": {"Model": "4162", "BoardType": "PXIe"}}


def _dcpower(channel: grpc.Channel) -> nidcpower.Session:
    return nidcpower.Session(
        "Dev1", options=OPTIONS, grpc_options=nidcpower.GrpcSessionOptions(channel, "smu")
    )


def test_the_catalogues_hold_every_attribute_nis_clients_declare() -> None:
    assert len(dcpower.ATTRIBUTES) == len({spec.attribute_id for spec in dcpower.ATTRIBUTES})
    by_name = {spec.name: spec for spec in dcpower.ATTRIBUTES}
    assert by_name["aperture_time"].type is AttributeType.REAL64
    assert by_name["active_advanced_sequence_step"].type is AttributeType.INT64
    assert by_name["instrument_mode"].allowed == {m.value for m in nidcpower.InstrumentMode}
    assert by_name["output_function"].allowed == {1006, 1007}  # the simulation's own row
    dmm_names = {spec.name for spec in dmm.ATTRIBUTES}
    assert {"sample_count", "waveform_rate", "temp_rtd_type"} <= dmm_names


def test_a_row_that_contradicts_nis_client_is_refused() -> None:
    wrong_type = AttributeSpec(1150058, "aperture_time", AttributeType.INT32, 0)
    unknown = AttributeSpec(999, "made_up", AttributeType.INT32, 0)
    for row in (wrong_type, unknown):
        with pytest.raises(ValueError, match="does not match NI's client"):
            driver_catalog(nidcpower.session._SessionBase, [row])


def test_undescribed_attributes_round_trip_with_nis_types(
    device_server_channel: grpc.Channel,
) -> None:
    with _dcpower(device_server_channel) as session:
        channel = session.channels["Dev1/0"]
        assert channel.instrument_mode is nidcpower.InstrumentMode.SMU_PS  # enum's first value
        channel.instrument_mode = nidcpower.InstrumentMode.LCR
        channel.active_advanced_sequence_step = 3
        channel.pulse_voltage_level = 2.5
        assert channel.instrument_mode is nidcpower.InstrumentMode.LCR
        assert channel.active_advanced_sequence_step == 3
        assert channel.pulse_voltage_level == 2.5
        assert session.channels["Dev1/1"].pulse_voltage_level == 0.0


def test_a_dmm_string_attribute_is_set_through_nis_client(
    device_server_channel: grpc.Channel,
) -> None:
    options = {"simulate": True, "driver_setup": {"Model": "4082"}}
    grpc_options = nidmm.GrpcSessionOptions(device_server_channel, "dmm")
    with nidmm.Session("DMM1", options=options, grpc_options=grpc_options) as session:
        with pytest.raises(nidmm.Error) as raised:
            session.instrument_model = "NI PXIe-4081"
    assert raised.value.code == READ_ONLY
