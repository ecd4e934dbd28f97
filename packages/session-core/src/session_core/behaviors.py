"""The behaviours: the three a server knows, NI's five a client uses, and when a client closes.

A served resource's ``.proto`` declares the three server behaviours with these numbers
(UNSPECIFIED = 0, INITIALIZE_NEW = 1, ATTACH_TO_EXISTING = 2). Detaching (leave the session open)
and closing on exit are the client's job, decided here in one place for every client.
"""

from __future__ import annotations

import enum

from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior

from session_core.errors import InvalidArgumentError


class InitializationBehavior(enum.IntEnum):
    """The three server-side behaviours (the values of each contract's proto enum)."""

    UNSPECIFIED = 0
    """Attach to the open session of the resource, or create one."""
    INITIALIZE_NEW = 1
    """Create a session; fail ALREADY_EXISTS if one is open."""
    ATTACH_TO_EXISTING = 2
    """Attach to the open session; fail NOT_FOUND if there is none."""

    @classmethod
    def from_wire(cls, value: int) -> InitializationBehavior:
        """Convert a received enum number, refusing values this server does not know."""
        try:
            return cls(value)
        except ValueError:
            known = ", ".join(f"{member.value} ({member.name})" for member in cls)
            raise InvalidArgumentError(
                f"unknown session_initialization_behavior {value}; expected one of {known}"
            ) from None


SERVER_BEHAVIOR: dict[SessionInitializationBehavior, InitializationBehavior] = {
    SessionInitializationBehavior.AUTO: InitializationBehavior.UNSPECIFIED,
    SessionInitializationBehavior.INITIALIZE_SERVER_SESSION: InitializationBehavior.INITIALIZE_NEW,
    SessionInitializationBehavior.ATTACH_TO_SERVER_SESSION: (
        InitializationBehavior.ATTACH_TO_EXISTING
    ),
    SessionInitializationBehavior.INITIALIZE_SESSION_THEN_DETACH: (
        InitializationBehavior.INITIALIZE_NEW
    ),
    SessionInitializationBehavior.ATTACH_TO_SESSION_THEN_CLOSE: (
        InitializationBehavior.ATTACH_TO_EXISTING
    ),
}
"""NI's five client behaviours onto the three a server knows (the 5 → 3 map)."""


def server_behavior(behavior: SessionInitializationBehavior) -> InitializationBehavior:
    """The server behaviour to send for an NI client behaviour."""
    try:
        return SERVER_BEHAVIOR[SessionInitializationBehavior(behavior)]
    except (KeyError, ValueError):
        raise ValueError(f"unsupported session initialization behavior: {behavior!r}") from None


def closes_on_exit(behavior: SessionInitializationBehavior, *, created: bool, failed: bool) -> bool:
    """Whether leaving the client's context closes the server session.

    ``created``: this client's initialize call created the session. ``failed``: an exception is
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
