"""The Session Management Service as a part of the local platform."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from ni.measurementlink.sessionmanagement.v1 import session_management_service_pb2_grpc

from local_ni_platform.parts import HostedService, PlatformPart
from local_ni_platform.pinmap.part import PinMapPart
from local_ni_platform.pinmap.store import PinMapStore
from local_ni_platform.session_management.records import MultiplexerRecord, SessionRecord
from local_ni_platform.session_management.registry import SessionRegistry
from local_ni_platform.session_management.reservations import (
    DEFAULT_CANCEL_CHECK_INTERVAL,
    DEFAULT_MAX_WAITING_CALLS,
    ReservationManager,
)
from local_ni_platform.session_management.servicer import (
    SERVICE_NAME,
    SessionManagementServicer,
)


class SessionManagementPart:
    """Hosts :class:`SessionManagementServicer` against the pin maps of ``store``.

    Reservations and registrations start empty each time the part is added to a server, so a
    restarted platform never inherits reservations whose holders are gone. At most
    ``max_waiting_calls`` reserve calls wait at once (the part's wait budget, see
    :mod:`local_ni_platform.waits`); one more that would wait is refused with
    ``RESOURCE_EXHAUSTED``.
    """

    def __init__(
        self,
        store: PinMapStore,
        *,
        cancel_check_interval: float = DEFAULT_CANCEL_CHECK_INTERVAL,
        max_waiting_calls: int = DEFAULT_MAX_WAITING_CALLS,
    ) -> None:
        """Reserve against ``store`` (share it with the :class:`PinMapPart`)."""
        self._store = store
        self._cancel_check_interval = cancel_check_interval
        self._max_waiting_calls = max_waiting_calls
        self._reservations = self._new_reservations()
        self._sessions: SessionRegistry[SessionRecord] = SessionRegistry("session")
        self._multiplexers: SessionRegistry[MultiplexerRecord] = SessionRegistry(
            "multiplexer session"
        )

    @property
    def store(self) -> PinMapStore:
        """The pin maps sessions are derived from."""
        return self._store

    @property
    def max_waiting_calls(self) -> int:
        """Reserve calls that may wait at once; the platform keeps this many threads for them."""
        return self._max_waiting_calls

    @property
    def reservations(self) -> ReservationManager:
        """Current reservations (for diagnostics and tests)."""
        return self._reservations

    @property
    def sessions(self) -> SessionRegistry[SessionRecord]:
        """Registered sessions (for diagnostics and tests)."""
        return self._sessions

    def add_to_server(self, server: grpc.Server) -> Sequence[HostedService]:
        """Add the servicer (with fresh state) to ``server``; return how to announce it."""
        self._reservations = self._new_reservations()
        self._sessions = SessionRegistry("session")
        self._multiplexers = SessionRegistry("multiplexer session")
        session_management_service_pb2_grpc.add_SessionManagementServiceServicer_to_server(
            SessionManagementServicer(
                self._store, self._reservations, self._sessions, self._multiplexers
            ),
            server,
        )
        return [
            HostedService(
                grpc_service_name=SERVICE_NAME,
                display_name="Local Session Management Service",
                service_class=SERVICE_NAME,
                provided_interfaces=(SERVICE_NAME,),
            )
        ]

    def stop(self) -> None:
        """Fail waiting reservations with UNAVAILABLE ("shutting down"); idempotent."""
        self._reservations.stop()

    def _new_reservations(self) -> ReservationManager:
        return ReservationManager(
            cancel_check_interval=self._cancel_check_interval,
            max_waiting_calls=self._max_waiting_calls,
        )


def pin_map_and_session_management_parts(
    *,
    cancel_check_interval: float = DEFAULT_CANCEL_CHECK_INTERVAL,
    max_waiting_calls: int = DEFAULT_MAX_WAITING_CALLS,
) -> list[PlatformPart]:
    """A Pin Map part and a Session Management part sharing one pin-map store.

    ``cancel_check_interval`` bounds how long a waiting reservation may miss the end of its RPC
    if gRPC's termination callback did not wake it (tests raise it to prove the callback works);
    ``max_waiting_calls`` is Session Management's budget of waiting reserve calls.
    """
    store = PinMapStore()
    return [
        PinMapPart(store),
        SessionManagementPart(
            store,
            cancel_check_interval=cancel_check_interval,
            max_waiting_calls=max_waiting_calls,
        ),
    ]
