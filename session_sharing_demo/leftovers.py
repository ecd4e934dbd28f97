"""What a demo run left behind: sessions still open on the project's services, sessions still
registered or reserved with NI's Session Management Service, instrument sessions still open on the
in-process simulated device server. Empty when every Cleanup did its job.
"""

from __future__ import annotations

from typing import Any

import grpc
from ni.measurementlink.sessionmanagement.v1.client import PinMapContext, SessionManagementClient

from hardware_lock import hardware_lock_pb2, hardware_lock_pb2_grpc
from instrument_connection import instrument_connection_pb2, instrument_connection_pb2_grpc
from json_logger import json_logger_pb2, json_logger_pb2_grpc
from results_database import results_database_pb2, results_database_pb2_grpc
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.services import Services


def leftovers(services: Services) -> list[str]:
    """Everything the run left open, held, registered or reserved."""
    found = []
    for process, stub, request, what in (
        (
            services.logger,
            json_logger_pb2_grpc.JsonLoggerStub,
            json_logger_pb2.ListSessionsRequest(),
            "log-file session",
        ),
        (
            services.results,
            results_database_pb2_grpc.ResultsDatabaseStub,
            results_database_pb2.ListSessionsRequest(),
            "database session",
        ),
        (
            services.lock,
            hardware_lock_pb2_grpc.HardwareLockStub,
            hardware_lock_pb2.ListSessionsRequest(),
            "hold",
        ),
        (
            services.connection,
            instrument_connection_pb2_grpc.InstrumentConnectionStub,
            instrument_connection_pb2.ListSessionsRequest(),
            "device connection",
        ),
    ):
        if process is not None:
            found += _open_sessions(process, stub, request, what)
    sessions = SessionManagementClient()
    with sessions.reserve_all_registered_sessions(timeout=0) as reservation:
        found += [f"registered session {info.session_name}" for info in reservation.session_info]
    try:  # every session of the pin map must be free: reserving all of them at once succeeds
        with sessions.reserve_sessions(PinMapContext(services.pin_map_id, sites=None), timeout=0):
            pass
    except grpc.RpcError as error:
        found.append(f"a session is still reserved: {error.details()}")
    return found + _open_instrument_sessions(services.local_platform)


def _open_sessions(process: ServiceProcess, stub: Any, request: Any, what: str) -> list[str]:
    with grpc.insecure_channel(process.address) as channel:
        sessions = stub(channel).ListSessions(request, timeout=10).sessions
    return [f"open {what} {s.session_id} ({s.resource_name})" for s in sessions]


def _open_instrument_sessions(platform: object | None) -> list[str]:
    """The simulated device server's open sessions, when this process runs the local platform."""
    if platform is None:
        return []
    from local_ni_platform.device_server import DeviceServerPart
    from local_ni_platform.platform import LocalPlatform

    assert isinstance(platform, LocalPlatform)
    return [
        f"open instrument session {name}"
        for part in platform.parts
        if isinstance(part, DeviceServerPart)
        for name in part.repository.names()
    ]
