"""Notebook 8's check: whether the learner's connection service lets steps share a device that
takes one client at a time.

Real calls against the learner's service and the notebook's simulated instrument (which counts its
clients and, like an IEEE 488.2 instrument, drops an answer when it is talked over).
"""

from __future__ import annotations

import contextlib
import time
import types
from typing import Any

import grpc
from course_support import table
from IPython.display import Markdown

from simulated_instrument.server import InstrumentServer

ONE_SESSION = "one device, one session, whatever the spelling"
ONE_EXCHANGE = "a query is one exchange"
CLOSE_FREES = "closing the session frees the device"
LATE_ANSWER_SECONDS = 0.5
"""How late the device answers step 1, so that step 2 asks while step 1 waits."""


class ConnectionRuleError(AssertionError):
    """A connection service broke a rule of sharing a device; the message names it."""


def check_connection_rules(
    pb: types.ModuleType, pb_grpc: types.ModuleType, address: str, device: InstrumentServer
) -> Markdown:
    """Check the service at ``address`` (notebook 8's contract) with the instrument ``device``.

    Rules: a second spelling of the device's resource string attaches to its session (a second
    connection would be hung up on); two steps' queries never overlap on the wire (the device
    reports none interrupted, each step gets its own answer); closing the session closes the
    connection. Raises :class:`ConnectionRuleError` naming the first rule broken.
    """
    name = device.resource_name
    other_spelling = f"TCPIP::{device.host}::{device.port}::SOCKET"  # board 0 left out
    rows = []
    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.MyConnectionStub(channel)
        opened = _open(pb, stub, name, pb.SESSION_INITIALIZATION_BEHAVIOR_INITIALIZE_NEW)
        try:
            _check_one_session(pb, stub, opened, other_spelling)
            rows.append((f"{other_spelling} attaches to the session of {name}", "passed"))
            _check_one_exchange(pb, stub, opened.session_id, device)
            rows.append(("two steps' queries never overlap on the wire", "passed"))
        finally:
            with contextlib.suppress(grpc.RpcError):
                _close(pb, stub, opened.session_id)
            freed = device.wait_free(2.0)
            if not freed:
                device.hang_up()  # as if switched off and on: free for the next try
    if not freed:
        raise _broken(
            CLOSE_FREES,
            "the device still had a client 2 s after CloseConnection: the connection stayed "
            "open, and no one else could connect (the check hung up on it for your next try)",
        )
    rows.append(("after CloseConnection the device takes a new client", "passed"))
    return table(("rule", "result"), rows)


def _check_one_session(pb: Any, stub: Any, opened: Any, other_spelling: str) -> None:
    try:
        again = _open(pb, stub, other_spelling, pb.SESSION_INITIALIZATION_BEHAVIOR_UNSPECIFIED)
    except grpc.RpcError as error:
        raise _broken(
            ONE_SESSION, f"opening {other_spelling} failed: {error.code().name}: {error.details()}"
        ) from None
    if again.session_id != opened.session_id:
        with contextlib.suppress(grpc.RpcError):
            _close(pb, stub, again.session_id)
        raise _broken(
            ONE_SESSION,
            f"{other_spelling} got a session of its own: a second connection, which a device "
            "that takes one client at a time hangs up on",
        )


def _check_one_exchange(pb: Any, stub: Any, session_id: str, device: InstrumentServer) -> None:
    interrupted = device.instrument.interrupted
    device.instrument.delay = LATE_ANSWER_SECONDS
    try:
        step_1 = _query(pb, stub, session_id, "DIAG:ECHO? step 1")
        time.sleep(LATE_ANSWER_SECONDS / 3)  # the device owes step 1 its answer now
        step_2 = _query(pb, stub, session_id, "DIAG:ECHO? step 2")
        answers = [_answer(step_1), _answer(step_2)]
    finally:
        device.instrument.delay = 0.0
    if device.instrument.interrupted != interrupted:
        raise _broken(
            ONE_EXCHANGE,
            "step 2's command reached the device while it still owed step 1 its answer, so the "
            f'device dropped that answer (-410 "Query INTERRUPTED"); the steps got {answers}',
        )
    if answers != ["step 1", "step 2"]:
        raise _broken(ONE_EXCHANGE, f"the steps asked for 'step 1' and 'step 2', got {answers}")


def _open(pb: Any, stub: Any, name: str, behavior: int) -> Any:
    request = pb.OpenConnectionRequest(resource_name=name, session_initialization_behavior=behavior)
    return stub.OpenConnection(request, timeout=10)


def _close(pb: Any, stub: Any, session_id: str) -> None:
    stub.CloseConnection(pb.CloseConnectionRequest(session_id=session_id), timeout=10)


def _query(pb: Any, stub: Any, session_id: str, command: str) -> Any:
    return stub.Query.future(pb.QueryRequest(session_id=session_id, command=command), timeout=10)


def _answer(call: Any) -> str:
    try:
        return str(call.result().answer)
    except grpc.RpcError as error:
        return f"{error.code().name}: {error.details()}"


def _broken(rule: str, why: str) -> ConnectionRuleError:
    return ConnectionRuleError(f"rule '{rule}': {why}")
