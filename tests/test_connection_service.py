"""The Instrument Connection Service over real processes: the simulated SCPI instrument on a real
TCP socket, the service talking to it through PyVISA (pyvisa-py), every documented status code,
spellings of one device, atomic queries from many clients, and faults: a slow device, an answer
without termination, garbage, a device that hangs up, is killed and comes back, a refused
connection.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from connection_client import (
    DeviceTimeoutError,
    DeviceUnavailableError,
    InstrumentConnectionClient,
    NotTextError,
)
from instrument_connection import instrument_connection_pb2 as pb
from instrument_connection.instrument_connection_pb2_grpc import InstrumentConnectionStub
from session_core.conformance import check_client, check_service
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.programs import start_connection_service, start_simulated_instrument
from simulated_instrument import SIMULATED_DUT_YAML
from simulated_instrument.scpi import IDENTITY, NO_ERROR
from simulated_instrument.server import InstrumentServer
from tests.grpc_helpers import rpc_error

TIMEOUT = 10.0
NEW = pb.SESSION_INITIALIZATION_BEHAVIOR_INITIALIZE_NEW
ATTACH = pb.SESSION_INITIALIZATION_BEHAVIOR_ATTACH_TO_EXISTING
UNSPECIFIED = pb.SESSION_INITIALIZATION_BEHAVIOR_UNSPECIFIED
StatusCode = grpc.StatusCode
POOL = 40


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceProcess]:
    process = start_connection_service(discovery=False)
    yield process
    assert process.stop() == 0, process.stderr_tail


@pytest.fixture
def stub(service: ServiceProcess) -> Iterator[InstrumentConnectionStub]:
    """A raw stub; afterwards every session the test left open is closed."""
    with grpc.insecure_channel(service.address) as channel:
        connection_stub = InstrumentConnectionStub(channel)
        yield connection_stub
        for session in connection_stub.ListSessions(pb.ListSessionsRequest()).sessions:
            with contextlib.suppress(grpc.RpcError):
                connection_stub.CloseConnection(
                    pb.CloseConnectionRequest(session_id=session.session_id)
                )


@pytest.fixture
def instrument() -> Iterator[ServiceProcess]:
    """A simulated instrument of the test's own."""
    process = start_simulated_instrument(port=0)
    yield process
    process.stop()


def resource(instrument: ServiceProcess) -> str:
    host, port = instrument.address.rsplit(":", 1)
    return f"TCPIP0::{host}::{port}::SOCKET"


def open_connection(
    stub: InstrumentConnectionStub,
    name: str,
    *,
    behavior: int = NEW,
    timeout_ms: int = 0,
    read_termination: str = "",
) -> pb.OpenConnectionResponse:
    response: pb.OpenConnectionResponse = stub.OpenConnection(
        pb.OpenConnectionRequest(
            resource_name=name,
            session_initialization_behavior=behavior,  # type: ignore[arg-type]
            options=pb.ConnectionOptions(
                timeout_in_milliseconds=timeout_ms, read_termination=read_termination
            ),
        ),
        timeout=TIMEOUT,
    )
    return response


def query(
    stub: InstrumentConnectionStub, session_id: str, command: str, *, byte_count: int = 0
) -> bytes:
    response = stub.Query(
        pb.QueryRequest(session_id=session_id, command=command.encode(), byte_count=byte_count),
        timeout=TIMEOUT,
    )
    return bytes(response.data)


def write(stub: InstrumentConnectionStub, session_id: str, command: str) -> None:
    stub.Write(pb.WriteRequest(session_id=session_id, data=command.encode()), timeout=TIMEOUT)


def refused(call: object) -> tuple[grpc.StatusCode, str, float]:
    assert callable(call)
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as error:
        call()
    code, details = rpc_error(error)
    return code, details, time.monotonic() - started


def session_of(stub: InstrumentConnectionStub, session_id: str) -> pb.SessionDescription:
    sessions = stub.ListSessions(pb.ListSessionsRequest(), timeout=TIMEOUT).sessions
    (found,) = [s for s in sessions if s.session_id == session_id]
    return found


# -- sessions ----------------------------------------------------------------------------------


def test_a_new_connection_answers_and_says_its_normalised_name_and_options(
    stub: InstrumentConnectionStub, instrument: ServiceProcess
) -> None:
    host, port = instrument.address.rsplit(":", 1)
    opened = open_connection(stub, f"tcpip::{host}::{port}::socket")

    assert opened.new_session_initialized
    assert opened.resource_name == f"TCPIP0::{host}::{port}::SOCKET"
    assert opened.options == pb.ConnectionOptions(
        timeout_in_milliseconds=2000, read_termination="\n", write_termination="\n"
    )
    assert query(stub, opened.session_id, "*IDN?") == IDENTITY.encode()
    write(stub, opened.session_id, "SOUR:VOLT 2.5")
    assert query(stub, opened.session_id, "MEAS:VOLT?") == b"+2.500000E+00"


def test_every_spelling_of_one_device_is_one_session(
    stub: InstrumentConnectionStub, instrument: ServiceProcess
) -> None:
    port = instrument.address.rsplit(":", 1)[1]
    first = open_connection(stub, f"TCPIP0::127.0.0.1::{port}::SOCKET")

    for spelling in (f"TCPIP::LOCALHOST::{port}::SOCKET", f" tcpip0::localhost::{port}::socket "):
        again = open_connection(stub, spelling, behavior=UNSPECIFIED)
        assert (again.session_id, again.new_session_initialized) == (first.session_id, False)
    code, _, _ = refused(lambda: open_connection(stub, f"TCPIP0::localhost::{port}::SOCKET"))
    assert code is StatusCode.ALREADY_EXISTS


def test_attach_without_a_session_is_not_found_and_close_twice_is_not_found(
    stub: InstrumentConnectionStub, instrument: ServiceProcess
) -> None:
    name = resource(instrument)
    code, _, _ = refused(lambda: open_connection(stub, name, behavior=ATTACH))
    assert code is StatusCode.NOT_FOUND

    opened = open_connection(stub, name)
    stub.CloseConnection(pb.CloseConnectionRequest(session_id=opened.session_id), timeout=TIMEOUT)
    code, _, _ = refused(
        lambda: stub.CloseConnection(
            pb.CloseConnectionRequest(session_id=opened.session_id), timeout=TIMEOUT
        )
    )
    assert code is StatusCode.NOT_FOUND
    code, _, _ = refused(lambda: query(stub, opened.session_id, "*IDN?"))
    assert code is StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "empty"),
        ("nonsense", "not a VISA resource string"),
        ("TCPIP0::host::5025::SOCKET\x07", "control character"),
        ("TCPIP0::" + "h" * 2000 + "::5025::SOCKET", "at most 1024"),
    ],
    ids=["empty", "not-visa", "control", "too-long"],
)
def test_bad_resource_names_are_invalid_argument_naming_the_rule(
    stub: InstrumentConnectionStub, name: str, rule: str
) -> None:
    code, details, took = refused(lambda: open_connection(stub, name))

    assert code is StatusCode.INVALID_ARGUMENT
    assert rule in details
    assert took < 1.0


def test_bad_options_and_counts_are_invalid_argument(
    stub: InstrumentConnectionStub, instrument: ServiceProcess
) -> None:
    name = resource(instrument)
    code, details, _ = refused(lambda: open_connection(stub, name, timeout_ms=-5))
    assert (code, "negative" in details) == (StatusCode.INVALID_ARGUMENT, True)
    code, details, _ = refused(lambda: open_connection(stub, name, read_termination="abc"))
    assert (code, "one or two" in details) == (StatusCode.INVALID_ARGUMENT, True)

    opened = open_connection(stub, name)
    code, details, _ = refused(
        lambda: stub.Read(
            pb.ReadRequest(session_id=opened.session_id, byte_count=5_000_000), timeout=TIMEOUT
        )
    )
    assert (code, "4,000,000" in details) == (StatusCode.INVALID_ARGUMENT, True)
    code, _, _ = refused(
        lambda: stub.Query(
            pb.QueryRequest(
                session_id=opened.session_id, command=b"*IDN?", timeout_in_milliseconds=-1
            ),
            timeout=TIMEOUT,
        )
    )
    assert code is StatusCode.INVALID_ARGUMENT
    assert query(stub, opened.session_id, "*IDN?") == IDENTITY.encode()  # still serving


def test_binary_data_is_read_byte_for_byte(
    stub: InstrumentConnectionStub, instrument: ServiceProcess
) -> None:
    opened = open_connection(stub, resource(instrument))

    block = query(stub, opened.session_id, "DIAG:BLOC? 300", byte_count=306)

    assert block == b"#3300" + bytes(index % 256 for index in range(300)) + b"\n"


# -- one exchange at a time --------------------------------------------------------------------


def test_queries_of_eight_clients_never_cross(
    service: ServiceProcess, instrument: ServiceProcess
) -> None:
    clients, per_client = 8, 500
    with grpc.insecure_channel(service.address) as channel:
        stub = InstrumentConnectionStub(channel)
        opened = open_connection(stub, resource(instrument))
        wrong: list[tuple[str, bytes]] = []

        def ask(client: int) -> None:
            for number in range(per_client):
                question = f"client {client} question {number}"
                answer = query(stub, opened.session_id, f"DIAG:ECHO? {question}")
                if answer != question.encode():
                    wrong.append((question, answer))

        threads = [threading.Thread(target=ask, args=(client,)) for client in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        described = session_of(stub, opened.session_id)
        stub.CloseConnection(pb.CloseConnectionRequest(session_id=opened.session_id))

    assert wrong == []
    assert (described.calls, described.faults) == (clients * per_client, 0)


def test_a_batch_of_queries_is_one_exchange_answered_in_order(
    service: ServiceProcess, instrument: ServiceProcess
) -> None:
    with InstrumentConnectionClient(resource(instrument), address=service.address) as device:
        device.write("SOUR:VOLT 1.5")
        answers = device.query_many(
            ["*IDN?", "MEAS:VOLT?", *(f"DIAG:ECHO? {n}" for n in range(50))]
        )
        calls_before = device.query_many_bytes([b"*OPC?"])

    assert answers == [IDENTITY, "+1.500000E+00", *(str(n) for n in range(50))]
    assert calls_before == [b"1"]


def test_a_bad_batch_is_invalid_argument_and_a_fault_inside_one_ends_it(
    stub: InstrumentConnectionStub, instrument: ServiceProcess
) -> None:
    opened = open_connection(stub, resource(instrument), timeout_ms=300)

    def batch(commands: list[bytes]) -> object:
        return stub.QueryBatch(
            pb.QueryBatchRequest(session_id=opened.session_id, commands=commands),
            timeout=TIMEOUT,
        )

    for commands in ([], [b"*OPC?"] * 10_001):
        code, details, _ = refused(lambda commands=commands: batch(commands))
        assert code is StatusCode.INVALID_ARGUMENT and "1 to 10,000" in details
    code, _, took = refused(lambda: batch([b"*IDN?", b"*CLS", b"*IDN?"]))  # *CLS: no answer
    assert code is StatusCode.DEADLINE_EXCEEDED and took < 1.0
    assert batch([b"DIAG:ECHO? fine"]).answers == [b"fine"]  # type: ignore[attr-defined]


def test_a_call_whose_deadline_comes_while_it_waits_its_turn_sends_nothing(
    stub: InstrumentConnectionStub, instrument: ServiceProcess
) -> None:
    opened = open_connection(stub, resource(instrument))
    write(stub, opened.session_id, "DIAG:DEL 0.8")
    slow = stub.Query.future(
        pb.QueryRequest(session_id=opened.session_id, command=b"*IDN?"), timeout=TIMEOUT
    )
    time.sleep(0.1)  # the slow query has the session now

    code, _, took = refused(
        lambda: stub.Write(
            pb.WriteRequest(session_id=opened.session_id, data=b"SOUR:VOLT 7"), timeout=0.3
        )
    )
    assert code is StatusCode.DEADLINE_EXCEEDED and took < 0.6
    assert bytes(slow.result().data) == IDENTITY.encode()
    write(stub, opened.session_id, "DIAG:DEL 0")

    assert query(stub, opened.session_id, "SOUR:VOLT?") == b"+0.000000E+00"  # never set to 7


def test_a_second_query_waits_for_the_late_answer_so_the_device_is_never_talked_over(
    stub: InstrumentConnectionStub, instrument: ServiceProcess
) -> None:
    opened = open_connection(stub, resource(instrument))
    write(stub, opened.session_id, "*CLS")
    write(stub, opened.session_id, "DIAG:DEL 0.5")
    first = stub.Query.future(
        pb.QueryRequest(session_id=opened.session_id, command=b"DIAG:ECHO? first"),
        timeout=TIMEOUT,
    )
    time.sleep(0.1)  # the device owes the first answer now

    second = query(stub, opened.session_id, "DIAG:ECHO? second")

    assert (bytes(first.result().data), second) == (b"first", b"second")
    write(stub, opened.session_id, "DIAG:DEL 0")
    assert query(stub, opened.session_id, "SYST:ERR?") == NO_ERROR.encode()  # no -410


# -- faults ------------------------------------------------------------------------------------


def test_a_slow_answer_is_deadline_exceeded_and_never_read_as_the_next_one(
    stub: InstrumentConnectionStub, instrument: ServiceProcess
) -> None:
    opened = open_connection(stub, resource(instrument), timeout_ms=300)
    write(stub, opened.session_id, "DIAG:DEL 0.6")

    code, details, took = refused(lambda: query(stub, opened.session_id, "DIAG:ECHO? late"))
    assert code is StatusCode.DEADLINE_EXCEEDED
    assert "within 0.3 s" in details and took < 1.0
    assert not session_of(stub, opened.session_id).connected
    time.sleep(0.6)  # past the late answer (the device drops it: the service hung up)
    write(stub, opened.session_id, "DIAG:DEL 0")

    assert query(stub, opened.session_id, "DIAG:ECHO? next") == b"next"
    assert session_of(stub, opened.session_id).faults == 1


def test_an_answer_without_termination_is_deadline_exceeded_then_the_next_is_right(
    stub: InstrumentConnectionStub, instrument: ServiceProcess
) -> None:
    opened = open_connection(stub, resource(instrument), timeout_ms=300)
    write(stub, opened.session_id, "DIAG:NOTERM")

    code, _, took = refused(lambda: query(stub, opened.session_id, "*IDN?"))

    assert code is StatusCode.DEADLINE_EXCEEDED and took < 1.0
    assert query(stub, opened.session_id, "DIAG:ECHO? after") == b"after"


def test_garbage_is_returned_as_bytes_and_the_text_client_says_it_is_not_text(
    service: ServiceProcess, instrument: ServiceProcess
) -> None:
    with InstrumentConnectionClient(resource(instrument), address=service.address) as device:
        device.write("DIAG:GARB")
        assert device.query_bytes(b"*IDN?") == b"\xff\xfe\x00garbage\x81"
        device.write("DIAG:GARB")
        with pytest.raises(NotTextError, match="read it with read_bytes"):
            device.query("*IDN?")
        assert device.query("*IDN?") == IDENTITY


def test_a_device_that_hangs_up_is_unavailable_and_the_next_call_reconnects(
    stub: InstrumentConnectionStub, instrument: ServiceProcess
) -> None:
    opened = open_connection(stub, resource(instrument), timeout_ms=500)
    write(stub, opened.session_id, "DIAG:DISC")

    code, details, took = refused(lambda: query(stub, opened.session_id, "*IDN?"))

    assert code is StatusCode.UNAVAILABLE and "closed the connection" in details
    assert took < 1.5
    assert query(stub, opened.session_id, "*IDN?") == IDENTITY.encode()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_a_killed_device_is_unavailable_at_once_and_a_restarted_one_is_reconnected(
    stub: InstrumentConnectionStub,
) -> None:
    port = _free_port()
    device = start_simulated_instrument(port=port)
    opened = open_connection(stub, f"TCPIP0::127.0.0.1::{port}::SOCKET")
    assert query(stub, opened.session_id, "*IDN?") == IDENTITY.encode()
    device.send_signal(signal.SIGKILL)
    device.stop()

    code, details, took = refused(lambda: query(stub, opened.session_id, "*IDN?"))
    assert code is StatusCode.UNAVAILABLE and took < 1.0, details
    code, details, took = refused(lambda: query(stub, opened.session_id, "*IDN?"))
    assert code is StatusCode.UNAVAILABLE and "cannot connect" in details and took < 1.0

    restarted = start_simulated_instrument(port=port)
    try:
        assert query(stub, opened.session_id, "*IDN?") == IDENTITY.encode()
    finally:
        restarted.stop()


def test_a_refused_connection_is_unavailable_and_opens_nothing(
    stub: InstrumentConnectionStub,
) -> None:
    name = f"TCPIP0::127.0.0.1::{_free_port()}::SOCKET"

    code, details, took = refused(lambda: open_connection(stub, name))

    assert code is StatusCode.UNAVAILABLE and "cannot connect" in details and took < 1.0
    assert stub.ListSessions(pb.ListSessionsRequest(), timeout=TIMEOUT).sessions == []


def test_the_service_keeps_serving_health_while_a_call_waits_on_a_slow_device(
    service: ServiceProcess, stub: InstrumentConnectionStub, instrument: ServiceProcess
) -> None:
    opened = open_connection(stub, resource(instrument), timeout_ms=2000)
    write(stub, opened.session_id, "DIAG:DEL 1")
    slow = stub.Query.future(
        pb.QueryRequest(session_id=opened.session_id, command=b"*IDN?"), timeout=TIMEOUT
    )
    with grpc.insecure_channel(service.address) as channel:
        status = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=0.5
        )
    assert status.status == health_pb2.HealthCheckResponse.SERVING
    assert bytes(slow.result().data) == IDENTITY.encode()


# -- the client --------------------------------------------------------------------------------


def test_the_client_reports_a_slow_device_and_a_lost_one_with_typed_errors(
    service: ServiceProcess, instrument: ServiceProcess
) -> None:
    with InstrumentConnectionClient(
        resource(instrument), address=service.address, io_timeout=0.3
    ) as device:
        device.write("DIAG:DEL 0.6")
        with pytest.raises(DeviceTimeoutError):
            device.query("*IDN?")
        time.sleep(0.6)  # one client at a time: the device is busy with its late answer till then
        device.write("*RST")
        device.write("DIAG:DISC")
        with pytest.raises(DeviceUnavailableError, match="closed the connection"):
            device.query("*IDN?")
        assert device.query("*IDN?") == IDENTITY


def test_the_client_cannot_connect_to_a_missing_device(service: ServiceProcess) -> None:
    name = f"TCPIP0::127.0.0.1::{_free_port()}::SOCKET"
    with pytest.raises(DeviceUnavailableError, match="cannot connect"):
        with InstrumentConnectionClient(name, address=service.address):
            pass


# -- the pattern ---------------------------------------------------------------------------------


def test_the_service_and_its_client_pass_the_conformance_kit(service: ServiceProcess) -> None:
    """Each check opens a device of its own: a pool of simulated instruments (real sockets)."""
    with contextlib.ExitStack() as stack:
        devices = [stack.enter_context(InstrumentServer()) for _ in range(POOL * 2)]
        names = [device.resource_name for device in devices]
        spellings = [f"tcpip::LOCALHOST::{device.port}::socket" for device in devices]
        service_report = check_service(
            service.address,
            resource=names[:POOL],
            other_spelling=spellings[:POOL],
            proto_module=pb,
        )
        client_report = check_client(
            lambda name, behavior: InstrumentConnectionClient(
                name, initialization_behavior=behavior, address=service.address
            ),
            address=service.address,
            resource=names[POOL:],
            proto_module=pb,
        )

    service_report.raise_for_failures()
    client_report.raise_for_failures()
    assert "0 failed" in service_report.summary() and "skipped" not in service_report.summary()


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="counts /proc/<pid>/fd")
def test_sixty_four_connections_closed_give_their_descriptors_back(
    service: ServiceProcess, stub: InstrumentConnectionStub
) -> None:
    def descriptors() -> int:
        return len(os.listdir(f"/proc/{service.pid}/fd"))

    with contextlib.ExitStack() as stack:
        devices = [stack.enter_context(InstrumentServer()) for _ in range(65)]
        warm = open_connection(stub, devices[64].resource_name)  # the service's first use
        stub.CloseConnection(pb.CloseConnectionRequest(session_id=warm.session_id))
        before = descriptors()
        opened = [open_connection(stub, device.resource_name) for device in devices[:64]]
        answers = {query(stub, each.session_id, "*IDN?") for each in opened}
        during = descriptors()
        for each in opened:
            stub.CloseConnection(pb.CloseConnectionRequest(session_id=each.session_id))
        after = descriptors()

    assert answers == {IDENTITY.encode()}
    assert during >= before + 64
    assert after == before


# -- pyvisa-sim ------------------------------------------------------------------------------------


def test_the_service_runs_on_pyvisa_sim_from_the_shipped_yaml() -> None:
    """No socket, no hardware: the same calls against pyvisa-sim's simulated device."""
    library = f"{SIMULATED_DUT_YAML}@sim"
    service = start_connection_service(discovery=False, arguments=["--visa-library", library])
    try:
        for name in ("tcpip::dut.example::5025::socket", "asrl3::instr"):
            with InstrumentConnectionClient(
                name, address=service.address, baud_rate=115_200
            ) as device:
                device.write("SOUR:VOLT 2.5")
                assert device.query_many(["*IDN?", "MEAS:VOLT?"]) == [IDENTITY, "+2.500000E+00"]
                assert device.query("NOT:A:COMMAND?") == "ERROR"
        # pyvisa-sim opens a name it does not know (host names are case-sensitive to it) and
        # answers every read with an error status: an error at once, never a hang
        with InstrumentConnectionClient(
            "TCPIP0::DUT.EXAMPLE::5025::SOCKET", address=service.address
        ) as unknown:
            started = time.monotonic()
            with pytest.raises(DeviceUnavailableError, match="invalid"):
                unknown.query("*IDN?")
            assert time.monotonic() - started < 1.0
    finally:
        assert service.stop() == 0, service.stderr_tail


def test_a_client_killed_mid_query_leaves_the_session_usable_and_answers_in_step(
    service: ServiceProcess, stub: InstrumentConnectionStub, instrument: ServiceProcess
) -> None:
    opened = open_connection(stub, resource(instrument))
    write(stub, opened.session_id, "DIAG:DEL 0.5")
    code = (
        "import grpc, sys\n"
        "from instrument_connection import instrument_connection_pb2 as pb\n"
        "from instrument_connection.instrument_connection_pb2_grpc import "
        "InstrumentConnectionStub\n"
        f"stub = InstrumentConnectionStub(grpc.insecure_channel({service.address!r}))\n"
        "print('asking', flush=True)\n"
        f"stub.Query(pb.QueryRequest(session_id={opened.session_id!r}, "
        "command=b'DIAG:ECHO? dead client'), timeout=30)\n"
    )
    client = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert client.stdout is not None and client.stdout.readline() == "asking\n"
    time.sleep(0.2)  # its query is on the device now
    client.send_signal(signal.SIGKILL)
    client.wait(TIMEOUT)
    write(stub, opened.session_id, "DIAG:DEL 0")

    assert query(stub, opened.session_id, "DIAG:ECHO? next") == b"next"  # not the dead one's
    assert session_of(stub, opened.session_id).faults == 0
