"""Mutation tests of the course: wrong learner code fails the notebook's check, naming the rule.

Each test edits one cell of a notebook as a learner might get it wrong, runs it in a real kernel
with the notebook's services, and asserts that the check cell raises ``ConformanceError`` naming
the broken rule. The notebooks as shipped pass (nbval runs them too).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from notebook_kernel import CellRun, NotebookKernel, running_notebook

pytestmark = pytest.mark.slow

NOTEBOOK_03 = "03_initialization_behaviors.ipynb"
MAP_CELL = "SERVER_BEHAVIOR = {"
CLIENT_CELL = "class MyLoggerClient"
CHECK_CELL = "check_client(MyLoggerClient"

_SERVER = ("UNSPECIFIED", "INITIALIZE_NEW", "ATTACH_TO_EXISTING")
_NI_MAP = {
    "AUTO": "UNSPECIFIED",
    "INITIALIZE_SERVER_SESSION": "INITIALIZE_NEW",
    "ATTACH_TO_SERVER_SESSION": "ATTACH_TO_EXISTING",
    "INITIALIZE_SESSION_THEN_DETACH": "INITIALIZE_NEW",
    "ATTACH_TO_SESSION_THEN_CLOSE": "ATTACH_TO_EXISTING",
}
MAP_MUTATIONS = [
    (ni, wrong) for ni, right in _NI_MAP.items() for wrong in _SERVER if wrong != right
]

CLOSE_ON_THEN_CLOSE = "self._behavior == B.ATTACH_TO_SESSION_THEN_CLOSE or ("
UNLESS_DETACHED = "created and self._behavior != B.INITIALIZE_SESSION_THEN_DETACH"
EXIT_MUTATIONS = {
    "THEN_CLOSE no longer closes": (
        CLOSE_ON_THEN_CLOSE, "(", {"exit-ATTACH_TO_SESSION_THEN_CLOSE-attached"}
    ),
    "detaching closes": (
        UNLESS_DETACHED, "created", {"exit-INITIALIZE_SESSION_THEN_DETACH-created"}
    ),
    "closes what it attached to": (
        UNLESS_DETACHED,
        "self._behavior != B.INITIALIZE_SESSION_THEN_DETACH",
        {"exit-AUTO-attached", "exit-ATTACH_TO_SERVER_SESSION-attached"},
    ),
    "the wrong behaviour detaches": (
        "!= B.INITIALIZE_SESSION_THEN_DETACH",
        "!= B.INITIALIZE_SERVER_SESSION",
        {"exit-INITIALIZE_SERVER_SESSION-created", "exit-INITIALIZE_SESSION_THEN_DETACH-created"},
    ),
    "the wrong behaviour closes": (
        "== B.ATTACH_TO_SESSION_THEN_CLOSE",
        "== B.ATTACH_TO_SERVER_SESSION",
        {"exit-ATTACH_TO_SERVER_SESSION-attached", "exit-ATTACH_TO_SESSION_THEN_CLOSE-attached"},
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def notebook_03() -> Iterator[NotebookKernel]:
    with running_notebook(NOTEBOOK_03, until=CHECK_CELL) as kernel:  # its check passes
        yield kernel


def _check_after(kernel: NotebookKernel, marker: str, old: str, new: str) -> tuple[str, str]:
    """Run the cell holding ``marker`` edited, then the client check; then restore the cell."""
    result = kernel.run_edited(marker, old, new, then=CHECK_CELL)
    return result.error, result.message


@pytest.mark.parametrize(
    ("entry", "wrong"), MAP_MUTATIONS, ids=[f"{e}->{w}" for e, w in MAP_MUTATIONS]
)
def test_a_wrong_map_entry_fails_the_check_naming_it(
    notebook_03: NotebookKernel, entry: str, wrong: str
) -> None:
    line = f"B.{entry}: pb.SESSION_INITIALIZATION_BEHAVIOR_{_NI_MAP[entry]},"
    error, message = _check_after(
        notebook_03, MAP_CELL, line, f"B.{entry}: pb.SESSION_INITIALIZATION_BEHAVIOR_{wrong},"
    )

    assert error == "ConformanceError"
    assert f"- map-{entry}: " in message
    assert f"observed: {entry} sent {wrong}" in message
    assert message.count("\n- map-") == 1  # only the wrong entry is named among the map rules


def test_forgetting_the_map_fails_on_the_two_teststand_behaviours(
    notebook_03: NotebookKernel,
) -> None:
    """The notebook's "Try it: forget the map" promises exactly this."""
    error, message = _check_after(
        notebook_03,
        CLIENT_CELL,
        "SERVER_BEHAVIOR[initialization_behavior]",
        "initialization_behavior.value",
    )

    assert error == "ConformanceError"
    assert "- map-INITIALIZE_SESSION_THEN_DETACH: " in message
    assert "- map-ATTACH_TO_SESSION_THEN_CLOSE: " in message
    assert "INVALID_ARGUMENT" in message
    assert message.count("\n- map-") == 2


@pytest.mark.parametrize("mutation", sorted(EXIT_MUTATIONS))
def test_a_wrong_exit_rule_fails_the_check_naming_it(
    notebook_03: NotebookKernel, mutation: str
) -> None:
    old, new, rules = EXIT_MUTATIONS[mutation]
    error, message = _check_after(notebook_03, CLIENT_CELL, old, new)

    assert error == "ConformanceError"
    named = {line[2:].split(":")[0] for line in message.splitlines() if line.startswith("- ")}
    assert named == rules
    assert "MyLoggerClient.__exit__`, line " in message  # where the learner's exit rule is


def test_fixing_the_orphan_turns_the_advice_into_a_pass(notebook_03: NotebookKernel) -> None:
    """The notebook's "Try it: fix the orphan" promises this."""
    outcome = "[c.outcome.value for c in report if c.rule.id == 'failed-setup-closes']"
    assert notebook_03.run(notebook_03.cell(CHECK_CELL)).ok
    assert notebook_03.run(f"assert {outcome} == ['advice']").ok
    fixed = "created and (self._behavior != B.INITIALIZE_SESSION_THEN_DETACH or exc_type)"
    error, message = _check_after(notebook_03, CLIENT_CELL, UNLESS_DETACHED, fixed)

    assert (error, message) == ("", "")
    # the report of the fixed client, before the original cell was restored
    assert notebook_03.run(f"assert {outcome} == ['passed'], {outcome}").ok


# -- notebook 02: the learner's server -------------------------------------------------------

NOTEBOOK_02 = "02_implement_and_launch_the_server.ipynb"
SERVICER_CELL = "class MyLoggerServicer"
SERVE_CELL = "server = grpc.server("
SERVER_CHECK_CELL = 'check_service(f"127.0.0.1:{port}"'
RESTART = "server.stop(None)\ndiscovery.unregister_service(registration_id)"
SPELLING = ', other_spelling="{tmp}/sub/../{n}.ndjson"'

SERVER_MUTATIONS = {
    "new-refuses-open": (
        "if behavior == pb.SESSION_INITIALIZATION_BEHAVIOR_INITIALIZE_NEW:", "if 0:"
    ),
    "attach-none-not-found": (
        "if behavior == pb.SESSION_INITIALIZATION_BEHAVIOR_ATTACH_TO_EXISTING:", "if 0:"
    ),
    "new-creates": ("new_session_initialized=True", "new_session_initialized=False"),
    "close-twice-not-found": (
        "self.sessions.pop(request.session_id, None)", "self.sessions.get(request.session_id)"
    ),
    "bad-behavior-refused": (
        "if behavior not in pb.SessionInitializationBehavior.values():", "if 0:"
    ),
    "unknown-session-id": ("if session is None:", "if 0:"),  # the first: LogMeasurementData's
}  # fmt: skip


@pytest.fixture(scope="module")
def notebook_02() -> Iterator[NotebookKernel]:
    stop = RESTART + "\ncourse.close()"
    with running_notebook(NOTEBOOK_02, until=SERVER_CHECK_CELL, stop=stop) as kernel:
        yield kernel  # the notebook as shipped passes its check


def _serve_and_check(kernel: NotebookKernel, servicer: str, check: str) -> tuple[str, str]:
    """Serve ``servicer`` (the class cell's source) instead of the running one, then check."""
    try:
        for source in (servicer, RESTART, kernel.cell(SERVE_CELL)):
            result = kernel.run(source)
            assert result.ok, result.message
        checked = kernel.run(check)
        return checked.error, checked.message
    finally:
        for source in (kernel.cell(SERVICER_CELL), RESTART, kernel.cell(SERVE_CELL)):
            assert kernel.run(source).ok


@pytest.mark.parametrize("rule", sorted(SERVER_MUTATIONS))
def test_a_broken_servicer_fails_the_check_naming_the_rule(
    notebook_02: NotebookKernel, rule: str
) -> None:
    old, new = SERVER_MUTATIONS[rule]
    servicer = notebook_02.cell(SERVICER_CELL)
    assert old in servicer
    error, message = _serve_and_check(
        notebook_02, servicer.replace(old, new, 1), notebook_02.cell(SERVER_CHECK_CELL)
    )

    assert error == "ConformanceError"
    assert f"- {rule}: " in message


def test_the_spelling_flaw_is_named_and_the_try_it_fix_passes(notebook_02: NotebookKernel) -> None:
    """The notebook says the learner's server fails two spellings, and how to fix it."""
    check = notebook_02.cell(SERVER_CHECK_CELL).replace(
        'resource="{tmp}/{n}.ndjson"', 'resource="{tmp}/{n}.ndjson"' + SPELLING
    )
    assert SPELLING in check
    servicer = notebook_02.cell(SERVICER_CELL)
    fixed = "import os\n" + servicer.replace(
        "s.path == request.resource_name", "s.path == os.path.realpath(request.resource_name)"
    ).replace("Session(request.resource_name)", "Session(os.path.realpath(request.resource_name))")
    assert fixed.count("os.path.realpath") == 2

    flawed_error, flawed_message = _serve_and_check(notebook_02, servicer, check)
    fixed_error, fixed_message = _serve_and_check(notebook_02, fixed, check)

    assert flawed_error == "ConformanceError"
    assert "- spellings-one-session: " in flawed_message
    assert (fixed_error, fixed_message) == ("", "")


# -- notebook 04: the learner's plug-in ------------------------------------------------------

NOTEBOOK_04 = "04_measurement_plugins.ipynb"
STEP_CHECK_CELL = "check_logging_step("
CONSTRUCTOR_CELL = "class MyLoggerSessionConstructor"


@pytest.fixture(scope="module")
def notebook_04() -> Iterator[NotebookKernel]:
    stop = "my_plugin.close_service()\ncourse.close()"
    with running_notebook(NOTEBOOK_04, until=STEP_CHECK_CELL, stop=stop) as kernel:
        yield kernel  # the notebook as shipped passes its checks


def _step_check_after(kernel: NotebookKernel, marker: str, old: str, new: str) -> tuple[str, str]:
    """Run the cell holding ``marker`` edited, then the plug-in check; then restore the cell."""
    result = kernel.run_edited(marker, old, new, then=STEP_CHECK_CELL)
    return result.error, result.message


def test_a_step_that_opens_its_own_session_fails_the_plugin_check(
    notebook_04: NotebookKernel,
) -> None:
    """The notebook's "Try it: a step that opens its own session" promises this."""
    error, message = _step_check_after(
        notebook_04,
        CONSTRUCTOR_CELL,
        "initialization_behavior=SessionInitializationBehavior.AUTO",
        "initialization_behavior=SessionInitializationBehavior.INITIALIZE_SERVER_SESSION",
    )

    assert error == "StepRuleError"
    assert message.startswith("rule 'a step attaches to the session Setup opened'")
    assert "ALREADY_EXISTS" in message


def test_a_step_that_closes_setups_session_fails_the_plugin_check(
    notebook_04: NotebookKernel,
) -> None:
    error, message = _step_check_after(
        notebook_04,
        "class MyLoggerClient",
        "created and (self._behavior != B.INITIALIZE_SESSION_THEN_DETACH or exc_type)",
        "self._behavior != B.INITIALIZE_SESSION_THEN_DETACH or exc_type",
    )

    assert error == "StepRuleError"
    assert message.startswith("rule 'a step leaves Setup's session open'")


def test_a_step_that_only_attaches_fails_alone(notebook_04: NotebookKernel) -> None:
    error, message = _step_check_after(
        notebook_04,
        CONSTRUCTOR_CELL,
        "initialization_behavior=SessionInitializationBehavior.AUTO",
        "initialization_behavior=SessionInitializationBehavior.ATTACH_TO_SERVER_SESSION",
    )

    assert error == "StepRuleError"
    assert message.startswith("rule 'alone, a step (AUTO) creates its session'")
    assert "NOT_FOUND" in message


def test_the_plugin_logs_through_the_learners_own_client(notebook_04: NotebookKernel) -> None:
    """The constructor returns the learner's client, not the shipped one."""
    printed = notebook_04.run(
        "with session_management.reserve_session(context, 'LoggerPin') as reservation:\n"
        "    with reservation.initialize_session(MyLoggerSessionConstructor(), "
        "MY_INSTRUMENT_TYPE) as info:\n"
        "        print(type(info.session).__name__)"
    )

    assert printed.output.strip() == "MyLoggerClient"


def test_a_stream_that_loses_a_batch_fails_its_cell(notebook_02: NotebookKernel) -> None:
    servicer = notebook_02.cell(SERVICER_CELL)
    assert "            written += len(lines)\n" in servicer
    calls = notebook_02.cell("location = discovery.resolve_service(")
    stream = notebook_02.cell("def sweep(session_id):")
    error, message = _serve_and_check(
        notebook_02,
        servicer.replace(
            "            written += len(lines)\n", "            written = len(lines)\n"
        ),
        calls + "\n" + stream,
    )

    assert error == "AssertionError"
    assert "records_written: 3" in message


# -- notebook 07: a lock whose callers take turns ------------------------------------------------

NOTEBOOK_07 = "07_take_turns_hardware_lock.ipynb"
LOCK_SERVICER_CELL = "class MyLockServicer"
LOCK_SERVE_CELL = "servicer = MyLockServicer()"
LOCK_CHECK_CELL = "check_lock_turns(pb, pb_grpc, address)"
SERVER_RESTART = "discovery.unregister_service(registration_id)\nserver.stop(None)"
LOCK_MUTATIONS = {
    # the notebook's "Try it": the release wakes nobody, or every hold has the token 1
    "a waiter gets the lock when the holder releases it": (
        "self.turns.notify_all()  # the next waiter's turn", "pass"
    ),
    "the fencing token grows": ("Hold(next(self.tokens))", "Hold(1)"),
    "INITIALIZE_NEW waits its turn, up to its timeout": (
        "if behavior is InitializationBehavior.INITIALIZE_NEW:", "if False:"
    ),
}  # fmt: skip


def _check_servicer_edited(
    kernel: NotebookKernel, cells: tuple[str, str, str], old: str, new: str
) -> CellRun:
    """Run the servicer cell with ``old`` replaced by ``new``, serve it in place of the running
    one and run the check cell (``cells``: markers of the servicer, serve and check cells); then
    serve the notebook's own servicer again. Return what the check gave.
    """
    servicer_cell, serve_cell, check_cell = cells
    servicer, serve = kernel.cell(servicer_cell), kernel.cell(serve_cell)
    assert old in servicer
    try:
        for source in (servicer.replace(old, new, 1), SERVER_RESTART, serve):
            assert kernel.run(source).ok
        return kernel.run(kernel.cell(check_cell))
    finally:
        for source in (servicer, SERVER_RESTART, serve):
            assert kernel.run(source).ok


@pytest.fixture(scope="module")
def notebook_07() -> Iterator[NotebookKernel]:
    stop = SERVER_RESTART + "\ncourse.close()"
    with running_notebook(NOTEBOOK_07, until=LOCK_CHECK_CELL, stop=stop) as kernel:
        yield kernel  # the notebook as shipped passes its check


@pytest.mark.parametrize("rule", sorted(LOCK_MUTATIONS))
def test_a_lock_that_breaks_a_turn_rule_fails_the_check_naming_it(
    notebook_07: NotebookKernel, rule: str
) -> None:
    old, new = LOCK_MUTATIONS[rule]
    checked = _check_servicer_edited(
        notebook_07, (LOCK_SERVICER_CELL, LOCK_SERVE_CELL, LOCK_CHECK_CELL), old, new
    )

    assert checked.error == "LockRuleError"
    assert f"rule '{rule}'" in checked.message


# -- notebook 08: a connection that steps share ----------------------------------------------

NOTEBOOK_08 = "08_share_a_connection.ipynb"
CONNECTION_SERVICER_CELL = "class MyConnectionServicer"
CONNECTION_SERVE_CELL = "servicer = MyConnectionServicer()"
CONNECTION_CHECK_CELL = "check_connection_rules(pb, pb_grpc, address, device)"
CONNECTION_MUTATIONS = {
    # the notebook's "Try it": no session lock around a query, the key as spelled, no close
    "a query is one exchange": (
        "with self.registry.use(request.session_id) as connection:  # one exchange\n"
        "            answer = connection.query(request.command)",
        "connection = self.registry.get(request.session_id).resource\n"
        "        answer = connection.query(request.command)",
    ),
    "one device, one session, whatever the spelling": (
        "key = str(rname.parse_resource_name(name))", "key = name"
    ),
    "closing the session frees the device": (
        "self.registry.close(request.session_id)", "self.registry.get(request.session_id)"
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def notebook_08() -> Iterator[NotebookKernel]:
    stop = SERVER_RESTART + "\ncourse.close()"
    with running_notebook(NOTEBOOK_08, until=CONNECTION_CHECK_CELL, stop=stop) as kernel:
        yield kernel  # the notebook as shipped passes its check


@pytest.mark.parametrize("rule", sorted(CONNECTION_MUTATIONS))
def test_a_connection_service_that_breaks_a_sharing_rule_fails_the_check_naming_it(
    notebook_08: NotebookKernel, rule: str
) -> None:
    old, new = CONNECTION_MUTATIONS[rule]
    cells = (CONNECTION_SERVICER_CELL, CONNECTION_SERVE_CELL, CONNECTION_CHECK_CELL)
    checked = _check_servicer_edited(notebook_08, cells, old, new)

    assert checked.error == "ConnectionRuleError"
    assert f"rule '{rule}'" in checked.message
    assert notebook_08.run(notebook_08.cell(CONNECTION_CHECK_CELL)).ok  # the device is usable again
