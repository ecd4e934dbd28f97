"""gRPC face of the local Session Management Service.

``ni.measurementlink.sessionmanagement.v1.SessionManagementService``: translates requests into
pin-map queries (:func:`~local_ni_platform.pinmap.resources.query_resource_access` decides which
sessions serve which pins), reservations and registrations, and errors into the status codes
NI's proto documents.

Annotations: sessions returned by ReserveSessions and ReserveAllRegisteredSessions carry the
request's annotations (the ``ni/reserved.*`` keys NI's client sends), on top of the annotations
the session was registered with, if it is registered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import grpc
import session_pb2
from ni.measurementlink.sessionmanagement.v1 import session_management_service_pb2 as pb2
from ni.measurementlink.sessionmanagement.v1 import session_management_service_pb2_grpc as pb2_grpc

from local_ni_platform.pinmap.errors import (
    PinMapNotFoundError,
    UnknownPinOrRelayError,
    UnknownSiteError,
)
from local_ni_platform.pinmap.resources import (
    MultiplexerAccess,
    ResourceAccess,
    ResourceAccessResult,
    query_resource_access,
)
from local_ni_platform.pinmap.store import PinMapStore
from local_ni_platform.session_management.errors import (
    InvalidRequestError,
    RequestCancelledError,
    RequestDeadlineExceededError,
    SessionAlreadyRegisteredError,
    SessionsUnavailableError,
)
from local_ni_platform.session_management.records import (
    MultiplexerRecord,
    SessionRecord,
    session_name,
)
from local_ni_platform.session_management.registry import SessionRegistry
from local_ni_platform.session_management.reservations import ReservationManager, check_timeout
from local_ni_platform.status import StatusByError, call_with_status
from local_ni_platform.waits import WaitBudgetExhaustedError

SERVICE_NAME: str = pb2.DESCRIPTOR.services_by_name["SessionManagementService"].full_name
"""Full gRPC name of the service; also the interface and class NI's client resolves."""

_STATUS_BY_ERROR: StatusByError = {
    PinMapNotFoundError: grpc.StatusCode.NOT_FOUND,
    UnknownSiteError: grpc.StatusCode.INVALID_ARGUMENT,
    UnknownPinOrRelayError: grpc.StatusCode.INVALID_ARGUMENT,
    InvalidRequestError: grpc.StatusCode.INVALID_ARGUMENT,
    SessionAlreadyRegisteredError: grpc.StatusCode.ALREADY_EXISTS,
    SessionsUnavailableError: grpc.StatusCode.UNAVAILABLE,
    RequestDeadlineExceededError: grpc.StatusCode.DEADLINE_EXCEEDED,
    RequestCancelledError: grpc.StatusCode.CANCELLED,
    WaitBudgetExhaustedError: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


class SessionManagementServicer(pb2_grpc.SessionManagementServiceServicer):
    """Serves reservations and registrations over NI's Session Management protocol."""

    def __init__(
        self,
        store: PinMapStore,
        reservations: ReservationManager,
        sessions: SessionRegistry[SessionRecord],
        multiplexers: SessionRegistry[MultiplexerRecord],
    ) -> None:
        """Derive sessions from the pin maps in ``store``; keep state in the other arguments."""
        self._store = store
        self._reservations = reservations
        self._sessions = sessions
        self._multiplexers = multiplexers

    # --- Reservation ------------------------------------------------------------------------

    def ReserveSessions(  # noqa: N802 - gRPC method name
        self, request: pb2.ReserveSessionsRequest, context: grpc.ServicerContext
    ) -> pb2.ReserveSessionsResponse:
        """Reserve the sessions serving the requested pins and sites, all or nothing."""
        access = call_with_status(context, _STATUS_BY_ERROR, lambda: self._plan(request))
        records = [
            SessionRecord(
                name=session_name(resource.instrument_type_id, resource.resource_name),
                resource_name=resource.resource_name,
                instrument_type_id=resource.instrument_type_id,
                annotations=request.annotations,
            )
            for resource in access.resources
        ]
        call_with_status(
            context,
            _STATUS_BY_ERROR,
            lambda: self._reserve(records, request.timeout_in_milliseconds, context),
        )
        return pb2.ReserveSessionsResponse(
            sessions=[
                self._reserved_session(record, resource)
                for record, resource in zip(records, access.resources, strict=True)
            ],
            multiplexer_sessions=[
                self._multiplexer_session(multiplexer) for multiplexer in access.multiplexers
            ],
            group_mappings={
                name: pb2.ResolvedPinsOrRelays(pin_or_relay_names=members)
                for name, members in access.group_mappings.items()
            },
        )

    def UnreserveSessions(  # noqa: N802 - gRPC method name
        self, request: pb2.UnreserveSessionsRequest, context: grpc.ServicerContext
    ) -> pb2.UnreserveSessionsResponse:
        """Release sessions; empty lists and unknown or unreserved sessions are harmless."""
        self._reservations.unreserve(info.session.name for info in request.sessions)
        return pb2.UnreserveSessionsResponse()

    def ReserveAllRegisteredSessions(  # noqa: N802 - gRPC method name
        self, request: pb2.ReserveAllRegisteredSessionsRequest, context: grpc.ServicerContext
    ) -> pb2.ReserveAllRegisteredSessionsResponse:
        """Reserve the registered sessions of a type ("" = all); channel lists are empty."""
        call_with_status(
            context, _STATUS_BY_ERROR, lambda: check_timeout(request.timeout_in_milliseconds)
        )
        type_id = request.instrument_type_id
        records = [
            SessionRecord(
                name=registered.name,
                resource_name=registered.resource_name,
                instrument_type_id=registered.instrument_type_id,
                annotations=request.annotations,
            )
            for registered in self._sessions.all()
            if not type_id or registered.instrument_type_id == type_id
        ]
        call_with_status(
            context,
            _STATUS_BY_ERROR,
            lambda: self._reserve(records, request.timeout_in_milliseconds, context),
        )
        return pb2.ReserveAllRegisteredSessionsResponse(
            sessions=[self._reserved_session(record, None) for record in records]
        )

    # --- Registration -----------------------------------------------------------------------

    def RegisterSessions(  # noqa: N802 - gRPC method name
        self, request: pb2.RegisterSessionsRequest, context: grpc.ServicerContext
    ) -> pb2.RegisterSessionsResponse:
        """Record sessions as open (ALREADY_EXISTS / INVALID_ARGUMENT; all or nothing)."""
        records = [
            SessionRecord(
                name=info.session.name,
                resource_name=info.resource_name,
                instrument_type_id=info.instrument_type_id,
                annotations=info.annotations,
            )
            for info in request.sessions
        ]
        call_with_status(context, _STATUS_BY_ERROR, lambda: self._sessions.register(records))
        return pb2.RegisterSessionsResponse()

    def UnregisterSessions(  # noqa: N802 - gRPC method name
        self, request: pb2.UnregisterSessionsRequest, context: grpc.ServicerContext
    ) -> pb2.UnregisterSessionsResponse:
        """Record sessions as closed; unknown names are ignored."""
        self._sessions.unregister(info.session.name for info in request.sessions)
        return pb2.UnregisterSessionsResponse()

    def GetSessions(  # noqa: N802 - gRPC method name
        self, request: pb2.GetSessionsRequest, context: grpc.ServicerContext
    ) -> pb2.GetSessionsResponse:
        """Registered and reserved sessions (registered first), and registered multiplexers."""
        by_name: dict[str, SessionRecord] = {record.name: record for record in self._sessions.all()}
        for record in self._reservations.reserved():
            by_name.setdefault(record.name, record)
        type_id = request.instrument_type_id
        mux_type_id = request.multiplexer_type_id
        return pb2.GetSessionsResponse(
            sessions=[
                pb2.SessionInformation(
                    session=session_pb2.Session(name=record.name),
                    resource_name=record.resource_name,
                    instrument_type_id=record.instrument_type_id,
                    session_exists=record.name in self._sessions,
                    session_reserved=self._reservations.is_reserved(record.name),
                    annotations=record.annotations,
                )
                for record in by_name.values()
                if not type_id or record.instrument_type_id == type_id
            ],
            multiplexer_sessions=[
                _multiplexer_info(record, session_exists=True)
                for record in self._multiplexers.all()
                if not mux_type_id or record.multiplexer_type_id == mux_type_id
            ],
        )

    # --- Multiplexers -----------------------------------------------------------------------

    def RegisterMultiplexerSessions(  # noqa: N802 - gRPC method name
        self, request: pb2.RegisterMultiplexerSessionsRequest, context: grpc.ServicerContext
    ) -> pb2.RegisterMultiplexerSessionsResponse:
        """Record multiplexer sessions as open (ALREADY_EXISTS / INVALID_ARGUMENT)."""
        records = [
            MultiplexerRecord(
                name=info.session.name,
                resource_name=info.resource_name,
                multiplexer_type_id=info.multiplexer_type_id,
                annotations=info.annotations,
            )
            for info in request.multiplexer_sessions
        ]
        call_with_status(context, _STATUS_BY_ERROR, lambda: self._multiplexers.register(records))
        return pb2.RegisterMultiplexerSessionsResponse()

    def UnregisterMultiplexerSessions(  # noqa: N802 - gRPC method name
        self, request: pb2.UnregisterMultiplexerSessionsRequest, context: grpc.ServicerContext
    ) -> pb2.UnregisterMultiplexerSessionsResponse:
        """Record multiplexer sessions as closed; unknown names are ignored."""
        self._multiplexers.unregister(info.session.name for info in request.multiplexer_sessions)
        return pb2.UnregisterMultiplexerSessionsResponse()

    def GetMultiplexerSessions(  # noqa: N802 - gRPC method name
        self, request: pb2.GetMultiplexerSessionsRequest, context: grpc.ServicerContext
    ) -> pb2.GetMultiplexerSessionsResponse:
        """Multiplexers wired to the pin map's pins on the given sites (nothing is reserved)."""
        context_message = request.pin_map_context

        def query() -> ResourceAccessResult:
            pin_map = self._store.get(context_message.pin_map_id)
            return query_resource_access(pin_map, sites=list(context_message.sites))

        access = call_with_status(context, _STATUS_BY_ERROR, query)
        return pb2.GetMultiplexerSessionsResponse(
            multiplexer_sessions=[
                self._multiplexer_session(multiplexer)
                for multiplexer in access.multiplexers
                if not request.multiplexer_type_id
                or multiplexer.multiplexer_type_id == request.multiplexer_type_id
            ]
        )

    def GetAllRegisteredMultiplexerSessions(  # noqa: N802 - gRPC method name
        self,
        request: pb2.GetAllRegisteredMultiplexerSessionsRequest,
        context: grpc.ServicerContext,
    ) -> pb2.GetAllRegisteredMultiplexerSessionsResponse:
        """Registered multiplexer sessions of a type ("" = all)."""
        type_id = request.multiplexer_type_id
        return pb2.GetAllRegisteredMultiplexerSessionsResponse(
            multiplexer_sessions=[
                _multiplexer_info(record, session_exists=True)
                for record in self._multiplexers.all()
                if not type_id or record.multiplexer_type_id == type_id
            ]
        )

    # --- Helpers ----------------------------------------------------------------------------

    def _plan(self, request: pb2.ReserveSessionsRequest) -> ResourceAccessResult:
        """Validate a reserve request and find the resources it needs (nothing is reserved)."""
        check_timeout(request.timeout_in_milliseconds)
        if not request.pin_map_context.pin_map_id:
            # As NI's service: no pin map, nothing to reserve. The client then reports "No
            # sessions reserved." where a session is needed.
            return ResourceAccessResult(resources=(), multiplexers=(), group_mappings={})
        pin_map = self._store.get(request.pin_map_context.pin_map_id)
        return query_resource_access(
            pin_map,
            sites=list(request.pin_map_context.sites),
            pin_or_relay_names=list(request.pin_or_relay_names),
            instrument_type_id=request.instrument_type_id,
        )

    def _reserve(
        self, records: Sequence[SessionRecord], timeout: int, context: grpc.ServicerContext
    ) -> None:
        """Reserve for an RPC; stop waiting as soon as the RPC ends, and never leak sessions."""
        # The context is the waiter's caller: its end (cancel, deadline) ends the wait at once.
        self._reservations.reserve(records, timeout, caller=context)
        if not context.is_active():
            self._reservations.unreserve(record.name for record in records)
            raise RequestCancelledError(
                "The request ended before the reservation could be returned; it was released."
            )

    def _reserved_session(
        self, record: SessionRecord, resource: ResourceAccess | None
    ) -> pb2.SessionInformation:
        """A reserved session as returned to the client (no channels for ``resource`` None)."""
        registered = self._sessions.get(record.name)
        annotations: Mapping[str, str] = {
            **(registered.annotations if registered is not None else {}),
            **record.annotations,
        }
        return pb2.SessionInformation(
            session=session_pb2.Session(name=record.name),
            resource_name=record.resource_name,
            channel_list=resource.channel_list if resource is not None else "",
            instrument_type_id=record.instrument_type_id,
            session_exists=registered is not None,
            session_reserved=True,
            channel_mappings=[]
            if resource is None
            else [
                pb2.ChannelMapping(
                    pin_or_relay_name=mapping.pin_or_relay_name,
                    site=mapping.site,
                    channel=mapping.channel,
                    multiplexer_resource_name=mapping.multiplexer_resource_name,
                    multiplexer_route=mapping.multiplexer_route,
                )
                for mapping in resource.channel_mappings
            ],
            annotations=annotations,
        )

    def _multiplexer_session(
        self, multiplexer: MultiplexerAccess
    ) -> pb2.MultiplexerSessionInformation:
        """A pin-map multiplexer, named by its resource name; registration decides existence."""
        registered = self._multiplexers.get(multiplexer.resource_name)
        if registered is not None:
            return _multiplexer_info(registered, session_exists=True)
        return _multiplexer_info(
            MultiplexerRecord(
                name=multiplexer.resource_name,
                resource_name=multiplexer.resource_name,
                multiplexer_type_id=multiplexer.multiplexer_type_id,
            ),
            session_exists=False,
        )


def _multiplexer_info(
    record: MultiplexerRecord, *, session_exists: bool
) -> pb2.MultiplexerSessionInformation:
    return pb2.MultiplexerSessionInformation(
        session=session_pb2.Session(name=record.name),
        resource_name=record.resource_name,
        multiplexer_type_id=record.multiplexer_type_id,
        session_exists=session_exists,
        annotations=record.annotations,
    )
