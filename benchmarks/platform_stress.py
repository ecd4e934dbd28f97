"""Abandoned waits against the local NI platform: do the other stand-ins still answer at once?

Run from the project root::

    uv run python benchmarks/platform_stress.py           # full run (~5 s)
    uv run python benchmarks/platform_stress.py --quick   # tiny run, a smoke test

The platform runs in its own process (``python -m local_ni_platform``, private state folder,
loopback only); this process is the client. Every figure is printed beside its ceiling, measured
in the same run on the same platform with no waiting call:

- discovery ``ResolveService`` and health ``Check`` latency (p50/p99, ms, one call at a time, from
  a client connection of its own) with 64 abandoned waits of each waiting kind parked on the
  server — NI-DCPower ``WaitForEventWithChannels`` without a driver timeout and
  ``ReserveSessions`` with timeout -1 on a held session; of each 64, a third are cancelled by
  their caller, a third pass a 200 ms deadline and a third simply keep waiting — against the same
  calls with no waiter;
- ``UnreserveSessions`` latency while reservation waiters wait for the session (each unreserve
  hands it to one waiter, and a new waiter takes that one's place), and how long after the
  unreserve that waiter has its answer, against unreserve with nobody waiting;
- refusing ``InitializeWithIndependentChannels`` of ``DCPower1/0-1000000`` (one million channels
  on a 4-channel instrument): the parse alone in this process, and the init round trip, against
  a valid ``DCPower1/0-3``.

Bounded: a fixed count of calls per figure, every call with a deadline; the run ends by
cancelling every waiter and stopping the platform.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import session_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ni.measurementlink.discovery.v1 import discovery_service_pb2 as discovery_pb2
from ni.measurementlink.discovery.v1 import discovery_service_pb2_grpc as discovery_pb2_grpc
from ni.measurementlink.pinmap.v1.client import PinMapClient
from ni.measurementlink.sessionmanagement.v1 import session_management_service_pb2 as sm_pb2
from ni.measurementlink.sessionmanagement.v1 import (
    session_management_service_pb2_grpc as sm_pb2_grpc,
)
from ni.measurementlink.sessionmanagement.v1.client import PinMapContext
from nidcpower import nidcpower_pb2 as dcpower_pb2
from nidcpower import nidcpower_pb2_grpc as dcpower_pb2_grpc

from session_sharing_demo.programs import local_platform_process

SESSION_MANAGEMENT = "ni.measurementlink.sessionmanagement.v1.SessionManagementService"
CALL_TIMEOUT = 10.0
WAITS_PER_KIND = 64
SHORT_DEADLINE = 0.2
SOURCE_COMPLETE = 1030
HUGE_RANGE = "DCPower1/0-1000000"
OWN_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]

PIN_MAP = """<?xml version="1.0" encoding="utf-8"?>
<PinMap schemaVersion="1.6" xmlns="http://www.ni.com/TestStand/SemiconductorModule/PinMap.xsd">
  <Instruments><NIDmmInstrument name="DMM1" /></Instruments>
  <Pins><DUTPin name="Pin1" /></Pins>
  <Sites><Site siteNumber="0" /></Sites>
  <Connections><Connection pin="Pin1" siteNumber="0" instrument="DMM1" channel="0" /></Connections>
</PinMap>
"""


@dataclass(frozen=True)
class Latency:
    """Median and 99th percentile of a series of calls, in seconds."""

    p50: float
    p99: float

    @classmethod
    def of(cls, samples: list[float]) -> Latency:
        if len(samples) < 2:
            return cls(samples[0], samples[0])
        return cls(
            statistics.median(samples),
            statistics.quantiles(samples, n=100, method="inclusive")[98],
        )

    def __str__(self) -> str:
        digits = 3 if self.p99 < 0.001 else 2
        return f"p50 {self.p50 * 1000:.{digits}f} ms, p99 {self.p99 * 1000:.{digits}f} ms"


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def latency(call: Callable[[], object], count: int) -> Latency:
    call()  # warm-up
    return Latency.of([timed(call) for _ in range(count)])


class Stress:
    """The platform's stubs, on the waiters' connection and on a probe connection of its own."""

    def __init__(self, address: str, pin_map_id: str) -> None:
        self.waiters_channel = grpc.insecure_channel(address, options=OWN_CONNECTION)
        self.probe_channel = grpc.insecure_channel(address, options=OWN_CONNECTION)
        self.context = PinMapContext(pin_map_id=pin_map_id, sites=[0])
        self.dcpower = dcpower_pb2_grpc.NiDCPowerStub(self.waiters_channel)
        self.sessions = sm_pb2_grpc.SessionManagementServiceStub(self.waiters_channel)
        self.probe_dcpower = dcpower_pb2_grpc.NiDCPowerStub(self.probe_channel)
        self.probe_sessions = sm_pb2_grpc.SessionManagementServiceStub(self.probe_channel)
        self.discovery = discovery_pb2_grpc.DiscoveryServiceStub(self.probe_channel)
        self.health = health_pb2_grpc.HealthStub(self.probe_channel)
        self.waiters: list[grpc.Future] = []

    def close(self) -> None:
        for future in self.waiters:
            future.cancel()
        self.waiters_channel.close()
        self.probe_channel.close()

    # --- calls -----------------------------------------------------------------------------------

    def resolve(self) -> None:
        self.discovery.ResolveService(
            discovery_pb2.ResolveServiceRequest(
                provided_interface=SESSION_MANAGEMENT, service_class=SESSION_MANAGEMENT
            ),
            timeout=CALL_TIMEOUT,
        )

    def check_health(self) -> None:
        self.health.Check(health_pb2.HealthCheckRequest(service=""), timeout=CALL_TIMEOUT)

    def reserve_request(self, timeout_ms: int) -> sm_pb2.ReserveSessionsRequest:
        return sm_pb2.ReserveSessionsRequest(
            pin_map_context=self.context._to_grpc(),
            pin_or_relay_names=["Pin1"],
            timeout_in_milliseconds=timeout_ms,
        )

    def reserve(self) -> Any:
        response = self.probe_sessions.ReserveSessions(
            self.reserve_request(0), timeout=CALL_TIMEOUT
        )
        return response.sessions

    def unreserve(self, sessions: Any) -> None:
        self.probe_sessions.UnreserveSessions(
            sm_pb2.UnreserveSessionsRequest(sessions=sessions), timeout=CALL_TIMEOUT
        )

    def init_dcpower(self, name: str, resource: str) -> None:
        self.probe_dcpower.InitializeWithIndependentChannels(
            dcpower_pb2.InitializeWithIndependentChannelsRequest(
                session_name=name, resource_name=resource
            ),
            timeout=CALL_TIMEOUT,
        )

    def close_dcpower(self, name: str) -> None:
        self.probe_dcpower.Close(
            dcpower_pb2.CloseRequest(vi=session_pb2.Session(name=name)), timeout=CALL_TIMEOUT
        )

    def refused_init(self) -> None:
        try:
            self.init_dcpower("huge", HUGE_RANGE)
        except grpc.RpcError as error:
            if dict(error.trailing_metadata() or ()).get("ni-error") is None:
                raise
        else:
            raise RuntimeError(f"{HUGE_RANGE} was accepted.")

    # --- waiters ---------------------------------------------------------------------------------

    def event_wait(self, timeout: float | None) -> grpc.Future:
        request = dcpower_pb2.WaitForEventWithChannelsRequest(
            vi=session_pb2.Session(name="stress"),
            channel_name="",
            event_id_raw=SOURCE_COMPLETE,
            timeout=-1.0,
        )
        future: grpc.Future = self.dcpower.WaitForEventWithChannels.future(request, timeout=timeout)
        self.waiters.append(future)
        return future

    def reservation_wait(self, timeout: float | None = None) -> grpc.Future:
        future: grpc.Future = self.sessions.ReserveSessions.future(
            self.reserve_request(-1), timeout=timeout
        )
        self.waiters.append(future)
        return future

    def park_abandoned_waits(self) -> list[grpc.Future]:
        """64 waits of each kind: a third cancelled, a third past a deadline, a third kept.

        Returns the kept reservation waits.
        """
        third = WAITS_PER_KIND // 3
        kept: list[grpc.Future] = []
        for wait in (self.event_wait, self.reservation_wait):
            cancelled = [wait(None) for _ in range(WAITS_PER_KIND - 2 * third)]
            for _ in range(third):
                wait(SHORT_DEADLINE)
            kept = [wait(None) for _ in range(third)]
            time.sleep(0.05)
            for future in cancelled:
                future.cancel()
        time.sleep(SHORT_DEADLINE + 0.3)  # every deadline has passed
        return kept


def measure(stress: Stress, samples: int) -> list[tuple[str, str, str]]:
    figures: list[tuple[str, str, str]] = []
    stress.init_dcpower("stress", "DCPower1/0")

    # Ceilings: nothing waits.
    resolve_ceiling = latency(stress.resolve, samples)
    health_ceiling = latency(stress.check_health, samples)

    def reserve_then_time_unreserve() -> float:
        sessions = stress.reserve()
        return timed(lambda: stress.unreserve(sessions))

    reserve_then_time_unreserve()
    unreserve_ceiling = Latency.of([reserve_then_time_unreserve() for _ in range(samples)])
    reserve_ceiling = latency(lambda: stress.unreserve(stress.reserve()), samples)

    # 2 x 64 abandoned waits, the held session's waiters among them.
    held = stress.reserve()
    waiting = stress.park_abandoned_waits()
    waits = f"with {2 * WAITS_PER_KIND} abandoned waits"
    figures.append(
        (f"discovery resolve, {waits}", str(latency(stress.resolve, samples)), str(resolve_ceiling))
    )
    figures.append(
        (
            f"health check, {waits}",
            str(latency(stress.check_health, samples)),
            str(health_ceiling),
        )
    )

    # Unreserve while the kept reservation waiters wait: each hands the session to one of them.
    unreserves: list[float] = []
    handovers: list[float] = []
    for _ in range(samples):
        released = time.perf_counter()
        stress.unreserve(held)
        unreserves.append(time.perf_counter() - released)
        winner = next_done(waiting, CALL_TIMEOUT)
        handovers.append(time.perf_counter() - released)
        waiting.remove(winner)
        held = winner.result().sessions
        waiting.append(stress.reservation_wait())
    count = len(waiting)
    figures.append(
        (
            f"unreserve, {count} reservation waiters",
            str(Latency.of(unreserves)),
            str(unreserve_ceiling),
        )
    )
    figures.append(
        (
            f"unreserve to a waiter's answer, {count} waiters",
            str(Latency.of(handovers)),
            f"{reserve_ceiling} (reserve+unreserve)",
        )
    )
    stress.unreserve(held)

    # One million channels on a 4-channel instrument, refused.
    from local_ni_platform.device_server.dcpower_channels import ChannelTable
    from local_ni_platform.device_server.errors import DriverError

    def parse(resource: str) -> Callable[[], object]:
        def run() -> None:
            with contextlib.suppress(DriverError):
                ChannelTable.independent_channels(resource, 4)

        return run

    figures.append(
        (
            f"parse {HUGE_RANGE} (refused)",
            str(latency(parse(HUGE_RANGE), samples)),
            f"{latency(parse('DCPower1/0-3'), samples)} (DCPower1/0-3)",
        )
    )

    def valid_init() -> None:
        stress.init_dcpower("valid", "DCPower1/0-3")
        stress.close_dcpower("valid")

    figures.append(
        (
            f"init {HUGE_RANGE} (refused), {waits}",
            str(latency(stress.refused_init, samples)),
            f"{latency(valid_init, samples)} (init+close DCPower1/0-3)",
        )
    )
    return figures


def next_done(futures: list[grpc.Future], timeout: float) -> grpc.Future:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        for future in futures:
            if future.done():
                return future
        time.sleep(0.0002)
    raise TimeoutError("No reservation waiter got the released session.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    samples = 20 if parser.parse_args(argv).quick else 200

    from local_ni_platform.activation import activate

    with tempfile.TemporaryDirectory(prefix="platform-stress-") as folder:
        os.environ["NI_LOCAL_PLATFORM_DIR"] = folder
        activate()
        platform = local_platform_process(Path(folder))
        platform.start()
        try:
            pin_map_path = Path(folder) / "stress.pinmap"
            pin_map_path.write_text(PIN_MAP, encoding="utf-8")
            pin_map_id = PinMapClient().update_pin_map(pin_map_path)
            address = platform_address(folder)
            stress = Stress(address, pin_map_id)
            try:
                figures = measure(stress, samples)
            finally:
                stress.close()
        finally:
            platform.stop()
    print(
        f"Local NI platform stress: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"{samples} calls per figure"
    )
    width = max(len(label) for label, _, _ in figures)
    for label, value, ceiling in figures:
        print(f"{label:<{width}} : {value}   (ceiling, nothing waiting: {ceiling})")
    return 0


def platform_address(folder: str) -> str:
    from local_ni_platform.platform import running_discovery_address

    address = running_discovery_address(Path(folder))
    if address is None:
        raise RuntimeError("The local platform is not running.")
    return address


if __name__ == "__main__":
    raise SystemExit(main())
