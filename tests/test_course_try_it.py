"""Every "Try it" of the course does what its text promises.

Each test applies one suggestion to the notebook's own cells in a real kernel (as a learner
would: edit, re-run) and asserts the outcome the text describes. A Try it that one of the
notebook's own cells already runs is compared by nbval; the check-cell ones of notebooks 2 and 3
are in tests/test_course_checks.py.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import nbformat
import pytest
from notebook_kernel import NOTEBOOKS, NotebookKernel, notebook_kernel, running_notebook

pytestmark = pytest.mark.slow

# -- notebook 01 -----------------------------------------------------------------------------

PROTO_CELL = 'proto = """\\'
IMPORT_CELL = 'import_stubs(work, "my_logger")'
BEHAVIOR_FIELD = "  SessionInitializationBehavior session_initialization_behavior = 2;\n}"


@pytest.fixture(scope="module")
def notebook_01() -> Iterator[NotebookKernel]:
    until, stop = "theirs = json_logger_pb2.DESCRIPTOR", "import shutil\nshutil.rmtree(work)"
    with running_notebook("01_define_the_contract.ipynb", until=until, stop=stop) as kernel:
        yield kernel


def _regenerate(kernel: NotebookKernel, *edits: tuple[str, str]) -> None:
    """Edit the .proto cell and re-run it and the cells down to the import, as a learner would."""
    proto = kernel.cell(PROTO_CELL)
    start, end = kernel.cells.index(proto), kernel.cells.index(kernel.cell(IMPORT_CELL))
    for old, new in edits:
        assert old in proto, old
        proto = proto.replace(old, new)
    for source in [proto, *kernel.cells[start + 1 : end + 1]]:
        kernel.run_ok(source)


def test_01_an_added_field_works_at_once_and_the_shipped_parser_keeps_it(
    notebook_01: NotebookKernel,
) -> None:
    try:
        _regenerate(
            notebook_01, (BEHAVIOR_FIELD, BEHAVIOR_FIELD[:-1] + "  string encoding = 3;\n}")
        )
        printed = notebook_01.run_ok(
            """request = my_logger_pb2.InitializeFileRequest(
    resource_name="C:/logs/run.ndjson", encoding="utf-8"
)
shipped = json_logger_pb2.InitializeFileRequest.FromString(request.SerializeToString())
print(shipped)
print("kept:", shipped.SerializeToString() == request.SerializeToString())""",
        )
    finally:
        _regenerate(notebook_01)

    assert printed == 'resource_name: "C:/logs/run.ndjson"\n\nkept: True\n'


def test_01_a_renumbered_field_is_lost_to_the_shipped_contract(
    notebook_01: NotebookKernel,
) -> None:
    try:
        _regenerate(notebook_01, ("string resource_name = 1;", "string resource_name = 7;"))
        notebook_01.run_ok(notebook_01.cell("request = my_logger_pb2.InitializeFileRequest("))
        printed = notebook_01.run_ok(
            notebook_01.cell("shipped = json_logger_pb2.InitializeFileRequest")
        )
    finally:
        _regenerate(notebook_01)

    assert "resource_name" not in printed
    assert "same behaviour: True" in printed


def test_01_your_stubs_call_the_shipped_service_once_package_and_service_match(
    notebook_01: NotebookKernel, logger_address: str
) -> None:
    call = f"""import grpc
with grpc.insecure_channel("{logger_address}") as channel:
    stub = getattr(my_logger_pb2_grpc, "JsonLoggerStub", None) or my_logger_pb2_grpc.MyLoggerStub
    try:
        opened = stub(channel).InitializeFile(
            my_logger_pb2.InitializeFileRequest(resource_name=str(work / "shipped.ndjson"))
        )
        stub(channel).CloseFile(my_logger_pb2.CloseFileRequest(session_id=opened.session_id))
        print("new session:", opened.new_session_initialized)
    except grpc.RpcError as error:
        print(error.code().name)"""
    as_written = notebook_01.run_ok(call)
    try:
        _regenerate(
            notebook_01,
            ("package my_logger;", "package json_logger;"),
            ("service MyLogger {", "service JsonLogger {"),
        )
        renamed = notebook_01.run_ok(call)
    finally:
        _regenerate(notebook_01)

    assert as_written.strip() == "UNIMPLEMENTED"
    assert renamed.strip() == "new session: True"


def test_01_the_contract_check_names_a_missing_mandatory_field(
    notebook_01: NotebookKernel,
) -> None:
    check = notebook_01.cell("contract_from_module(my_logger_pb2)")
    try:
        _regenerate(notebook_01, ("  bool new_session_initialized = 2;\n", ""))
        no_flag = notebook_01.run(check)
        _regenerate(
            notebook_01,
            ("  rpc CloseFile(CloseFileRequest) returns (CloseFileResponse);\n", ""),
        )
        no_close = notebook_01.run(check)
    finally:
        _regenerate(notebook_01)
    as_shipped = notebook_01.run_ok(check)

    assert no_flag.error == "ContractError"
    assert "has an initialize RPC" in no_flag.message  # "no service has an initialize RPC: ..."
    assert "`bool new_session_initialized`" in no_flag.message
    assert no_close.error == "ContractError"
    assert "has no close RPC: a unary RPC whose request is `string session_id` alone" in (
        no_close.message
    )
    assert as_shipped.startswith("initialize: InitializeFile - close: CloseFile")


# -- notebook 02 -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def notebook_02() -> Iterator[NotebookKernel]:
    until = 'check_service(f"127.0.0.1:{port}"'
    stop = "server.stop(None)\ndiscovery.unregister_service(registration_id)\ncourse.close()"
    with running_notebook("02_implement_and_launch_the_server.ipynb", until=until, stop=stop) as k:
        yield k


def test_02_removing_the_lock_loses_the_race(notebook_02: NotebookKernel) -> None:
    servicer = notebook_02.cell("class MyLoggerServicer")
    in_initialize = servicer.index("def InitializeFile")
    lock = servicer.index("with self.lock:", in_initialize)
    unlocked = servicer[:lock] + "if True:" + servicer[lock + len("with self.lock:") :]
    slow = "import time\n" + unlocked.replace(
        "            if existing is not None:",
        "            time.sleep(0.1)\n            if existing is not None:",
        1,
    )
    restart = "server.stop(None)\ndiscovery.unregister_service(registration_id)"
    try:
        for source in (slow, restart, notebook_02.cell("server = grpc.server(")):
            notebook_02.run_ok(source)
        checked = notebook_02.run(notebook_02.cell('check_service(f"127.0.0.1:{port}"'))
    finally:
        for source in (servicer, restart, notebook_02.cell("server = grpc.server(")):
            notebook_02.run_ok(source)

    assert checked.error == "ConformanceError"
    assert "- concurrent-new-one-winner: " in checked.message
    assert "created a session" in checked.message


def test_02_both_servers_answer_not_found_for_an_unknown_session(
    notebook_02: NotebookKernel,
) -> None:
    printed = notebook_02.run_ok(
        """mine = pb_grpc.JsonLoggerStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
try:
    mine.LogMeasurementData(pb.LogMeasurementDataRequest(session_id="nope"))
except grpc.RpcError as error:
    print(error.code().name)""",
    )

    assert printed.strip() == "NOT_FOUND"  # the learner's; the shipped one's is a stored output


# -- notebook 03 -----------------------------------------------------------------------------


def test_03_a_late_step_attaches_to_your_clients_orphan_only() -> None:
    with running_notebook("03_initialization_behaviors.ipynb", until="def run_story") as kernel:
        kernel.run_ok('STORY.append(("late step", B.ATTACH_TO_SERVER_SESSION, False))')
        kernel.run_ok(
            """mine, _ = run_story(MyLoggerClient)
shipped, _ = run_story(JsonLoggerClient)
orphan = mine[-2][2]  # the session the failing Setup left open
assert mine[-1] == ("late step", "ATTACH_TO_SERVER_SESSION", orphan, False, False), mine[-1]
assert shipped[-1][2] == "NOT_FOUND", shipped[-1]
assert len(open_sessions()) == 0""",
        )


# -- notebook 04 -----------------------------------------------------------------------------

RESERVE_CELL = (
    'with session_management.reserve_session(context, "LoggerPin") as reservation:\n    info'
)
PIN_MAP_CELL = 'pin_map_file = course.work_dir / "MySessionSharing.pinmap"'
PLUGINS_CELL = "dcpower, dmm = PLUGINS"
ATTACH_ONLY = "MyLoggerSessionConstructor(SessionInitializationBehavior.ATTACH_TO_SERVER_SESSION)"


@pytest.fixture(scope="module")
def notebook_04() -> Iterator[NotebookKernel]:
    stop = "my_plugin.close_service()\ncourse.close()"
    with running_notebook("04_measurement_plugins.ipynb", until=PLUGINS_CELL, stop=stop) as kernel:
        yield kernel


def test_04_attach_only_fails_not_found_and_releases_the_reservation(
    notebook_04: NotebookKernel,
) -> None:
    reserve = notebook_04.cell(RESERVE_CELL)
    assert "MyLoggerSessionConstructor()" in reserve
    failed = notebook_04.run(reserve.replace("MyLoggerSessionConstructor()", ATTACH_ONLY))
    released = notebook_04.run_ok(
        'with session_management.reserve_session(context, "LoggerPin", timeout=0):\n'
        '    print("reserved again at once")',
    )

    assert failed.error == "_InactiveRpcError"
    assert "StatusCode.NOT_FOUND" in failed.message
    assert released.strip() == "reserved again at once"


def test_04_another_file_in_the_pin_map_is_where_the_plugins_write(
    notebook_04: NotebookKernel,
) -> None:
    pin_map = notebook_04.cell(PIN_MAP_CELL)
    assert pin_map.count("{course.log_path}") == 2
    other = pin_map.replace("{course.log_path}", '{course.work_dir / "other.ndjson"}')
    try:
        notebook_04.run_ok(other)
        notebook_04.run_ok(notebook_04.cell(PLUGINS_CELL))
        written = notebook_04.run_ok(
            'print(sorted(r["measurement_name"] for r in '
            'read_records(course.work_dir / "other.ndjson")))',
        )
    finally:
        notebook_04.run_ok(pin_map)

    assert written.strip() == "['NI-DCPower with Logger (Py)', 'NI-DMM with Logger (Py)']"


# -- notebook 05 -----------------------------------------------------------------------------

STEPS_CELL = "%%writefile {steps_file}"
RUN_MINE = 'run(\n    my_sequence(steps_file, "create_logger_sessions", "destroy_logger_sessions"),'
REGISTER = "        session_management.register_sessions(reservation.session_info)\n"


@pytest.fixture(scope="module")
def notebook_05() -> Iterator[NotebookKernel]:
    with running_notebook("05_teststand_session_sharing.ipynb", until="def my_sequence") as kernel:
        yield kernel


def _run_mine(kernel: NotebookKernel, old: str, new: str) -> str:
    """Run the sequence with the code modules cell edited (``old`` -> ``new``); restore the cell."""
    result = kernel.run_edited(STEPS_CELL, old, new, then=RUN_MINE)
    assert result.ok, f"{result.error}: {result.message}\n{result.output}"
    return result.output


def test_05_skipping_the_registration_fails_cleanup_and_leaves_the_session_open(
    notebook_05: NotebookKernel,
) -> None:
    steps = notebook_05.cell(STEPS_CELL)
    assert REGISTER in steps

    skipped = _run_mine(notebook_05, REGISTER, "")
    after = notebook_05.run_ok(notebook_05.cell(RUN_MINE))

    assert "| main | NI-DCPower measurement with logger | Passed |" in skipped
    assert "| main | NI-DMM measurement with logger | Passed |" in skipped
    assert (
        "| cleanup | Destroy JSON logger sessions | Failed | ValueError: No reserved sessions "
        "matched instrument type ID 'JsonLoggerService'" in skipped
    )
    assert "records: 2, through sessions ['A', 'A']" in skipped
    assert "left open on the logger: 1, still registered: 0" in skipped
    # the failed experiment left nothing that breaks the next run
    assert "Failed" not in after
    assert "left open on the logger: 0, still registered: 0" in after


CHECK_MODULES = "if not mine.passed:"


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        (
            "SessionInitializationBehavior.ATTACH_TO_SESSION_THEN_CLOSE",
            "SessionInitializationBehavior.ATTACH_TO_SERVER_SESSION",
            "Cleanup closes the session it attaches to",
        ),
        (
            "        session_management.unregister_sessions(reservation.session_info)\n",
            "",
            "Cleanup unregisters the session",
        ),
    ],
    ids=["cleanup-does-not-close", "cleanup-does-not-unregister"],
)
def test_05_the_modules_check_names_what_cleanup_forgot(
    notebook_05: NotebookKernel, old: str, new: str, rule: str
) -> None:
    steps = notebook_05.cell(STEPS_CELL)
    assert old in steps
    _run_mine(notebook_05, old, new)
    checked = notebook_05.run(notebook_05.cell(CHECK_MODULES))
    notebook_05.run_ok(notebook_05.cell(RUN_MINE))  # as shipped: passes its check again
    as_shipped = notebook_05.run_ok(notebook_05.cell(CHECK_MODULES))

    assert checked.error == "AssertionError"
    assert checked.message == f"your code modules break: {rule}" + (
        " (ATTACH_TO_SESSION_THEN_CLOSE)" if "closes" in rule else ""
    )
    assert as_shipped.strip() == "one session from Setup to Cleanup, closed and unregistered"


def test_05_closing_before_unregistering_looks_the_same(notebook_05: NotebookKernel) -> None:
    steps = notebook_05.cell(STEPS_CELL)
    unregister = "        session_management.unregister_sessions(reservation.session_info)\n"
    close = (
        "        behavior = SessionInitializationBehavior.ATTACH_TO_SESSION_THEN_CLOSE\n"
        "        with reservation.initialize_session(JsonLoggerSessionConstructor(behavior), "
        "LOGGER):\n            pass"
    )
    assert steps.endswith(unregister + close)

    swapped = _run_mine(notebook_05, unregister + close, close + "\n" + unregister)

    assert "Failed" not in swapped
    assert "left open on the logger: 0, still registered: 0" in swapped


def test_05_an_early_return_lets_your_cleanup_run_twice(notebook_05: NotebookKernel) -> None:
    reserve = (
        "    with session_management.reserve_all_registered_sessions(instrument_type_id=LOGGER) "
    )
    reserve += "as reservation:\n"
    early = reserve + "        if not reservation.session_info:\n            return\n"
    twice = "my_modules.destroy_logger_sessions()"
    printed = notebook_05.run_edited(STEPS_CELL, reserve, early, then=twice).output
    as_shipped = notebook_05.run_ok(notebook_05.cell(twice))

    assert printed.splitlines() == ["yours: nothing to do", "shipped: []"]
    assert as_shipped.startswith("yours: No reserved sessions matched")


# -- notebook 06 -----------------------------------------------------------------------------

RESOURCE_CELL = "class ResultsConnection"
MODULES_CELL = "%%writefile {modules_file}"
RUNS_CELL = "for title, step_2_fails in"
ROLLBACK_IN_CLEANUP = "            else:\n                info.session.rollback()\n"
ROLLBACK_ON_CLOSE = "        self.connection.rollback()\n        self.connection.close()"
COMMIT_ON_CLOSE = "        self.connection.commit()\n        self.connection.close()"


def test_06_committing_on_close_keeps_a_failed_runs_rows() -> None:
    stop = "my_step.close_service()\ndiscovery.unregister_service(registration_id)\n"
    stop += "server.stop(None)\ncourse.close()"
    with running_notebook("06_adapt_to_your_resource.ipynb", until=RUNS_CELL, stop=stop) as kernel:
        modules = kernel.cell(MODULES_CELL)
        assert ROLLBACK_IN_CLEANUP in modules
        kernel.run_ok(modules.replace(ROLLBACK_IN_CLEANUP, ""))  # Cleanup never rolls back
        runs = "my_database.unlink()\n" + kernel.cell(RUNS_CELL)
        runs += "\nprint(committed_rows(my_database))"
        rolled_back_on_close = kernel.run_ok(runs)

        resource = kernel.cell(RESOURCE_CELL)
        assert ROLLBACK_ON_CLOSE in resource
        start = kernel.cells.index(resource)
        end = kernel.cells.index(kernel.cell(RUNS_CELL))
        kernel.run_ok("my_step.close_service()\ndiscovery.unregister_service(registration_id)")
        kernel.run_ok("server.stop(None)")
        kernel.run_ok(resource.replace(ROLLBACK_ON_CLOSE, COMMIT_ON_CLOSE))
        for source in kernel.cells[start + 1 : end]:  # from 2. The resource, as the text says
            kernel.run_ok(source if source != modules else modules.replace(ROLLBACK_IN_CLEANUP, ""))
        committed_on_close = kernel.run_ok(runs)

    assert "run 2: Open the results database passed, step 1 passed, step 2 failed" in (
        rolled_back_on_close
    )
    assert rolled_back_on_close.rstrip().endswith(
        "[('step 1', 'voltage', 1.25), ('step 2', 'voltage', 2.5)]"
    )  # closing rolled run 2 back anyway
    assert committed_on_close.rstrip().endswith(
        "[('step 1', 'voltage', 1.25), ('step 2', 'voltage', 2.5), ('step 1', 'voltage', 1.25)]"
    )  # run 2's step 1 is kept although the run failed


LOCK_SERVICE = """class LockFile:
    def __init__(self, path):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL))  # the lock: the file exists
        self.path = path

    def close(self):
        os.remove(self.path)


class MyLockServicer(MyResultsServicer):
    @reports_errors
    def InitializeDatabase(self, request, context):
        path = normalize_path(request.resource_name, suffixes=(".lock",), kind="lock")
        behavior = InitializationBehavior.from_wire(request.session_initialization_behavior)
        session, created = self.registry.initialize(
            path_key(path), behavior, lambda: LockFile(path)
        )
        return pb.InitializeDatabaseResponse(
            session_id=session.session_id, new_session_initialized=created
        )


lock_server = grpc.server(futures.ThreadPoolExecutor(max_workers=20))
pb_grpc.add_MyResultsServicer_to_server(MyLockServicer(), lock_server)
lock_port = lock_server.add_insecure_port("127.0.0.1:0")
lock_server.start()
lock_report = check_service(
    f"127.0.0.1:{lock_port}",
    proto_module=pb,
    resource="{tmp}/{n}.lock",
    other_spelling="{tmp}/x/../{n}.lock",
)
lock_server.stop(None)
lock_report.raise_for_failures()
print(lock_report.summary().split(": ", 1)[1])"""


def test_06_a_hardware_lock_on_the_same_registry_follows_the_pattern() -> None:
    """The notebook's "Try it: a hardware lock": a lock file as the resource, same three lines."""
    until = "from session_core.conformance import check_client, check_service"
    stop = "discovery.unregister_service(registration_id)\nserver.stop(None)\ncourse.close()"
    with running_notebook("06_adapt_to_your_resource.ipynb", until=until, stop=stop) as kernel:
        printed = kernel.run_ok(LOCK_SERVICE)

    assert printed.strip() == "13 passed, 0 failed, 1 skipped"  # the proto has no ListSessions


# -- notebook 08 -----------------------------------------------------------------------------


def _try_it_code(notebook: str, first_line: str) -> str:
    """The Python block of a *Try it* item (indented under its list item) that starts so."""
    cells = nbformat.read(NOTEBOOKS / notebook, as_version=4).cells
    for cell in cells:
        for block in cell.source.split("```python\n")[1:]:
            code = textwrap.dedent(block.split("```")[0])
            if code.startswith(first_line):
                return code
    raise AssertionError(f"no Try it block of {notebook} starts with {first_line!r}")


def test_08_a_late_answer_is_read_as_the_answer_to_the_next_query() -> None:
    code = _try_it_code("08_share_a_connection.ipynb", "import time")
    until = "session_picture(sorted(names.values())"
    stop = "discovery.unregister_service(registration_id)\nserver.stop(None)\ncourse.close()"
    with running_notebook("08_share_a_connection.ipynb", until=until, stop=stop) as kernel:
        printed = kernel.run_ok(code)

    assert printed.splitlines() == [
        "the first query: INTERNAL",
        "the second query's answer: one",
    ]


# -- after "Stop everything" -----------------------------------------------------------------


def test_a_cell_run_after_stop_everything_says_to_rerun_the_first_cell() -> None:
    stopped = "re-run the notebook from its first cell"
    call = (
        "stub = pb_grpc.JsonLoggerStub(grpc.insecure_channel(course.logger.address))\n"
        "stub.ListSessions(pb.ListSessionsRequest(), timeout=2)"
    )
    with notebook_kernel("03_initialization_behaviors.ipynb") as kernel:
        kernel.run_ok(kernel.cell("course = Course()"))
        running = kernel.run(call)
        kernel.run_ok(kernel.cell("course.close()"))
        dead_service = kernel.run(call)
        restarting = kernel.run("course.start_services(plugins=False, results=False)")
        kernel.run_ok(kernel.cell("course = Course()"))  # the first cell again
        again = kernel.run(call)
        kernel.run_ok("course.close()")

    assert running.ok
    assert dead_service.error == "_InactiveRpcError"
    assert stopped in dead_service.output
    assert restarting.error == "RuntimeError" and stopped in restarting.message
    assert again.ok


def test_03_a_failed_experiment_leaves_nothing_that_breaks_the_next_run() -> None:
    broken = """class Broken(MyLoggerClient):
    def log_data(self, *args):
        if not self.new_session_initialized:  # a plug-in step, after Setup detached
            raise KeyError("a typo in an experiment")
        super().log_data(*args)


run_story(Broken)"""
    with running_notebook("03_initialization_behaviors.ipynb", until="def run_story") as kernel:
        failed = kernel.run(broken)
        after = kernel.run_ok(
            """print(len(open_sessions()))
rows, _ = run_story(MyLoggerClient)
print(rows[2][:2], rows[2][3])""",
        )

    assert failed.error == "KeyError"
    assert after.splitlines() == ["0", "('TestStand Setup', 'INITIALIZE_SESSION_THEN_DETACH') True"]
