"""The client rules, checked against a live server by what the client's calls did there.

What a client sends is never intercepted: each of NI's five behaviours is run twice, once with
nothing open and once with a session the kit opened, and the three server behaviours answer those
two cases three different ways (create + attach: UNSPECIFIED; create + ALREADY_EXISTS:
INITIALIZE_NEW; NOT_FOUND + attach: ATTACH_TO_EXISTING). Whether leaving the ``with`` block
closed the session is asked of the server afterwards. So any client can be checked — a class
that resolves the service through NI discovery as well as one given an address.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import grpc
from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior

from session_core.conformance import rules
from session_core.conformance.probe import Answer, Prober
from session_core.conformance.report import Check, Outcome, declared_outcome

ClientFactory = Callable[[str, SessionInitializationBehavior], AbstractContextManager[Any]]
"""Makes a client of one resource with one of NI's behaviours: ``make(resource_name, behavior)``."""


class _SetupFailedError(Exception):
    """Raised inside a block to play a TestStand Setup that fails after opening its session."""


@dataclass(frozen=True)
class _Run:
    """One use of the client: what it got, and whether its session is open afterwards."""

    answer: Answer
    open_after: bool


def status_of(error: BaseException) -> grpc.StatusCode | None:
    """The gRPC status behind an exception (itself, its cause or its context), if any."""
    seen: BaseException | None = error
    while seen is not None:
        code = getattr(seen, "code", None)
        if isinstance(seen, grpc.RpcError) and callable(code):
            status = code()
            return status if isinstance(status, grpc.StatusCode) else None
        seen = seen.__cause__ or seen.__context__
    return None


def _use(
    p: Prober,
    make: ClientFactory,
    name: str,
    behavior: SessionInitializationBehavior,
    *,
    fail: bool,
) -> _Run:
    session_id, new = "", False
    try:
        with make(name, behavior) as client:
            session_id = str(client.session_id)
            new = bool(client.new_session_initialized)
            if fail:
                raise _SetupFailedError
    except _SetupFailedError:
        pass
    except Exception as error:
        code = status_of(error)
        if code is None:
            raise
        return _Run(Answer(code, details=str(error)), open_after=False)
    return _Run(Answer(grpc.StatusCode.OK, session_id, new), p.is_open(name, session_id))


def _run_on(
    p: Prober,
    make: ClientFactory,
    behavior: SessionInitializationBehavior,
    *,
    already_open: bool,
    fail: bool = False,
) -> tuple[_Run, str]:
    """Use the client on a fresh resource (with a session the kit opened first, or none)."""
    name, _ = p.fresh_name()
    opened = p.initialize(name, "INITIALIZE_NEW").session_id if already_open else ""
    try:
        return _use(p, make, name, behavior, fail=fail), opened
    finally:
        p.close_resource(name)
        p.clean_up()


def _sent(alone: _Run, beside: _Run, opened: str) -> str:
    """Which server behaviour the two runs reveal, or what happened instead."""
    created = alone.answer.ok and alone.answer.new
    attached = beside.answer.ok and beside.answer.session_id == opened and not beside.answer.new
    if created and attached:
        return "UNSPECIFIED"
    if created and beside.answer.code is grpc.StatusCode.ALREADY_EXISTS:
        return "INITIALIZE_NEW"
    if alone.answer.code is grpc.StatusCode.NOT_FOUND and attached:
        return "ATTACH_TO_EXISTING"
    return f"something else (nothing open: {alone.answer}; a session open: {beside.answer})"


def run_client_checks(
    p: Prober,
    make: ClientFactory,
    *,
    exit_source: str = "",
    differs: Mapping[str, str] | None = None,
) -> list[Check]:
    """The 5 → 3 map, the exit rule per behaviour, and the failed-setup advice.

    When the service declares that UNSPECIFIED does not attach (``differs`` names
    ``unspecified-attaches``), it answers UNSPECIFIED as INITIALIZE_NEW while a session is open,
    and the kit cannot tell which of the two a client sent: that map entry is reported DIFFERS.
    """
    declared = dict(differs or {})
    like_new = rules.UNSPECIFIED_ATTACHES.id in declared
    checks: list[Check] = []
    exits: list[Check] = []
    for behavior, expected in rules.CLIENT_MAP.items():
        alone, _ = _run_on(p, make, behavior, already_open=False)
        beside, opened = _run_on(p, make, behavior, already_open=True)
        sent = _sent(alone, beside, opened)
        map_rule = rules.map_rule(behavior)
        if sent == expected:
            checks.append(Check(map_rule, Outcome.PASSED))
        elif like_new and expected == "UNSPECIFIED" and sent == "INITIALIZE_NEW":
            reason = declared[rules.UNSPECIFIED_ATTACHES.id]
            checks.append(
                Check(
                    map_rule,
                    Outcome.DIFFERS,
                    f"the service answers UNSPECIFIED as INITIALIZE_NEW while a session is open "
                    f"(declared: {reason}), so UNSPECIFIED and INITIALIZE_NEW look alike",
                )
            )
            sent = expected
        else:
            checks.append(Check(map_rule, Outcome.FAILED, f"{behavior.name} sent {sent}"))
        for created, run in ((True, alone), (False, beside)):
            if (behavior, created) in rules.EXIT_RULES:
                exits.append(_exit_check(behavior, created, run, sent == expected, exit_source))
    failing, _ = _run_on(
        p,
        make,
        SessionInitializationBehavior.INITIALIZE_SESSION_THEN_DETACH,
        already_open=False,
        fail=True,
    )
    if not failing.answer.ok:
        advice = Check(rules.FAILED_SETUP_CLOSES, Outcome.SKIPPED, f"it got {failing.answer}")
    elif failing.open_after:
        advice = Check(
            rules.FAILED_SETUP_CLOSES,
            Outcome.ADVICE,
            "the session a failing INITIALIZE_SESSION_THEN_DETACH block created is left open",
        )
    else:
        advice = Check(rules.FAILED_SETUP_CLOSES, Outcome.PASSED)
    return [declared_outcome(check, declared) for check in [*checks, *exits, advice]]


def _exit_check(
    behavior: SessionInitializationBehavior, created: bool, run: _Run, mapped: bool, where: str
) -> Check:
    rule, closes = rules.EXIT_RULES[(behavior, created)]
    if not mapped:
        return Check(rule, Outcome.SKIPPED, f"not reached: see map-{behavior.name}")
    if not run.answer.ok:
        return Check(rule, Outcome.SKIPPED, f"not reached: the client got {run.answer}")
    if run.open_after != closes:
        return Check(rule, Outcome.PASSED)
    done = "left the session open" if closes else "closed the session"
    return Check(rule, Outcome.FAILED, f"leaving the block, {behavior.name} {done}{where}")


def exit_source(client: object) -> str:
    """Where the client's ``__exit__`` is written, for failure messages (empty if unknown)."""
    method = getattr(client, "__exit__", None)
    try:
        _, line = inspect.getsourcelines(method)  # type: ignore[arg-type]
    except (TypeError, OSError):
        return ""
    owner = getattr(method, "__qualname__", "__exit__")
    return f" (see `{owner}`, line {line} of its cell or file)"
