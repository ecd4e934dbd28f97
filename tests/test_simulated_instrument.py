"""The simulated SCPI instrument: what its docstring's table promises, spelled as SCPI allows,
and one client at a time on its real socket."""

from __future__ import annotations

import socket
import time

import pytest

from simulated_instrument.scpi import (
    DATA_OUT_OF_RANGE,
    IDENTITY,
    NO_ERROR,
    QUERY_INTERRUPTED,
    UNDEFINED_HEADER,
    DisconnectError,
    Instrument,
)
from simulated_instrument.server import InstrumentServer


@pytest.mark.parametrize("spelling", ["SOUR:VOLT", "source:voltage", "Sour:Voltage", "SOURCE:VOLT"])
def test_short_and_long_forms_without_case_set_the_output(spelling: str) -> None:
    instrument = Instrument()

    assert instrument.handle(f"{spelling} 2.5") is None
    assert instrument.handle("MEAS:VOLT?") == b"+2.500000E+00\n"
    assert instrument.handle("measure:voltage?") == b"+2.500000E+00\n"


def test_wrong_commands_and_values_go_to_the_error_queue_in_order() -> None:
    instrument = Instrument()

    assert instrument.handle("SOURC:VOLT 1") is None  # neither the short nor the long form
    assert instrument.handle("SOUR:VOLT 11") is None  # out of range: the output stays
    assert instrument.handle("SOUR:VOLT?") == b"+0.000000E+00\n"
    assert instrument.handle("SYST:ERR?") == f"{UNDEFINED_HEADER}\n".encode()
    assert instrument.handle("SYST:ERR?") == f"{DATA_OUT_OF_RANGE}\n".encode()
    assert instrument.handle("SYST:ERR?") == f"{NO_ERROR}\n".encode()


def test_the_fault_commands_act_once_and_reset_clears_them() -> None:
    instrument = Instrument()
    assert instrument.handle("*IDN?") == f"{IDENTITY}\n".encode()
    instrument.handle("DIAG:NOTERM")
    assert instrument.handle("*IDN?") == IDENTITY.encode()  # once
    assert instrument.handle("*IDN?") == f"{IDENTITY}\n".encode()
    instrument.handle("DIAG:GARB")
    assert (
        not instrument.handle(
            "*IDN?",
        )
        .decode("latin-1")
        .isprintable()
    )  # type: ignore[union-attr]
    instrument.handle("DIAG:DISC")
    with pytest.raises(DisconnectError):
        instrument.handle("*IDN?")
    instrument.handle("DIAG:DISC")
    instrument.handle("*RST")
    assert instrument.handle("DIAG:ECHO? still here") == b"still here\n"


def test_a_block_holds_every_byte_value_after_its_header() -> None:
    block = Instrument().handle("DIAG:BLOC? 300")

    assert block == b"#3300" + bytes(index % 256 for index in range(300)) + b"\n"


def test_a_second_client_is_hung_up_on_while_the_first_is_connected() -> None:
    with InstrumentServer() as server:
        with socket.create_connection((server.host, server.port), timeout=5) as first:
            with socket.create_connection((server.host, server.port), timeout=5) as second:
                assert second.recv(100) == b""  # closed at once
            first.sendall(b"*IDN?\n")
            assert first.recv(100) == f"{IDENTITY}\n".encode()
            assert (server.accepted, server.refused, server.connected) == (1, 1, True)
        assert _answer_once_free(server, b"*OPC?\n") == b"1\n"  # free again after the first


def _answer_once_free(server: InstrumentServer, command: bytes) -> bytes:
    """Connect until the instrument takes the connection (it notices a client left at once, but
    not before its reading thread does), then ask."""
    deadline = time.monotonic() + 5
    while True:
        with socket.create_connection((server.host, server.port), timeout=5) as client:
            client.sendall(command)
            answer = client.recv(100)
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(0.01)


def test_a_command_sent_while_a_late_answer_is_owed_interrupts_the_query() -> None:
    with InstrumentServer() as server:
        server.instrument.delay = 0.5
        with socket.create_connection((server.host, server.port), timeout=5) as client:
            client.sendall(b"DIAG:ECHO? first\n")
            time.sleep(0.1)  # the instrument owes the answer now
            client.sendall(b"DIAG:ECHO? second\n")  # talked over: the first answer is lost
            assert client.recv(100) == b"second\n"
            server.instrument.delay = 0.0
            client.sendall(b"SYST:ERR?\n")
            assert client.recv(100) == f"{QUERY_INTERRUPTED}\n".encode()
        assert server.instrument.interrupted == 1


def test_a_client_that_hangs_up_while_owed_an_answer_interrupts_nothing() -> None:
    with InstrumentServer() as server:
        server.instrument.delay = 3.0
        with socket.create_connection((server.host, server.port), timeout=5) as client:
            client.sendall(b"*IDN?\n")
            time.sleep(0.1)
        started = time.monotonic()
        server.instrument.delay = 0.0
        assert _answer_once_free(server, b"SYST:ERR?\n") == f"{NO_ERROR}\n".encode()
        assert time.monotonic() - started < 1.5  # free at once, not after the late answer
        assert server.instrument.interrupted == 0


def test_hanging_up_frees_the_instrument_for_its_next_client() -> None:
    with InstrumentServer() as server:
        with socket.create_connection((server.host, server.port), timeout=5) as client:
            client.sendall(b"*OPC?\n")
            assert client.recv(100) == b"1\n"
            assert not server.wait_free(0.1)  # still connected

            server.hang_up()

            assert client.recv(100) == b""
            assert server.wait_free(2.0)
        assert _answer_once_free(server, b"*OPC?\n") == b"1\n"
