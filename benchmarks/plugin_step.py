"""Where a warm measurement plug-in step spends its time: every RPC the plug-in makes, with its
share of the step, beside the floor of as many loopback round trips.

Run from the project root::

    uv run python benchmarks/plugin_step.py            # 2 x 100 warm steps of each plug-in
    uv run python benchmarks/plugin_step.py --quick    # a few steps, a smoke test

The local NI platform and the JSON Logger Service run as the demo runs them (the platform in
this process, the logger in its own); the NI-DCPower and NI-DMM plug-ins are hosted in this
process with NI's SDK, so every gRPC channel NI's clients and this project's clients open in it
can be timed: ``grpc.insecure_channel`` is wrapped (here only, for measuring) with a client
interceptor that records each call's method and duration. The step is called as TestStand and
InstrumentStudio call it (measurement v2 ``Measure``, through ``measurements.client``).

For each plug-in it prints the step's median, and per RPC method: calls per step, median time
per call, and its share of the step; then the sum of all RPC time, the channels opened and the
discovery look-ups per warm step, and the floor: as many health-check round trips to the
platform as the step makes RPCs.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

_logger = logging.getLogger("benchmarks.plugin_step")

CALLER_METHODS = ("/ni.measurementlink.measurement.v2.MeasurementService/",)
"""The benchmark's own calls of the step: not the plug-in's."""


class CallTimer(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[misc]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[misc]
    grpc.StreamUnaryClientInterceptor,  # type: ignore[misc]
):
    """Records (method, seconds) of every call made through an intercepted channel."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []
        self.channels: list[str] = []
        self._lock = threading.Lock()

    def _timed(self, method: str, call: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return call()
        finally:
            if not method.startswith(CALLER_METHODS):
                with self._lock:
                    self.calls.append((method, time.perf_counter() - started))

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        def complete() -> Any:
            outcome = continuation(details, request)
            outcome.result()  # wait for it, so its time is the round trip
            return outcome

        return self._timed(details.method, complete)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        responses = self._timed(details.method, lambda: list(continuation(details, request)))
        return iter(responses)

    def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        def complete() -> Any:
            outcome = continuation(details, requests)
            outcome.result()
            return outcome

        return self._timed(details.method, complete)

    def take(self) -> list[tuple[str, float]]:
        """The calls recorded since the last take."""
        with self._lock:
            calls, self.calls = self.calls, []
            return calls


TIMER = CallTimer()
_insecure_channel = grpc.insecure_channel


def _timed_channel(target: str, options: Any = None, compression: Any = None) -> grpc.Channel:
    with TIMER._lock:
        TIMER.channels.append(target)
    return grpc.intercept_channel(_insecure_channel(target, options, compression), TIMER)


grpc.insecure_channel = _timed_channel  # before NI's clients and ours are imported and used


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000 if values else 0.0


def floor_round_trip(address: str, count: int) -> float:
    """Median seconds of a health check on the platform's server: a loopback gRPC round trip."""
    times = []
    with _insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
        for _ in range(count):
            started = time.perf_counter()
            stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure_plugin(name: str, step: Callable[[], Any], steps: int, floor: float) -> None:
    """Warm the step up, then time ``steps`` steps and every RPC in them; print the figures."""
    for _ in range(3):
        step()
    TIMER.take()
    channels_before = len(TIMER.channels)
    durations = []
    per_method: dict[str, list[float]] = defaultdict(list)
    for _ in range(steps):
        started = time.perf_counter()
        step()
        durations.append(time.perf_counter() - started)
        for method, seconds in TIMER.take():
            per_method[method].append(seconds)
    step_ms = median_ms(durations)
    calls_per_step = sum(len(times) for times in per_method.values()) / steps
    rpc_ms = sum(sum(times) for times in per_method.values()) / steps * 1000
    print(f"{name}, warm step median : {step_ms:.2f} ms")
    for method, times in sorted(per_method.items(), key=lambda item: -sum(item[1])):
        share = sum(times) / steps * 1000 / step_ms
        print(
            f"{name}, {method.rsplit('/', 2)[-2].rsplit('.', 1)[-1]}.{method.rsplit('/', 1)[-1]} "
            f": {len(times) / steps:g} per step, {median_ms(times):.2f} ms each, {share:.0%}"
        )
    print(f"{name}, RPCs per step : {calls_per_step:g} ({rpc_ms:.2f} ms)")
    floor_ms = calls_per_step * floor * 1000
    opened = (len(TIMER.channels) - channels_before) / steps
    print(f"{name}, RPC floor ({calls_per_step:g} round trips) : {floor_ms:.2f} ms")
    print(f"{name}, channels opened per warm step : {opened:g}")
    resolves = per_method.get(
        "/ni.measurementlink.discovery.v1.DiscoveryService/ResolveService", []
    )
    print(f"{name}, discovery look-ups per warm step : {len(resolves) / steps:g}")


@contextlib.contextmanager
def running(log_path: Path) -> Iterator[tuple[str, Any, Any]]:
    """The platform and the logger as the demo runs them; both plug-ins hosted here."""
    from ni.measurementlink.sessionmanagement.v1.client import PinMapContext

    from measurements.client import MeasurementClient
    from measurements.nidcpower_with_logger import measurement as dcpower
    from measurements.nidmm_with_logger import measurement as dmm
    from session_sharing_demo.programs import start_logger_service
    from session_sharing_demo.services import register_pin_map, start_ni_platform

    with contextlib.ExitStack() as stack:
        start_ni_platform(stack)
        from local_ni_platform.platform import running_discovery_address

        address = running_discovery_address()
        assert address is not None
        pin_map_id = register_pin_map(stack, log_path)
        logger = start_logger_service()
        stack.callback(logger.stop)
        stack.enter_context(dcpower.measurement_service.host_service())
        stack.enter_context(dmm.measurement_service.host_service())
        context = PinMapContext(pin_map_id=pin_map_id, sites=[0])
        dcpower_client = stack.enter_context(
            MeasurementClient(dcpower.measurement_service.service_info.service_class)
        )
        dmm_client = stack.enter_context(
            MeasurementClient(dmm.measurement_service.service_info.service_class)
        )
        yield (
            address,
            lambda: dcpower_client.measure(context),
            lambda: dmm_client.measure(context),
        )


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few steps (smoke test)")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    steps = 5 if arguments.quick else 100
    print(
        f"Plug-in step benchmark ({'quick' if arguments.quick else 'full'} run): Python "
        f"{platform.python_version()}, grpcio {grpc.__version__}, {os.cpu_count()} CPUs, "
        f"{steps} warm steps per plug-in"
    )
    with (
        tempfile.TemporaryDirectory(prefix="plugin-step-") as folder,
        running(Path(folder) / "steps.ndjson") as (address, dcpower_step, dmm_step),
    ):
        floor = floor_round_trip(address, 200)
        print(f"loopback round trip (health check) median : {floor * 1000:.3f} ms")
        measure_plugin("NI-DCPower", dcpower_step, steps, floor)
        measure_plugin("NI-DMM", dmm_step, steps, floor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
