"""TestStand code module: the NI-DCPower sessions the sequence's steps share.

Call ``create_nidcpower_sessions`` from a Setup step (or ProcessSetup) with the SequenceContext,
and ``destroy_nidcpower_sessions`` from a Cleanup step (or ProcessCleanup).

- Setup reserves every NI-DCPower session of the pin map, opens them on the NI gRPC Device Server
  with INITIALIZE_SESSION_THEN_DETACH (left open when the step returns) and registers them, so the
  measurement steps attach to them. If anything fails, it closes and unregisters what it opened:
  a failed Setup leaves nothing open and nothing registered.
- Cleanup reserves the registered sessions, unregisters them, then attaches to each and closes it
  (ATTACH_TO_SESSION_THEN_CLOSE). A session it cannot close is registered again, so "registered"
  always means "open" and the next Cleanup retries it; one that is not open counts as closed.

The file name is unique on purpose: TestStand resolves Python modules by file name.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc
import nidcpower
from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.sessionmanagement.v1.client import (
    INSTRUMENT_TYPE_NI_DCPOWER,
    PinMapContext,
    SessionInformation,
    SessionInitializationBehavior,
    SessionManagementClient,
)
from ni_grpc_extensions.channelpool import GrpcChannelPool

from teststand.errors import (
    RESERVATION_TIMEOUT_SECONDS,
    SessionCleanupError,
    SessionsAlreadyRegisteredError,
)
from teststand.sequence_context import SequenceContext, read_pin_map_id

DEVICE_SERVER_SERVICE_CLASS = "ni.measurementlink.v1.grpcdeviceserver"


def create_nidcpower_sessions(sequence_context: SequenceContext) -> list[str]:
    """Setup: open and register the pin map's NI-DCPower sessions; return their names."""
    pin_map_context = PinMapContext(pin_map_id=read_pin_map_id(sequence_context), sites=None)
    with (
        SessionManagementClient() as session_management,
        session_management.reserve_sessions(
            pin_map_context,
            instrument_type_id=INSTRUMENT_TYPE_NI_DCPOWER,
            timeout=RESERVATION_TIMEOUT_SECONDS,
        ) as reservation,
    ):
        sessions = list(reservation.session_info)
        registered = [info.session_name for info in sessions if info.session_exists]
        if registered:
            raise SessionsAlreadyRegisteredError("NI-DCPower", registered)
        try:
            with reservation.initialize_nidcpower_sessions(
                initialization_behavior=SessionInitializationBehavior.INITIALIZE_SESSION_THEN_DETACH
            ):
                pass
            session_management.register_sessions(sessions)
        except BaseException:
            close_nidcpower_sessions(sessions)
            session_management.unregister_sessions(sessions)
            raise
    return [info.session_name for info in sessions]


def destroy_nidcpower_sessions() -> list[str]:
    """Cleanup: unregister, attach to and close every registered NI-DCPower session."""
    with (
        SessionManagementClient() as session_management,
        session_management.reserve_all_registered_sessions(
            instrument_type_id=INSTRUMENT_TYPE_NI_DCPOWER, timeout=RESERVATION_TIMEOUT_SECONDS
        ) as reservation,
    ):
        sessions = list(reservation.session_info)
        if not sessions:
            return []
        session_management.unregister_sessions(sessions)
        not_closed = close_nidcpower_sessions(sessions)
        if not_closed:
            session_management.register_sessions([info for info, _ in not_closed])
            raise SessionCleanupError(
                "NI-DCPower", [(info.session_name, error) for info, error in not_closed]
            )
    return [info.session_name for info in sessions]


def close_nidcpower_sessions(
    sessions: Sequence[SessionInformation],
) -> list[tuple[SessionInformation, Exception]]:
    """Attach to each session on the device server and close it; return those that failed.

    A session that is not open (the device server answers FAILED_PRECONDITION) counts as closed.
    """
    failed: list[tuple[SessionInformation, Exception]] = []
    with GrpcChannelPool() as channels:
        location = DiscoveryClient(grpc_channel_pool=channels).resolve_service(
            provided_interface=nidcpower.GRPC_SERVICE_INTERFACE_NAME,
            service_class=DEVICE_SERVER_SERVICE_CLASS,
        )
        channel = channels.get_channel(location.insecure_address)
        for info in sessions:
            attach = nidcpower.GrpcSessionOptions(
                channel,
                session_name=info.session_name,
                initialization_behavior=nidcpower.SessionInitializationBehavior.ATTACH_TO_SERVER_SESSION,
            )
            try:
                session = nidcpower.Session(
                    resource_name=info.resource_name, reset=False, options={}, grpc_options=attach
                )
                session.close()
            except nidcpower.errors.RpcError as error:
                if error.rpc_code != grpc.StatusCode.FAILED_PRECONDITION:
                    failed.append((info, error))
            except Exception as error:
                failed.append((info, error))
    return failed
