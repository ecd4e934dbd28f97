"""The rules the kit checks: the guide's words, what each protects against, and a hint.

One :class:`Rule` per row of a report. The server rules come from the guide's pseudo-code for the
initialize and close APIs; the client rules from its 5 → 3 map and its ``__exit__``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior


@dataclass(frozen=True)
class Rule:
    """One rule of the pattern."""

    id: str
    statement: str
    """The rule, as the guide gives it."""
    protects: str
    """What goes wrong for users when it is broken."""
    hint: str
    """Where to look when it fails."""
    required: bool = True
    """A broken advisory rule is reported as advice; the report still passes."""


def _rule(rule_id: str, statement: str, protects: str, hint: str, required: bool = True) -> Rule:
    return Rule(rule_id, statement, protects, hint, required)


NEW_CREATES = _rule(
    "new-creates",
    "INITIALIZE_NEW with no open session creates one: a session_id, new_session_initialized true.",
    "TestStand Setup must be able to open the resource.",
    "create the session when none is open and set `new_session_initialized = True`",
)
NEW_REFUSES_OPEN = _rule(
    "new-refuses-open",
    "INITIALIZE_NEW while a session of the resource is open fails ALREADY_EXISTS.",
    "Two setups opening one resource twice, each believing it owns it.",
    "look for an open session of the resource first; abort with `grpc.StatusCode.ALREADY_EXISTS`",
)
ATTACH_FINDS_OPEN = _rule(
    "attach-finds-open",
    "ATTACH_TO_EXISTING returns the open session: its session_id, new_session_initialized false.",
    "Plug-in steps must write through the session Setup opened.",
    "return the open session's id, with `new_session_initialized = False`",
)
ATTACH_NONE_NOT_FOUND = _rule(
    "attach-none-not-found",
    "ATTACH_TO_EXISTING with no open session fails NOT_FOUND and opens nothing.",
    "A Cleanup or step that runs without its Setup silently opening a resource nobody closes.",
    "abort with `grpc.StatusCode.NOT_FOUND` when no session of the resource is open",
)
UNSPECIFIED_CREATES = _rule(
    "unspecified-creates",
    "UNSPECIFIED with no open session creates one (new_session_initialized true).",
    "A plug-in run alone (AUTO) must work without TestStand.",
    "treat UNSPECIFIED as 'attach, or create when none is open'",
)
UNSPECIFIED_ATTACHES = _rule(
    "unspecified-attaches",
    "UNSPECIFIED while a session is open attaches to it (same id, new_session_initialized false).",
    "AUTO steps under TestStand must share the one session, not open their own.",
    "treat UNSPECIFIED as 'attach, or create when none is open'",
)
ONE_ID = _rule(
    "one-session-id",
    "Every attach to an open session returns the one session_id.",
    "Records or rows of one run spread over several sessions.",
    "keep one session per resource and return its id to every attach",
)
NEW_ID_AFTER_CLOSE = _rule(
    "new-id-after-close",
    "After close, initializing again creates a new session with a different session_id.",
    "A stale id from an earlier run writing into the next run's session.",
    "make a fresh id (`uuid.uuid4()`) for every new session; remove closed sessions",
)
CLOSE_TWICE = _rule(
    "close-twice-not-found",
    "A second close of one session fails NOT_FOUND.",
    "Two Cleanups both believing they closed the resource; errors hidden.",
    "remove the session when closing it; abort with NOT_FOUND when it is not there",
)
UNKNOWN_ID = _rule(
    "unknown-session-id",
    "A call naming an unknown or empty session_id fails NOT_FOUND (empty: or INVALID_ARGUMENT).",
    "Writes to a closed or never-opened session being accepted, or failing as UNKNOWN/INTERNAL.",
    "look the session up first in every RPC that takes a session_id; abort NOT_FOUND if missing",
)
BAD_BEHAVIOR = _rule(
    "bad-behavior-refused",
    "An unknown session_initialization_behavior (3, NI's THEN_DETACH sent unmapped) fails "
    "INVALID_ARGUMENT and opens nothing.",
    "A client that forgot the 5 → 3 map getting some other behaviour than it asked for.",
    "refuse values other than the three with `grpc.StatusCode.INVALID_ARGUMENT`",
)
CONCURRENT_NEW = _rule(
    "concurrent-new-one-winner",
    "Concurrent INITIALIZE_NEW on one resource: exactly one creates, the others ALREADY_EXISTS.",
    "Two sockets' Setups both opening the resource at once.",
    "check for an open session and create it under one lock",
)
SPELLINGS = _rule(
    "spellings-one-session",
    "Two spellings of one resource share one session.",
    "Pin maps that name one file differently each getting a session (and a handle) of their own.",
    "normalise the resource name (e.g. `os.path.realpath`) before looking up or creating a session",
)
LISTS_SESSIONS = _rule(
    "list-sessions",
    "ListSessions shows an open session by its id and no longer after it is closed.",
    "An operator unable to find (and close) a session a crashed run left open.",
    "list every open session with its session_id; remove it on close",
)

SERVER_RULES = (
    NEW_CREATES,
    NEW_REFUSES_OPEN,
    ATTACH_FINDS_OPEN,
    ATTACH_NONE_NOT_FOUND,
    UNSPECIFIED_CREATES,
    UNSPECIFIED_ATTACHES,
    ONE_ID,
    NEW_ID_AFTER_CLOSE,
    CLOSE_TWICE,
    UNKNOWN_ID,
    BAD_BEHAVIOR,
    CONCURRENT_NEW,
    SPELLINGS,
    LISTS_SESSIONS,
)

_B = SessionInitializationBehavior
CLIENT_MAP: dict[SessionInitializationBehavior, str] = {
    _B.AUTO: "UNSPECIFIED",
    _B.INITIALIZE_SERVER_SESSION: "INITIALIZE_NEW",
    _B.ATTACH_TO_SERVER_SESSION: "ATTACH_TO_EXISTING",
    _B.INITIALIZE_SESSION_THEN_DETACH: "INITIALIZE_NEW",
    _B.ATTACH_TO_SESSION_THEN_CLOSE: "ATTACH_TO_EXISTING",
}
"""The guide's 5 → 3 map: what the client sends for each of NI's behaviours."""

_WHY_MAP = {
    _B.AUTO: "lets the server decide whether to create or attach",
    _B.INITIALIZE_SERVER_SESSION: "always starts a new session",
    _B.ATTACH_TO_SERVER_SESSION: "reuses the session that is open",
    _B.INITIALIZE_SESSION_THEN_DETACH: "TestStand Setup starts the session; the client detaches",
    _B.ATTACH_TO_SESSION_THEN_CLOSE: "TestStand Cleanup attaches; the client closes",
}


def map_rule(behavior: SessionInitializationBehavior) -> Rule:
    """The map entry of one NI behaviour."""
    sent = CLIENT_MAP[behavior]
    return _rule(
        f"map-{behavior.name}",
        f"{behavior.name} sends {sent} ({_WHY_MAP[behavior]}).",
        "Steps getting another behaviour than the one they were configured with.",
        f"your 5 → 3 map's entry for {behavior.name} must be the server's {sent}",
    )


EXIT_RULES: dict[tuple[SessionInitializationBehavior, bool], tuple[Rule, bool]] = {}
"""(behaviour, created) → (the rule, whether leaving the block closes the session)."""


def _exit_rule(behavior: SessionInitializationBehavior, created: bool, closes: bool) -> None:
    how = "created" if created else "attached to"
    verb = "closes" if closes else "leaves open"
    EXIT_RULES[(behavior, created)] = (
        _rule(
            f"exit-{behavior.name}-{'created' if created else 'attached'}",
            f"Leaving the block, {behavior.name} {verb} the session it {how}.",
            "Sessions closed under the feet of later steps, or left open for ever."
            if closes is False
            else "Sessions left open after their owner is done: files and transactions held.",
            f"`__exit__` must {'close' if closes else 'not close'} the session for "
            f"{behavior.name} when it {how} it",
        ),
        closes,
    )


_exit_rule(_B.AUTO, True, True)
_exit_rule(_B.AUTO, False, False)
_exit_rule(_B.INITIALIZE_SERVER_SESSION, True, True)
_exit_rule(_B.ATTACH_TO_SERVER_SESSION, False, False)
_exit_rule(_B.INITIALIZE_SESSION_THEN_DETACH, True, False)
_exit_rule(_B.ATTACH_TO_SESSION_THEN_CLOSE, False, True)

FAILED_SETUP_CLOSES = _rule(
    "failed-setup-closes",
    "A block left by an exception closes a session INITIALIZE_SESSION_THEN_DETACH created.",
    "A Setup that fails before registering its session leaves it open: nobody will close it.",
    "in `__exit__`, also close when an exception is leaving the block and this client created it",
    required=False,
)


def check_differences(differs: Mapping[str, str]) -> dict[str, str]:
    """Declared differences (rule id → why), checked: each names a rule and gives a reason."""
    known = (
        {rule.id for rule in SERVER_RULES}
        | {map_rule(behavior).id for behavior in CLIENT_MAP}
        | {rule.id for rule, _ in EXIT_RULES.values()}
    )
    for rule_id, reason in differs.items():
        if rule_id not in known:
            raise ValueError(f"differs names no rule of the kit: {rule_id!r} (see its report)")
        if not reason.strip():
            raise ValueError(f"differs[{rule_id!r}] gives no reason: say why the service differs")
    return dict(differs)
