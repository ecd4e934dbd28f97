"""Setup and Cleanup of the sessions a TestStand sequence shares, once for every instrument type.

The ``teststand_*.py`` code modules call :func:`create_sessions` from Setup steps and
:func:`destroy_sessions` from Cleanup steps; measurement steps in between reserve the registered
sessions and attach to them (``session_exists`` is True) instead of opening their own.

Setup (one instrument type)
    Reserve every session of the type in the pin map (all pins, all sites), initialize each with
    INITIALIZE_SESSION_THEN_DETACH (created on the server, left open when the step returns) and
    register them while still reserved, so no step can reserve a session that is open but not yet
    registered. Registration means "open, and someone must close it".

    If anything fails once sessions may be open (a later session fails to initialize, or
    registration fails), every session of the reservation is attached to and closed (one that is
    not open counts as closed) and unregistered, and the error is re-raised: a failed Setup
    leaves nothing open and nothing registered. NI's driver helpers wrap THEN_DETACH sessions in
    ``nullcontext``, so without this a failure on session k would leave sessions 0..k-1 open on
    the device server with nobody to close them. Because every session of the reservation is
    closed, a failed Setup also closes an unregistered session left open under one of these names
    by a crashed earlier run (the reason it failed with ALREADY_EXISTS); the next Setup then
    succeeds. Sessions that are already *registered* belong to another Setup that succeeded:
    Setup refuses to start then (:class:`SessionsAlreadyRegisteredError`) instead of touching them.

Cleanup (one instrument type)
    Reserve all registered sessions of the type, then for each session: unregister it, then
    attach to it and close it (ATTACH_TO_SESSION_THEN_CLOSE). Whichever half fails, the session
    ends either registered and open or unregistered and closed:

    - unregistering fails: the session is not closed, so it stays registered and open;
    - closing fails with a real error: it is registered again, so it stays registered and open
      and the next Cleanup retries it; a session that was not open counts as closed.

    Closing first and unregistering second (as ASM's modules do) leaves a registered but closed
    session whenever unregistering fails, and later steps then trust a session that is gone. The
    other sessions are still handled; one :class:`SessionCleanupError` at the end names every
    session that failed. If the process dies between unregistering and closing, the session is
    left open and unregistered: the next Setup's INITIALIZE_NEW fails on it and its roll-back
    closes it (see above).

Timeouts
    Both reservations wait at most :data:`SETUP_RESERVATION_TIMEOUT_SECONDS` /
    :data:`CLEANUP_RESERVATION_TIMEOUT_SECONDS` (10 s). Not 0 (the SDK's default for
    ``reserve_sessions``), which fails at once if a measurement step of another socket holds a
    session for a moment; not -1 (infinite), which turns a reservation left behind by an aborted
    run into a hang instead of an error (NI's own Cleanup default became 10 s for that reason,
    measurement-plugin-python #682).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import grpc
import nidcpower
import nidmm
from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.sessionmanagement.v1.client import (
    INSTRUMENT_TYPE_NI_DCPOWER,
    INSTRUMENT_TYPE_NI_DMM,
    MultiSessionReservation,
    PinMapContext,
    SessionInformation,
    SessionInitializationBehavior,
    SessionManagementClient,
    TypedSessionInformation,
)
from ni_grpc_extensions.channelpool import GrpcChannelPool

from logger_client import (
    JSON_LOGGER_INSTRUMENT_TYPE,
    JsonLoggerClient,
    JsonLoggerSessionConstructor,
)
from results_client import (
    RESULTS_DATABASE_INSTRUMENT_TYPE,
    ResultsDatabaseClient,
    ResultsDatabaseSessionConstructor,
)
from session_core.client import SessionClient
from teststand.sequence_context import SequenceContext, read_pin_map_id

_logger = logging.getLogger(__name__)

SETUP_RESERVATION_TIMEOUT_SECONDS = 10.0
"""How long Setup waits to reserve the sessions of one instrument type."""

CLEANUP_RESERVATION_TIMEOUT_SECONDS = 10.0
"""How long Cleanup waits to reserve the registered sessions of one instrument type."""

DEVICE_SERVER_SERVICE_CLASS = "ni.measurementlink.v1.grpcdeviceserver"
"""The service class NI's SDK resolves the NI gRPC Device Server by."""

Behavior = SessionInitializationBehavior

SessionCloser = Callable[[SessionInformation], bool]
"""Attach to one named session and close it; False if it was not open (nothing to close)."""


@dataclass(frozen=True)
class InstrumentSessions:
    """How to open and close the shared sessions of one instrument type."""

    instrument_type_id: str
    """The pin map's instrument type id."""
    display_name: str
    """For messages."""
    initialize_then_detach: Callable[
        [MultiSessionReservation], AbstractContextManager[Sequence[TypedSessionInformation[Any]]]
    ]
    """Open every reserved session of the type with INITIALIZE_SESSION_THEN_DETACH."""
    attach_then_close: Callable[[], AbstractContextManager[SessionCloser]]
    """A closer of single sessions, with whatever connection it needs for its lifetime."""


class SessionsAlreadyRegisteredError(RuntimeError):
    """Setup found sessions that another Setup registered and nobody has cleaned up."""


@dataclass(frozen=True)
class SessionFailure:
    """One session Cleanup could not close."""

    session_name: str
    action: str
    error: Exception


class SessionCleanupError(RuntimeError):
    """Cleanup could not close some sessions; each is still registered (or could not be)."""

    def __init__(self, display_name: str, failures: Sequence[SessionFailure]) -> None:
        self.failures = list(failures)
        listed = "; ".join(
            f"{failure.session_name} ({failure.action}: {_describe(failure.error)})"
            for failure in self.failures
        )
        super().__init__(
            f"Cleanup could not close {len(self.failures)} {display_name} session(s): {listed}"
        )


def create_sessions(
    sequence_context: SequenceContext,
    kind: InstrumentSessions,
    *,
    client: SessionManagementClient | None = None,
    timeout: float = SETUP_RESERVATION_TIMEOUT_SECONDS,
) -> list[TypedSessionInformation[Any]]:
    """Setup: open and register every session of ``kind`` in the execution's pin map.

    Returns the opened sessions' information (``session`` holds the detached client object).
    On failure nothing stays open or registered (see the module docstring) and the error is
    re-raised.
    """
    pin_map_id = read_pin_map_id(sequence_context)
    with (
        _session_management(client) as sessions,
        sessions.reserve_sessions(
            PinMapContext(pin_map_id=pin_map_id, sites=None),
            instrument_type_id=kind.instrument_type_id,
            timeout=timeout,
        ) as reservation,
    ):
        reserved = list(reservation.session_info)
        already = [info.session_name for info in reserved if info.session_exists]
        if already:
            raise SessionsAlreadyRegisteredError(
                f"{kind.display_name} session(s) {', '.join(already)} are already registered "
                "by another Setup: run Cleanup first, or create the sessions once per process "
                "in ProcessSetup (batch and parallel process models)"
            )
        try:
            with kind.initialize_then_detach(reservation) as opened:
                sessions.register_sessions(reservation.session_info)
                created = list(opened)
        except BaseException as error:
            _roll_back(sessions, kind, reserved, error)
            raise
    _logger.info(
        "Setup opened and registered %s session(s): %s.",
        kind.display_name,
        ", ".join(info.session_name for info in created),
    )
    return created


def destroy_sessions(
    kind: InstrumentSessions,
    *,
    client: SessionManagementClient | None = None,
    timeout: float = CLEANUP_RESERVATION_TIMEOUT_SECONDS,
) -> list[str]:
    """Cleanup: unregister and close every registered session of ``kind``.

    Returns the names of the sessions handled (closed, or found already closed). Raises
    :class:`SessionCleanupError` naming every session it could not close, after trying them all.
    """
    handled: list[str] = []
    failures: list[SessionFailure] = []
    with (
        _session_management(client) as sessions,
        sessions.reserve_all_registered_sessions(
            instrument_type_id=kind.instrument_type_id, timeout=timeout
        ) as reservation,
    ):
        registered = list(reservation.session_info)
        if not registered:
            _logger.info("Cleanup: no registered %s sessions.", kind.display_name)
            return handled
        with kind.attach_then_close() as close:
            for info in registered:
                failure = _unregister_and_close(sessions, close, info)
                if failure is None:
                    handled.append(info.session_name)
                else:
                    failures.append(failure)
    if failures:
        raise SessionCleanupError(kind.display_name, failures)
    _logger.info(
        "Cleanup closed and unregistered %s session(s): %s.",
        kind.display_name,
        ", ".join(handled),
    )
    return handled


def _unregister_and_close(
    sessions: SessionManagementClient, close: SessionCloser, info: SessionInformation
) -> SessionFailure | None:
    """Unregister, then close; re-register if closing fails, so registered keeps meaning open."""
    try:
        sessions.unregister_sessions([info])
    except Exception as error:
        _logger.warning("Could not unregister %s; leaving it open.", info.session_name)
        return SessionFailure(info.session_name, "unregister", error)
    try:
        if not close(info):
            _logger.info("%s was not open; unregistered it.", info.session_name)
    except Exception as error:
        try:
            sessions.register_sessions([info])
        except Exception:
            _logger.exception(
                "%s could not be closed nor registered again: it is open but unregistered.",
                info.session_name,
            )
            return SessionFailure(info.session_name, "close, then register again", error)
        _logger.warning("Could not close %s; registered it again.", info.session_name)
        return SessionFailure(info.session_name, "close", error)
    return None


def _roll_back(
    sessions: SessionManagementClient,
    kind: InstrumentSessions,
    reserved: Sequence[SessionInformation],
    error: BaseException,
) -> None:
    """Close and unregister every session a failed Setup may have opened; never raise.

    A session that cannot be closed is not unregistered: if Setup registered it, Cleanup will
    retry it. What cannot be undone is logged and noted on ``error``.
    """
    if not reserved:
        return
    problems: list[str] = []
    unregister = list(reserved)
    try:
        with kind.attach_then_close() as close:
            for info in reserved:
                try:
                    if close(info):
                        _logger.info("Setup failed: closed %s.", info.session_name)
                except Exception as close_error:
                    unregister.remove(info)
                    problems.append(f"could not close {info.session_name}: {close_error}")
    except Exception as connect_error:
        unregister = []
        problems.append(f"could not reach the {kind.display_name} sessions: {connect_error}")
    try:
        if unregister:
            sessions.unregister_sessions(unregister)
    except Exception as unregister_error:
        problems.append(f"could not unregister the sessions: {unregister_error}")
    for problem in problems:
        _logger.error("Roll-back of the failed %s Setup: %s", kind.display_name, problem)
        if sys.version_info >= (3, 11):
            error.add_note(f"Roll-back: {problem}")


@contextlib.contextmanager
def _session_management(
    client: SessionManagementClient | None,
) -> Iterator[SessionManagementClient]:
    """The caller's client, or one of our own whose channels are closed afterwards."""
    if client is not None:
        yield client
        return
    with SessionManagementClient() as own:
        yield own


def _describe(error: BaseException) -> str:
    if isinstance(error, grpc.RpcError):
        return f"{error.code().name}: {error.details()}"
    return f"{type(error).__name__}: {error}"


# -- NI-DCPower and NI-DMM --------------------------------------------------------------------


@contextlib.contextmanager
def _device_server_closer(
    driver: Any, attach: Callable[[grpc.Channel, SessionInformation], Any]
) -> Iterator[SessionCloser]:
    """Close named driver sessions on the NI gRPC Device Server, over one channel."""
    with GrpcChannelPool() as pool:
        location = DiscoveryClient(grpc_channel_pool=pool).resolve_service(
            provided_interface=driver.GRPC_SERVICE_INTERFACE_NAME,
            service_class=DEVICE_SERVER_SERVICE_CLASS,
        )
        channel = pool.get_channel(location.insecure_address)

        def close(info: SessionInformation) -> bool:
            try:
                session = attach(channel, info)
            except driver.errors.RpcError as error:
                if error.rpc_code == grpc.StatusCode.FAILED_PRECONDITION:
                    return False  # "Cannot attach ... because a session has not been initialized."
                raise
            session.close()
            return True

        yield close


def _attach_nidcpower(channel: grpc.Channel, info: SessionInformation) -> Any:
    return nidcpower.Session(
        resource_name=info.resource_name,
        reset=False,
        options={},
        grpc_options=nidcpower.GrpcSessionOptions(
            channel,
            session_name=info.session_name,
            initialization_behavior=nidcpower.SessionInitializationBehavior.ATTACH_TO_SERVER_SESSION,
        ),
    )


def _attach_nidmm(channel: grpc.Channel, info: SessionInformation) -> Any:
    return nidmm.Session(
        resource_name=info.resource_name,
        reset_device=False,
        options={},
        grpc_options=nidmm.GrpcSessionOptions(
            channel,
            session_name=info.session_name,
            initialization_behavior=nidmm.SessionInitializationBehavior.ATTACH_TO_SERVER_SESSION,
        ),
    )


NIDCPOWER = InstrumentSessions(
    instrument_type_id=INSTRUMENT_TYPE_NI_DCPOWER,
    display_name="NI-DCPower",
    initialize_then_detach=lambda reservation: reservation.initialize_nidcpower_sessions(
        initialization_behavior=Behavior.INITIALIZE_SESSION_THEN_DETACH
    ),
    attach_then_close=lambda: _device_server_closer(nidcpower, _attach_nidcpower),
)
"""The NI-DCPower sessions of the pin map (one per channel group)."""

NIDMM = InstrumentSessions(
    instrument_type_id=INSTRUMENT_TYPE_NI_DMM,
    display_name="NI-DMM",
    initialize_then_detach=lambda reservation: reservation.initialize_nidmm_sessions(
        initialization_behavior=Behavior.INITIALIZE_SESSION_THEN_DETACH
    ),
    attach_then_close=lambda: _device_server_closer(nidmm, _attach_nidmm),
)
"""The NI-DMM sessions of the pin map (one per instrument)."""


# -- JSON logger and results database ------------------------------------------------------


@contextlib.contextmanager
def _session_service_closer(
    client_type: type[SessionClient[Any]],
    before_close: Callable[[Any], None] | None = None,
) -> Iterator[SessionCloser]:
    """Close sessions of a session service, resolved through one discovery client.

    ``before_close`` runs on the attached client first (the results database commits or rolls
    back there); a session that is not open counts as closed.
    """
    with GrpcChannelPool() as pool:
        discovery = DiscoveryClient(grpc_channel_pool=pool)

        def close(info: SessionInformation) -> bool:
            try:
                with client_type(
                    info.resource_name,
                    initialization_behavior=Behavior.ATTACH_TO_SESSION_THEN_CLOSE,
                    discovery_client=discovery,
                ) as client:
                    if before_close is not None:
                        before_close(client)
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.NOT_FOUND:
                    return False
                raise
            return True

        yield close


JSON_LOGGER = InstrumentSessions(
    instrument_type_id=JSON_LOGGER_INSTRUMENT_TYPE,
    display_name="JSON logger",
    initialize_then_detach=lambda reservation: reservation.initialize_sessions(
        JsonLoggerSessionConstructor(Behavior.INITIALIZE_SESSION_THEN_DETACH),
        JSON_LOGGER_INSTRUMENT_TYPE,
    ),
    attach_then_close=lambda: _session_service_closer(JsonLoggerClient),
)
"""The log-file sessions of the pin map (one per logger instrument, i.e. per file)."""


def results_database(*, commit: bool) -> InstrumentSessions:
    """The results database sessions of the pin map (one per database).

    Cleanup with ``commit=True`` (the run passed) commits each session's transaction before
    closing it: every row of the run becomes visible together. With ``commit=False`` (a step
    failed) it rolls back, so nothing of the run is left. A failed Setup's roll-back closes
    without committing, which rolls back too.
    """

    def end_transaction(client: ResultsDatabaseClient) -> None:
        count = client.commit() if commit else client.rollback()
        _logger.info(
            "%s %d row(s) of %s.",
            "Committed" if commit else "Rolled back",
            count,
            client.resource_name,
        )

    return InstrumentSessions(
        instrument_type_id=RESULTS_DATABASE_INSTRUMENT_TYPE,
        display_name="results database",
        initialize_then_detach=lambda reservation: reservation.initialize_sessions(
            ResultsDatabaseSessionConstructor(Behavior.INITIALIZE_SESSION_THEN_DETACH),
            RESULTS_DATABASE_INSTRUMENT_TYPE,
        ),
        attach_then_close=lambda: _session_service_closer(ResultsDatabaseClient, end_transaction),
    )
