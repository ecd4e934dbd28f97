"""The server rules, checked with real calls: one function per rule, each on fresh resources."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import grpc

from session_core.conformance import rules
from session_core.conformance.probe import Answer, Prober
from session_core.conformance.report import Check, Outcome, declared_outcome
from session_core.conformance.rules import Rule

NOT_FOUND = grpc.StatusCode.NOT_FOUND
ALREADY_EXISTS = grpc.StatusCode.ALREADY_EXISTS
INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT


class _BrokenRuleError(Exception):
    """A rule is broken; the message says what was observed."""


def _expect(condition: bool, observed: str) -> None:
    if not condition:
        raise _BrokenRuleError(observed)


def _open(p: Prober, behavior: str = "INITIALIZE_NEW") -> tuple[str, Answer]:
    """A fresh resource and a session of it; a failure here is reported by the check."""
    name, _ = p.fresh_name()
    answer = p.initialize(name, behavior)
    _expect(answer.ok and bool(answer.session_id), f"{behavior} on {name!r} answered {answer}")
    return name, answer


def _new_creates(p: Prober) -> None:
    name, _ = p.fresh_name()
    answer = p.initialize(name, "INITIALIZE_NEW")
    _expect(answer.ok, f"INITIALIZE_NEW on {name!r} answered {answer}")
    _expect(bool(answer.session_id) and answer.new, f"INITIALIZE_NEW answered {answer}")


def _new_refuses_open(p: Prober) -> None:
    name, _ = _open(p)
    answer = p.initialize(name, "INITIALIZE_NEW")
    _expect(answer.code is ALREADY_EXISTS, f"a second INITIALIZE_NEW answered {answer}")


def _attaches_to_the_open_session(p: Prober, behavior: str) -> None:
    name, first = _open(p)
    answer = p.initialize(name, behavior)
    _expect(
        answer.ok and answer.session_id == first.session_id and not answer.new,
        f"{behavior} on the open session answered {answer}",
    )


def _attach_finds_open(p: Prober) -> None:
    _attaches_to_the_open_session(p, "ATTACH_TO_EXISTING")


def _attach_none_not_found(p: Prober) -> None:
    name, _ = p.fresh_name()
    answer = p.initialize(name, "ATTACH_TO_EXISTING")
    _expect(answer.code is NOT_FOUND, f"ATTACH_TO_EXISTING with nothing open answered {answer}")
    again = p.initialize(name, "ATTACH_TO_EXISTING")
    _expect(again.code is NOT_FOUND, f"it opened a session: a second attach answered {again}")


def _unspecified_creates(p: Prober) -> None:
    name, _ = p.fresh_name()
    answer = p.initialize(name, "UNSPECIFIED")
    _expect(answer.ok and answer.new, f"UNSPECIFIED with nothing open answered {answer}")


def _unspecified_attaches(p: Prober) -> None:
    _attaches_to_the_open_session(p, "UNSPECIFIED")


def _one_session_id(p: Prober, joining: tuple[str, ...]) -> None:
    name, first = _open(p, "UNSPECIFIED" if "UNSPECIFIED" in joining else "INITIALIZE_NEW")
    for behavior in joining * 3:
        answer = p.initialize(name, behavior)
        _expect(
            answer.ok and answer.session_id == first.session_id,
            f"{behavior} answered {answer}, not session {first.session_id[:8]}",
        )


def _new_id_after_close(p: Prober) -> None:
    name, first = _open(p)
    closed = p.close(first.session_id)
    _expect(closed.ok, f"closing the session answered {closed}")
    answer = p.initialize(name, "INITIALIZE_NEW")
    _expect(answer.ok and answer.new, f"INITIALIZE_NEW after close answered {answer}")
    _expect(answer.session_id != first.session_id, "the new session has the closed one's id")


def _close_twice_not_found(p: Prober) -> None:
    _, first = _open(p)
    closed = p.close(first.session_id)
    _expect(closed.ok, f"the first close answered {closed}")
    again = p.close(first.session_id)
    _expect(again.code is NOT_FOUND, f"the second close answered {again}")


def _unknown_session_id(p: Prober) -> None:
    unknown = p.close("no-such-session")
    _expect(unknown.code is NOT_FOUND, f"closing an unknown session id answered {unknown}")
    empty = p.close("")
    _expect(
        empty.code in (NOT_FOUND, INVALID_ARGUMENT), f"closing an empty session id answered {empty}"
    )
    for index, rpc in enumerate(p.contract.session_calls):
        answer = p.call_with_session(index, "no-such-session")
        _expect(
            answer.code in (NOT_FOUND, INVALID_ARGUMENT),
            f"{rpc.name} with an unknown session id answered {answer}",
        )


def _bad_behavior_refused(p: Prober) -> None:
    name, _ = p.fresh_name()
    unknown = max(p.contract.behaviors) + 1
    answer = p.initialize(name, unknown)
    _expect(answer.code is INVALID_ARGUMENT, f"behaviour {unknown} answered {answer}")
    after = p.initialize(name, "ATTACH_TO_EXISTING")
    _expect(after.code is NOT_FOUND, f"behaviour {unknown} opened a session (attach: {after})")


CONCURRENT_CALLS = 16


def _concurrent_new_one_winner(p: Prober) -> None:
    name, _ = p.fresh_name()
    with ThreadPoolExecutor(CONCURRENT_CALLS) as pool:
        answers = list(
            pool.map(lambda _: p.initialize(name, "INITIALIZE_NEW"), range(CONCURRENT_CALLS))
        )
    winners = [a for a in answers if a.ok]
    others = {a.code.name for a in answers if not a.ok}
    _expect(
        len(winners) == 1 and others == {"ALREADY_EXISTS"},
        f"{len(winners)} of {CONCURRENT_CALLS} concurrent INITIALIZE_NEW created a session "
        f"(ids {sorted({a.session_id[:8] for a in winners})}); the others: {sorted(others)}",
    )


def _spellings_one_session(
    p: Prober, other_spelling: str | Sequence[str], joining: tuple[str, ...]
) -> None:
    name, n = p.fresh_name()
    first = p.initialize(name, "INITIALIZE_NEW")
    _expect(first.ok, f"INITIALIZE_NEW on {name!r} answered {first}")
    other = p.name(other_spelling, n)
    answer = p.initialize(other, joining[0])
    _expect(
        answer.ok and answer.session_id == first.session_id,
        f"{joining[0]} on {other!r} answered {answer}, not the session of {name!r}",
    )


def _list_sessions(p: Prober) -> None:
    _, first = _open(p)
    listed = p.listed() or set()
    _expect(first.session_id in listed, "the open session is not listed")
    p.close(first.session_id)
    listed = p.listed() or set()
    _expect(first.session_id not in listed, "the closed session is still listed")


_CHECKS: list[tuple[Rule, Callable[[Prober], None]]] = [
    (rules.NEW_CREATES, _new_creates),
    (rules.NEW_REFUSES_OPEN, _new_refuses_open),
    (rules.ATTACH_FINDS_OPEN, _attach_finds_open),
    (rules.ATTACH_NONE_NOT_FOUND, _attach_none_not_found),
    (rules.UNSPECIFIED_CREATES, _unspecified_creates),
    (rules.UNSPECIFIED_ATTACHES, _unspecified_attaches),
    (rules.NEW_ID_AFTER_CLOSE, _new_id_after_close),
    (rules.CLOSE_TWICE, _close_twice_not_found),
    (rules.UNKNOWN_ID, _unknown_session_id),
    (rules.BAD_BEHAVIOR, _bad_behavior_refused),
    (rules.CONCURRENT_NEW, _concurrent_new_one_winner),
]


def run_server_checks(
    p: Prober,
    *,
    other_spelling: str | Sequence[str] | None,
    differs: Mapping[str, str] | None = None,
) -> list[Check]:
    """Every server rule, in order; each check closes the sessions it opened.

    ``differs`` (rule id → why) declares where the service differs from the pattern on purpose:
    such a rule, when it does not hold, is reported DIFFERS with the reason, not FAILED. When
    UNSPECIFIED does not attach (``unspecified-attaches``), the rules about one session are
    checked through ATTACH_TO_EXISTING alone.
    """
    declared = dict(differs or {})
    joining: tuple[str, ...] = ("UNSPECIFIED", "ATTACH_TO_EXISTING")
    if rules.UNSPECIFIED_ATTACHES.id in declared:
        joining = ("ATTACH_TO_EXISTING",)
    in_order = [*_CHECKS[:6], (rules.ONE_ID, lambda q: _one_session_id(q, joining)), *_CHECKS[6:]]
    checks = [_run(p, rule, check) for rule, check in in_order]
    if other_spelling is None:
        checks.append(
            Check(rules.SPELLINGS, Outcome.SKIPPED, "no second spelling given (other_spelling)")
        )
    else:
        checks.append(
            _run(p, rules.SPELLINGS, lambda q: _spellings_one_session(q, other_spelling, joining))
        )
    no_listing = Check(rules.LISTS_SESSIONS, Outcome.SKIPPED, "the service has no ListSessions")
    listing = no_listing
    if p.contract.list_sessions is not None:
        listing = _run(p, rules.LISTS_SESSIONS, _list_sessions)
    checks.append(no_listing if _unimplemented(listing) else listing)
    return [declared_outcome(check, declared) for check in checks]


def _unimplemented(check: Check) -> bool:
    """A contract may declare ListSessions that the server does not serve (UNIMPLEMENTED)."""
    return check.outcome is Outcome.FAILED and check.detail.startswith("UNIMPLEMENTED")


def _run(p: Prober, rule: Rule, check: Callable[[Prober], None]) -> Check:
    try:
        check(p)
    except _BrokenRuleError as broken:
        return Check(rule, Outcome.FAILED, str(broken))
    except grpc.RpcError as error:
        return Check(rule, Outcome.FAILED, f"{error.code().name}: {error.details()}")
    finally:
        p.clean_up()
    return Check(rule, Outcome.PASSED)
