"""Throughput of the local NI platform, driven through NI's unchanged clients.

Run from the project root::

    uv run python benchmarks/platform_throughput.py           # full run (~15 s)
    uv run python benchmarks/platform_throughput.py --quick   # tiny run, a smoke test

The platform runs in its own process (``python -m local_ni_platform``, private state folder);
this process is the client. It prints, one ``<label> : <value>`` line each:

- reserve+unreserve round trips/s (``SessionManagementClient.reserve_session`` then leaving its
  ``with``), from 1 client, and from 4 clients each on its own session;
- device-simulator calls/s: ``nidcpower`` ``measure_multiple()`` on one channel and ``nidmm``
  ``read()``, each through an attached session of the simulated NI gRPC Device Server.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import nidcpower
import nidmm
from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.pinmap.v1.client import PinMapClient
from ni.measurementlink.sessionmanagement.v1.client import PinMapContext, SessionManagementClient

from session_sharing_demo.programs import local_platform_process

DEVICE_SERVER_CLASS = "ni.measurementlink.v1.grpcdeviceserver"
CLIENTS = 4

PIN_MAP = """<?xml version="1.0" encoding="utf-8"?>
<PinMap schemaVersion="1.6" xmlns="http://www.ni.com/TestStand/SemiconductorModule/PinMap.xsd">
  <Instruments>{dmms}</Instruments>
  <Pins>{pins}</Pins>
  <Sites><Site siteNumber="0" /></Sites>
  <Connections>{connections}</Connections>
</PinMap>
"""


def write_pin_map(path: Path) -> None:
    """One DMM per client, so clients reserve separate sessions."""
    indexes = range(1, CLIENTS + 1)
    path.write_text(
        PIN_MAP.format(
            dmms="".join(f'<NIDmmInstrument name="DMM{i}" />' for i in indexes),
            pins="".join(f'<DUTPin name="Pin{i}" />' for i in indexes),
            connections="".join(
                f'<Connection pin="Pin{i}" siteNumber="0" instrument="DMM{i}" channel="0" />'
                for i in indexes
            ),
        ),
        encoding="utf-8",
    )


def rate(clients: int, duration: float, work: Callable[[int], None]) -> float:
    """Calls/s of ``work(client_index)`` looped by ``clients`` threads for ``duration`` s."""
    start = threading.Barrier(clients)

    def loop(index: int) -> int:
        work(index)  # warm-up call (opens channels)
        start.wait()
        count, deadline = 0, time.perf_counter() + duration
        while time.perf_counter() < deadline:
            work(index)
            count += 1
        return count

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        counts = list(pool.map(loop, range(clients)))
    return sum(counts) / (time.perf_counter() - began)


def device_server_address() -> str:
    location = DiscoveryClient().resolve_service(
        provided_interface=nidcpower.GRPC_SERVICE_INTERFACE_NAME, service_class=DEVICE_SERVER_CLASS
    )
    return location.insecure_address


def measure_reservations(pin_map_id: str, duration: float) -> dict[str, float]:
    sessions = SessionManagementClient()
    context = PinMapContext(pin_map_id=pin_map_id, sites=[0])

    def reserve_and_unreserve(index: int) -> None:
        with sessions.reserve_session(context, f"Pin{index + 1}", timeout=10.0):
            pass

    return {
        "reserve+unreserve, 1 client": rate(1, duration, reserve_and_unreserve),
        f"reserve+unreserve, {CLIENTS} clients": rate(CLIENTS, duration, reserve_and_unreserve),
    }


def measure_device_calls(duration: float) -> dict[str, float]:
    with grpc.insecure_channel(device_server_address()) as channel:
        dcpower_options = nidcpower.GrpcSessionOptions(channel, "benchmark-dcpower")
        dmm_options = nidmm.GrpcSessionOptions(channel, "benchmark-dmm")
        with (
            nidcpower.Session(
                "DCPower1/0", reset=False, options={}, grpc_options=dcpower_options
            ) as dcpower,
            nidmm.Session("DMM1", reset_device=False, options={}, grpc_options=dmm_options) as dmm,
        ):
            dcpower.output_function = nidcpower.OutputFunction.DC_VOLTAGE
            dcpower.voltage_level = 1.0
            dmm.configure_measurement_digits(nidmm.Function.DC_VOLTS, 10.0, 5.5)
            with dcpower.initiate():
                return {
                    "nidcpower measure_multiple()": rate(
                        1, duration, lambda _: dcpower.measure_multiple()
                    ),
                    "nidmm read()": rate(1, duration, lambda _: dmm.read()),
                }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    duration = 0.3 if parser.parse_args(argv).quick else 3.0

    from local_ni_platform.activation import activate

    with tempfile.TemporaryDirectory(prefix="platform-benchmark-") as folder:
        os.environ["NI_LOCAL_PLATFORM_DIR"] = folder
        activate()
        platform = local_platform_process(Path(folder))
        platform.start()
        try:
            pin_map_path = Path(folder) / "benchmark.pinmap"
            write_pin_map(pin_map_path)
            pin_map_id = PinMapClient().update_pin_map(pin_map_path)
            figures = {
                **measure_reservations(pin_map_id, duration),
                **measure_device_calls(duration),
            }
        finally:
            platform.stop()
    print(f"Local NI platform benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    width = max(len(label) for label in figures)
    for label, value in figures.items():
        print(f"{label:<{width}} : {value:,.0f} calls/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
