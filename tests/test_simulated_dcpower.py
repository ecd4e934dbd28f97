"""The simulated NI-DCPower driver behaves as NI's simulated driver where NI's clients can tell.

Driven by NI's unchanged ``nidcpower`` client over real gRPC (the ``device_server_channel``
fixture); each test names the NI-DCPower behaviour it pins.
"""

from __future__ import annotations

import grpc
import nidcpower
import pytest

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
