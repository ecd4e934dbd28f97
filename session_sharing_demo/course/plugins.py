"""Notebook 4, *Both measurement plug-ins*: call them as InstrumentStudio does, read the shared log.

Every table is built from what the running services answer (the Session Management Service for
the pin map, the plug-ins through the measurement v2 API, the JSON Logger Service's
``ListSessions``) or from the log file itself. Session ids are random; tables number them in order
of appearance (``#1``, ``#2``) so a reader sees which records share a session.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import grpc
from ni.measurementlink.sessionmanagement.v1.client import PinMapContext, SessionManagementClient

from json_logger import json_logger_pb2, json_logger_pb2_grpc
from measurements.client import MeasurementClient
from session_core.process import ServiceProcess
from session_sharing_demo.course.markdown import markdown_table
from session_sharing_demo.services import plugin
from teststand.runner import format_value

SITES = [0]
"""The pin map's one site, as InstrumentStudio sends it."""


def processes_table(logger: ServiceProcess | None, plugins: Mapping[str, ServiceProcess]) -> str:
    """The services the notebook started: what each runs, where, and whether in its own process."""
    services = {"JSON Logger Service": logger} if logger is not None else {}
    services.update(plugins)
    rows = [
        (
            name,
            f"`python -m {process.module}`",
            process.address,
            "yes" if process.pid != os.getpid() else "no",
        )
        for name, process in services.items()
    ]
    return markdown_table(("service", "runs", "address", "own process"), rows)


def pin_map_sessions(pin_map_id: str) -> str:
    """The sessions the Session Management Service derives from the pin map, one row per pin.

    They are reserved for a moment (as a measurement does) and released at once.
    """
    with SessionManagementClient().reserve_sessions(
        PinMapContext(pin_map_id=pin_map_id, sites=SITES), timeout=10.0
    ) as reservation:
        infos = list(reservation.session_info)
    rows = [
        (
            mapping.pin_or_relay_name,
            "all (system pin)" if mapping.site < 0 else mapping.site,
            f"`{info.instrument_type_id}`",
            info.resource_name,
            mapping.channel,
        )
        for info in infos
        for mapping in info.channel_mappings
    ]
    return markdown_table(("pin", "site", "instrument type", "resource name", "channel"), rows)


def measure(pin_map_id: str, display_name: str, **configurations: Any) -> dict[str, Any]:
    """Run the plug-in named ``display_name`` once through the measurement v2 API.

    Configurations not given keep the plug-in's defaults; returns the outputs by name.
    """
    context = PinMapContext(pin_map_id=pin_map_id, sites=SITES)
    with MeasurementClient(plugin(display_name).service_class) as client:
        return client.measure(context, **configurations)


def outputs_table(outputs: Mapping[str, Any]) -> str:
    """A measurement's outputs as a table of names and values."""
    return markdown_table(
        ("output", "value"), ((f"`{k}`", format_value(v)) for k, v in outputs.items())
    )


def session_numbers(records: Iterable[Mapping[str, object]]) -> dict[str, int]:
    """Number each session id in order of first appearance: ``{id: 1, other id: 2}``."""
    numbers: dict[str, int] = {}
    for record in records:
        numbers.setdefault(str(record.get("session_id")), len(numbers) + 1)
    return numbers


def log_table(records: Sequence[Mapping[str, object]]) -> str:
    """The log's records: who wrote each, through which session, what it measured.

    Configurations and outputs are listed in key order (JSON object order in the file follows
    the protobuf map, which is not stable from run to run).
    """
    numbers = session_numbers(records)
    rows = [
        (
            index,
            record.get("measurement_name"),
            f"#{numbers[str(record.get('session_id'))]} `{record.get('session_id')}`",
            _fields(record.get("measurement_configurations")),
            _fields(record.get("measurement_outputs")),
        )
        for index, record in enumerate(records, start=1)
    ]
    return markdown_table(("line", "written by", "session", "configurations", "outputs"), rows)


def sessions_summary(records: Sequence[Mapping[str, object]]) -> str:
    """How many records went through how many sessions."""
    count = len(session_numbers(records))
    through = "one session" if count == 1 else f"{count} different sessions"
    return f"{len(records)} record(s) in one file, written through {through}"


def open_log_sessions(logger_address: str) -> list[json_logger_pb2.SessionDescription]:
    """The log-file sessions the JSON Logger Service has open (its ``ListSessions`` RPC)."""
    with grpc.insecure_channel(logger_address) as channel:
        stub = json_logger_pb2_grpc.JsonLoggerStub(channel)
        response = stub.ListSessions(json_logger_pb2.ListSessionsRequest(), timeout=10.0)
    return list(response.sessions)


def open_sessions_summary(logger_address: str) -> str:
    """``ListSessions`` in words: none open, or each open session."""
    sessions = open_log_sessions(logger_address)
    if not sessions:
        return "ListSessions: no log-file session is open"
    lines = [f"ListSessions: {len(sessions)} open log-file session(s)"]
    lines += [f"  {s.session_id} {s.resource_name} ({s.records_written} records)" for s in sessions]
    return "\n".join(lines)


def _fields(value: object) -> str:
    if not isinstance(value, Mapping):
        return format_value(value)
    return ", ".join(f"{key}={value[key]}" for key in sorted(value))
