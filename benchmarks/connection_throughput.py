"""Queries through the Instrument Connection Service beside PyVISA talking to the same instrument
directly, measured in the same run: the direct figure is the ceiling, and direct plus one gRPC
round trip to the service (also measured) is what a service adding nothing else would reach.

Run from the project root::

    uv run python benchmarks/connection_throughput.py           # 3,000 queries each way
    uv run python benchmarks/connection_throughput.py --quick   # 200, a smoke test

The instrument is the simulated SCPI instrument in its own process (``DIAGnostic:ECHO?``, which
answers at once), on a raw TCP socket, through pyvisa-py; it takes one client at a time, so the
two ways are measured one after the other. Through the service: one client, then four clients
sharing the session (their queries take turns on the one connection; every answer is checked to
be its own question's), and one client sending QueryBatch calls of 100 queries. Everything binds
127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import threading
import time

import grpc
import pyvisa

from instrument_connection import instrument_connection_pb2 as pb
from instrument_connection.instrument_connection_pb2_grpc import InstrumentConnectionStub
from session_sharing_demo.programs import start_connection_service, start_simulated_instrument

_logger = logging.getLogger("benchmarks.connection_throughput")
BATCH = 100


def resource_of(address: str) -> str:
    """The VISA resource string of the simulated instrument at ``host:port``."""
    host, port = address.rsplit(":", 1)
    return f"TCPIP0::{host}::{port}::SOCKET"


def direct(resource: str, count: int) -> float:
    """Queries per second from PyVISA (pyvisa-py) to the instrument, no service between."""
    manager = pyvisa.ResourceManager("@py")
    device = manager.open_resource(resource, read_termination="\n", write_termination="\n")
    try:
        device.query("*IDN?")  # connected and warm
        started = time.perf_counter()
        for number in range(count):
            answer = device.query(f"DIAG:ECHO? {number}")
            if answer != str(number):
                raise AssertionError(f"query {number} got {answer!r}")
        return count / (time.perf_counter() - started)
    finally:
        device.close()
        manager.close()


def open_session(stub: InstrumentConnectionStub, resource: str) -> str:
    """A new session of the instrument's connection; its id."""
    return stub.OpenConnection(
        pb.OpenConnectionRequest(
            resource_name=resource,
            session_initialization_behavior=pb.SESSION_INITIALIZATION_BEHAVIOR_INITIALIZE_NEW,
        ),
        timeout=10,
    ).session_id


def through_service(address: str, resource: str, count: int, clients: int) -> float:
    """Queries per second through the service, ``clients`` threads sharing one session."""
    with grpc.insecure_channel(address) as channel:
        stub = InstrumentConnectionStub(channel)
        session_id = open_session(stub, resource)
        wrong: list[str] = []

        def ask(client: int) -> None:
            for number in range(count // clients):
                question = f"{client}-{number}".encode()
                answer = stub.Query(
                    pb.QueryRequest(session_id=session_id, command=b"DIAG:ECHO? " + question),
                    timeout=10,
                ).data
                if answer != question:
                    wrong.append(f"{question!r} got {answer!r}")

        ask(-1)  # warm
        threads = [threading.Thread(target=ask, args=(client,)) for client in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        stub.CloseConnection(pb.CloseConnectionRequest(session_id=session_id), timeout=10)
    if wrong:
        raise AssertionError(f"{len(wrong)} answers were not their question's: {wrong[:3]}")
    return clients * (count // clients) / seconds


def batched(address: str, resource: str, count: int, size: int) -> float:
    """Queries per second through the service in QueryBatch calls of ``size`` queries."""
    with grpc.insecure_channel(address) as channel:
        stub = InstrumentConnectionStub(channel)
        session_id = open_session(stub, resource)
        started = time.perf_counter()
        for first in range(0, count, size):
            questions = [f"{number}".encode() for number in range(first, first + size)]
            answers = stub.QueryBatch(
                pb.QueryBatchRequest(
                    session_id=session_id, commands=[b"DIAG:ECHO? " + q for q in questions]
                ),
                timeout=30,
            ).answers
            if list(answers) != questions:
                raise AssertionError(f"a batch from query {first} got other answers")
        seconds = time.perf_counter() - started
        stub.CloseConnection(pb.CloseConnectionRequest(session_id=session_id), timeout=10)
    return count // size * size / seconds


def round_trip_ms(address: str, count: int) -> float:
    """Median of ``count`` ListSessions calls: one loopback gRPC round trip to this service."""
    with grpc.insecure_channel(address) as channel:
        stub = InstrumentConnectionStub(channel)
        stub.ListSessions(pb.ListSessionsRequest(), timeout=10)  # connect first
        times = []
        for _ in range(count):
            started = time.perf_counter()
            stub.ListSessions(pb.ListSessionsRequest(), timeout=10)
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def run(count: int, quick: bool) -> None:
    """Measure both ways and print the figures."""
    print(
        f"Instrument connection benchmark ({'quick' if quick else 'full'} run): Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, {count:,} queries each"
    )
    with (
        start_simulated_instrument() as instrument,
        start_connection_service(discovery=False) as service,
    ):
        resource = resource_of(instrument.address)
        ceiling = direct(resource, count)
        print(f"PyVISA direct, 1 client             : {ceiling:8,.0f} queries/s (the ceiling)")
        trip = round_trip_ms(service.address, count)
        floor = 1 / (1 / ceiling + trip / 1000)
        print(
            f"direct + one gRPC round trip       : {floor:8,.0f} queries/s "
            f"({floor / ceiling:.2f} x direct; a round trip is {trip:.3f} ms)"
        )
        for clients in (1, 4):
            rate = through_service(service.address, resource, count, clients)
            print(
                f"through the service, {clients} client{'s' if clients > 1 else ' '}     : "
                f"{rate:8,.0f} queries/s ({rate / ceiling:.2f} x direct)"
            )
        rate = batched(service.address, resource, count, BATCH)
        print(
            f"through the service, batches of {BATCH}: {rate:8,.0f} queries/s "
            f"({rate / ceiling:.2f} x direct)"
        )
        print("every answer was its own question's")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    run(200 if arguments.quick else 3000, arguments.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
