"""How NI's five client-side behaviours map onto the service's three, and when a client closes.

The server knows only UNSPECIFIED / INITIALIZE_NEW / ATTACH_TO_EXISTING; detaching (leave open)
and closing on exit are the client's job, decided here in one place.
"""

from __future__ import annotations

from typing import TypeAlias

from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior

from json_logger import json_logger_pb2

ServerBehavior: TypeAlias = json_logger_pb2.SessionInitializationBehavior.ValueType

SERVER_BEHAVIOR: dict[SessionInitializationBehavior, ServerBehavior] = {
    SessionInitializationBehavior.AUTO: json_logger_pb2.SESSION_INITIALIZATION_BEHAVIOR_UNSPECIFIED,
    SessionInitializationBehavior.INITIALIZE_SERVER_SESSION: (
        json_logger_pb2.SESSION_INITIALIZATION_BEHAVIOR_INITIALIZE_NEW
    ),
    SessionInitializationBehavior.ATTACH_TO_SERVER_SESSION: (
        json_logger_pb2.SESSION_INITIALIZATION_BEHAVIOR_ATTACH_TO_EXISTING
    ),
    SessionInitializationBehavior.INITIALIZE_SESSION_THEN_DETACH: (
        json_logger_pb2.SESSION_INITIALIZATION_BEHAVIOR_INITIALIZE_NEW
    ),
    SessionInitializationBehavior.ATTACH_TO_SESSION_THEN_CLOSE: (
        json_logger_pb2.SESSION_INITIALIZATION_BEHAVIOR_ATTACH_TO_EXISTING
    ),
}


def server_behavior(behavior: SessionInitializationBehavior) -> ServerBehavior:
    """The server behaviour to send for an NI client behaviour."""
    try:
        return SERVER_BEHAVIOR[SessionInitializationBehavior(behavior)]
    except (KeyError, ValueError):
        raise ValueError(f"unsupported session initialization behavior: {behavior!r}") from None


def closes_on_exit(behavior: SessionInitializationBehavior, *, created: bool, failed: bool) -> bool:
    """Whether leaving the client's context closes the server session.

    ``created``: this client's InitializeFile created the session. ``failed``: an exception is
    leaving the context. A session a failed setup created (THEN_DETACH) is closed rather than
    orphaned: nobody will register it, so nobody would close it.
    """
    if behavior in (
        SessionInitializationBehavior.INITIALIZE_SERVER_SESSION,
        SessionInitializationBehavior.ATTACH_TO_SESSION_THEN_CLOSE,
    ):
        return True
    if behavior is SessionInitializationBehavior.AUTO:
        return created
    if behavior is SessionInitializationBehavior.INITIALIZE_SESSION_THEN_DETACH:
        return created and failed
    return False
