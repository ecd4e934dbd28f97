"""The Results Database Service over a real process, against a real SQLite file and a real
PostgreSQL server: behaviours, the client's five NI behaviours, what is visible when, refused rows
and batches, reading back, every documented status code, a lost connection and shutdown.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import signal
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import grpc
import psycopg
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from ni.measurementlink.sessionmanagement.v1.client import (
    SessionInformation,
    SessionInitializationBehavior,
)

from results_client import (
    RESULTS_DATABASE_INSTRUMENT_TYPE,
    ResultRow,
    ResultsDatabaseClient,
    ResultsDatabaseSessionConstructor,
)
from results_database import results_database_pb2 as pb
from results_database.results_database_pb2_grpc import ResultsDatabaseStub
from results_service.backends import LOCK_WAIT_SECONDS, SQLITE
from results_service.store import Caller, ResultsStore, Row
from session_core.errors import DeadlineExceededError
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.programs import results_service_process, start_results_service
from tests.limited_process import limited_service
from tests.postgres_server import (
    PASSWORD,
    SUPERUSER,
    PostgresServer,
    PostgresUnavailableError,
    find_bin_dir,
)

UNSPECIFIED = pb.SESSION_INITIALIZATION_BEHAVIOR_UNSPECIFIED
INITIALIZE_NEW = pb.SESSION_INITIALIZATION_BEHAVIOR_INITIALIZE_NEW
ATTACH_TO_EXISTING = pb.SESSION_INITIALIZATION_BEHAVIOR_ATTACH_TO_EXISTING

Behavior = SessionInitializationBehavior
Query = Callable[[str], list[Any]]

RUN = "run-42"
TIMEOUT = 10.0


# -- fixtures: one PostgreSQL server, one service process, one database per test --------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the whole file (skipped locally without its binaries)."""
    try:
        bin_dir = find_bin_dir()
    except PostgresUnavailableError as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required on CI: {error}")
        pytest.skip(str(error))
    with PostgresServer(bin_dir) as server:
        yield server


@pytest.fixture(scope="module")
def results_process() -> Iterator[ServiceProcess]:
    """One Results Database Service process for the module, without discovery."""
    process = start_results_service(discovery=False)
    yield process
    assert process.stop() == 0, process.stderr_tail


@pytest.fixture(scope="module")
def results_address(results_process: ServiceProcess) -> str:
    return results_process.address


def close_all_sessions(stub: ResultsDatabaseStub) -> None:
    for session in stub.ListSessions(pb.ListSessionsRequest(), timeout=TIMEOUT).sessions:
        with contextlib.suppress(grpc.RpcError):
            close(stub, session.session_id)


@pytest.fixture
def stub(results_address: str) -> Iterator[ResultsDatabaseStub]:
    """A raw stub; afterwards the service still answers and no session of the test stays open."""
    with grpc.insecure_channel(results_address) as channel:
        results_stub = ResultsDatabaseStub(channel)
        yield results_stub
        close_all_sessions(results_stub)


def create_postgres_database(server: PostgresServer) -> str:
    name = f"results_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url_for("postgres"), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return name


def drop_postgres_database(server: PostgresServer, name: str) -> None:
    with psycopg.connect(server.url_for("postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class Database:
    """One results database of a test, and a way to look at it that is not the service's."""

    backend: str
    resource_name: str
    """What a client sends (the PostgreSQL URL carries the password)."""
    display_name: str
    """What the service shows: the resolved path, or the URL without the password."""
    kind: int
    path: Path | None = None
    url: str = ""
    name: str = ""
    server: PostgresServer | None = field(default=None, repr=False)

    @contextlib.contextmanager
    def independent(self) -> Iterator[Query]:
        """A connection of its own (sqlite3 / psycopg directly), in autocommit mode."""
        if self.path is not None:
            connection = sqlite3.connect(self.path, isolation_level=None)
            try:
                yield lambda sql: connection.execute(sql).fetchall()
            finally:
                connection.close()
        else:
            with psycopg.connect(self.url, autocommit=True) as pg_connection:

                def query(sql: str) -> list[Any]:
                    cursor = pg_connection.execute(sql)
                    return cursor.fetchall() if cursor.description is not None else []

                yield query

    def committed(self) -> list[str]:
        """The measurement names another connection sees, in row_id order."""
        with self.independent() as query:
            return [name for (name,) in query(NAMES_SQL)]


NAMES_SQL = "SELECT measurement_name FROM results ORDER BY row_id"


@contextlib.contextmanager
def sqlite_database(tmp_path: Path, stub: ResultsDatabaseStub) -> Iterator[Database]:
    path = tmp_path / "results.db"
    try:
        yield Database("sqlite", str(path), str(path.resolve()), pb.BACKEND_SQLITE, path=path)
    finally:
        close_all_sessions(stub)


@contextlib.contextmanager
def postgres_database(server: PostgresServer, stub: ResultsDatabaseStub) -> Iterator[Database]:
    name = create_postgres_database(server)
    try:
        yield Database(
            "postgresql",
            server.url_for(name),
            f"postgresql://{SUPERUSER}@localhost:{server.port}/{name}",
            pb.BACKEND_POSTGRESQL,
            url=server.url_for(name),
            name=name,
            server=server,
        )
    finally:
        close_all_sessions(stub)
        drop_postgres_database(server, name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, stub: ResultsDatabaseStub
) -> Iterator[Database]:
    """An SQLite file in tmp_path, or a fresh database on the PostgreSQL server."""
    if request.param == "sqlite":
        with sqlite_database(tmp_path, stub) as database:
            yield database
    else:
        with postgres_database(request.getfixturevalue("postgres"), stub) as database:
            yield database


@pytest.fixture
def sqlite_db(tmp_path: Path, stub: ResultsDatabaseStub) -> Iterator[Database]:
    """An SQLite file in tmp_path."""
    with sqlite_database(tmp_path, stub) as database:
        yield database


@pytest.fixture
def pg_database(postgres: PostgresServer, stub: ResultsDatabaseStub) -> Iterator[Database]:
    """A fresh database on the PostgreSQL server."""
    with postgres_database(postgres, stub) as database:
        yield database


# -- helpers ----------------------------------------------------------------------------------


def initialize(
    stub: ResultsDatabaseStub, resource: str | Path, behavior: int = UNSPECIFIED
) -> pb.InitializeDatabaseResponse:
    request = pb.InitializeDatabaseRequest(
        resource_name=str(resource),
        session_initialization_behavior=behavior,  # type: ignore[arg-type]
    )
    response: pb.InitializeDatabaseResponse = stub.InitializeDatabase(request, timeout=TIMEOUT)
    return response


def row(name: str = "current", value: float = 1.0, **fields: Any) -> pb.ResultRow:
    return pb.ResultRow(measurement_name=name, value=value, **fields)


def record(
    stub: ResultsDatabaseStub,
    session_id: str,
    name: str = "current",
    value: float = 1.0,
    **fields: Any,
) -> int:
    response = stub.RecordResult(
        pb.RecordResultRequest(session_id=session_id, row=row(name, value, **fields)),
        timeout=TIMEOUT,
    )
    return int(response.row_id)


def record_rows(stub: ResultsDatabaseStub, session_id: str, rows: Sequence[pb.ResultRow]) -> int:
    response = stub.RecordResults(
        pb.RecordResultsRequest(session_id=session_id, rows=rows), timeout=TIMEOUT
    )
    return int(response.rows_recorded)


def read(
    stub: ResultsDatabaseStub,
    session_id: str,
    *,
    run_id: str = "",
    after: int = 0,
    max_rows: int = 0,
) -> list[pb.StoredResult]:
    response = stub.ReadResults(
        pb.ReadResultsRequest(
            session_id=session_id, run_id=run_id, after_row_id=after, max_rows=max_rows
        ),
        timeout=TIMEOUT,
    )
    return list(response.results)


def names(results: Sequence[pb.StoredResult]) -> list[str]:
    return [result.row.measurement_name for result in results]


def commit(stub: ResultsDatabaseStub, session_id: str) -> int:
    response = stub.Commit(pb.CommitRequest(session_id=session_id), timeout=TIMEOUT)
    return int(response.rows_committed)


def rollback(stub: ResultsDatabaseStub, session_id: str) -> int:
    response = stub.Rollback(pb.RollbackRequest(session_id=session_id), timeout=TIMEOUT)
    return int(response.rows_discarded)


def close(stub: ResultsDatabaseStub, session_id: str) -> int:
    response = stub.CloseDatabase(pb.CloseDatabaseRequest(session_id=session_id), timeout=TIMEOUT)
    return int(response.rows_discarded)


def listed(stub: ResultsDatabaseStub) -> dict[str, pb.SessionDescription]:
    response = stub.ListSessions(pb.ListSessionsRequest(), timeout=TIMEOUT)
    return {session.session_id: session for session in response.sessions}


def expect_status(call: Callable[[], object], code: grpc.StatusCode, *fragments: str) -> str:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    error = raised.value
    assert isinstance(error, grpc.RpcError)
    assert error.code() is code, error.details()
    details: str = error.details() or ""
    for fragment in fragments:
        assert fragment in details, details
    return details


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def free_port_socket() -> socket.socket:
    """A bound, not listening socket: connecting to its port is refused while it stays open."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


# -- the three server behaviours --------------------------------------------------------------


def test_initialize_new_creates_then_refuses_a_second_session(
    stub: ResultsDatabaseStub, database: Database
) -> None:
    created = initialize(stub, database.resource_name, INITIALIZE_NEW)

    assert created.new_session_initialized
    assert created.backend == database.kind
    assert created.resource_name == database.display_name
    expect_status(
        lambda: initialize(stub, database.resource_name, INITIALIZE_NEW),
        grpc.StatusCode.ALREADY_EXISTS,
        created.session_id,
    )
    assert list(listed(stub)) == [created.session_id]


def test_attach_to_existing_attaches_or_is_not_found(
    stub: ResultsDatabaseStub, database: Database
) -> None:
    expect_status(
        lambda: initialize(stub, database.resource_name, ATTACH_TO_EXISTING),
        grpc.StatusCode.NOT_FOUND,
        "no open session",
    )
    assert listed(stub) == {}
    created = initialize(stub, database.resource_name, INITIALIZE_NEW)

    attached = initialize(stub, database.resource_name, ATTACH_TO_EXISTING)

    assert attached.session_id == created.session_id
    assert not attached.new_session_initialized
    assert attached.backend == database.kind
    assert close(stub, created.session_id) == 0
    expect_status(
        lambda: initialize(stub, database.resource_name, ATTACH_TO_EXISTING),
        grpc.StatusCode.NOT_FOUND,
    )


def test_unspecified_attaches_or_creates(stub: ResultsDatabaseStub, database: Database) -> None:
    first = initialize(stub, database.resource_name, UNSPECIFIED)
    again = initialize(stub, database.resource_name, UNSPECIFIED)

    assert first.new_session_initialized and not again.new_session_initialized
    assert again.session_id == first.session_id

    close(stub, first.session_id)
    reopened = initialize(stub, database.resource_name, UNSPECIFIED)
    assert reopened.new_session_initialized
    assert reopened.session_id != first.session_id


# -- the client's five NI behaviours ----------------------------------------------------------

# (behaviour, session already open before?, expect new session?, expect closed on exit?)
EXIT_EFFECTS = [
    (Behavior.AUTO, False, True, True),
    (Behavior.AUTO, True, False, False),
    (Behavior.INITIALIZE_SERVER_SESSION, False, True, True),
    (Behavior.ATTACH_TO_SERVER_SESSION, True, False, False),
    (Behavior.INITIALIZE_SESSION_THEN_DETACH, False, True, False),
    (Behavior.ATTACH_TO_SESSION_THEN_CLOSE, True, False, True),
]


@pytest.mark.parametrize(("behavior", "pre_open", "new", "closed"), EXIT_EFFECTS)
def test_client_exit_effect_of_each_behaviour(
    results_address: str,
    stub: ResultsDatabaseStub,
    database: Database,
    behavior: Behavior,
    pre_open: bool,
    new: bool,
    closed: bool,
) -> None:
    existing = (
        initialize(stub, database.resource_name, INITIALIZE_NEW).session_id if pre_open else None
    )

    with ResultsDatabaseClient(
        database.resource_name, initialization_behavior=behavior, address=results_address
    ) as client:
        row_id = client.record_result("current", 0.5, unit="A", step_name=behavior.name)
        [seen] = client.read_results()
        session_id = client.session_id

    assert seen.row_id == row_id and seen.row.step_name == behavior.name
    assert client.new_session_initialized is new
    assert (existing or session_id) == session_id
    sessions = listed(stub)
    assert (session_id not in sessions) is closed
    assert client.is_open is not closed
    # Nobody committed: closing rolled the row back; leaving the session open kept it pending.
    assert database.committed() == []
    if not closed:
        assert sessions[session_id].rows_pending == 1
        assert commit(stub, session_id) == 1
        assert database.committed() == ["current"]


class BoomError(Exception):
    pass


@pytest.mark.parametrize(
    ("behavior", "pre_open", "closed"),
    [
        (Behavior.AUTO, False, True),
        (Behavior.AUTO, True, False),
        (Behavior.INITIALIZE_SERVER_SESSION, False, True),
        (Behavior.ATTACH_TO_SERVER_SESSION, True, False),
        # a failed setup closes what it created instead of leaving an orphan nobody registers
        (Behavior.INITIALIZE_SESSION_THEN_DETACH, False, True),
        (Behavior.ATTACH_TO_SESSION_THEN_CLOSE, True, True),
    ],
)
def test_client_exit_with_an_exception_in_flight(
    results_address: str,
    stub: ResultsDatabaseStub,
    database: Database,
    behavior: Behavior,
    pre_open: bool,
    closed: bool,
) -> None:
    if pre_open:
        initialize(stub, database.resource_name, INITIALIZE_NEW)

    with (
        pytest.raises(BoomError),
        ResultsDatabaseClient(
            database.resource_name, initialization_behavior=behavior, address=results_address
        ) as client,
    ):
        client.record_result("current", 1.0)
        raise BoomError

    assert (client.session_id not in listed(stub)) is closed
    assert database.committed() == []


def test_client_initialize_and_attach_fail_with_the_server_codes(
    results_address: str, stub: ResultsDatabaseStub, database: Database
) -> None:
    attach = ResultsDatabaseClient(
        database.resource_name,
        initialization_behavior=Behavior.ATTACH_TO_SERVER_SESSION,
        address=results_address,
    )
    expect_status(attach.__enter__, grpc.StatusCode.NOT_FOUND)
    assert not attach.is_open

    existing = initialize(stub, database.resource_name, INITIALIZE_NEW).session_id
    for behavior in (Behavior.INITIALIZE_SERVER_SESSION, Behavior.INITIALIZE_SESSION_THEN_DETACH):
        client = ResultsDatabaseClient(
            database.resource_name, initialization_behavior=behavior, address=results_address
        )
        expect_status(client.__enter__, grpc.StatusCode.ALREADY_EXISTS, existing)
        assert not client.is_open
    assert list(listed(stub)) == [existing]


def test_client_records_batches_pages_and_commits(results_address: str, database: Database) -> None:
    count = 2500  # more than two of the client's 1,000-row pages
    rows = (
        ResultRow(f"m{i:04d}", float(i), unit="V", low_limit=0.0, high_limit=2000.0, run_id=RUN)
        for i in range(count)
    )

    with ResultsDatabaseClient(database.resource_name, address=results_address) as client:
        assert client.record_results(rows, batch_size=700) == count
        read_back = client.read_results(run_id=RUN)
        assert database.committed() == []
        assert client.commit() == count

    assert [result.row.measurement_name for result in read_back] == [
        f"m{i:04d}" for i in range(count)
    ]
    assert [result.row_id for result in read_back] == sorted({r.row_id for r in read_back})
    assert [result.passed for result in read_back] == [i <= 2000 for i in range(count)]
    assert read_back[7].row == ResultRow(
        "m0007",
        7.0,
        unit="V",
        low_limit=0.0,
        high_limit=2000.0,
        run_id=RUN,
        measured_at=read_back[7].row.measured_at,
    )
    assert len(database.committed()) == count


def test_client_batch_failure_keeps_earlier_batches_and_names_the_row(
    results_address: str, database: Database
) -> None:
    rows = [ResultRow(f"m{i}", float(i)) for i in range(5)]
    rows[3] = ResultRow("m3", math.nan)

    with ResultsDatabaseClient(database.resource_name, address=results_address) as client:
        expect_status(
            lambda: client.record_results(rows, batch_size=2),
            grpc.StatusCode.INVALID_ARGUMENT,
            "rows[1]",
            "value is nan",
        )
        # the first batch (m0, m1) stays recorded; the failing batch (m2, m3) left nothing
        assert [r.row.measurement_name for r in client.read_results()] == ["m0", "m1"]
        assert client.commit() == 2

    assert database.committed() == ["m0", "m1"]


def test_client_rollback_and_close_database(results_address: str, database: Database) -> None:
    with ResultsDatabaseClient(
        database.resource_name,
        initialization_behavior=Behavior.INITIALIZE_SESSION_THEN_DETACH,
        address=results_address,
    ) as client:
        client.record_result("kept", 1.0)
        assert client.commit() == 1
        client.record_result("discarded", 2.0)
        assert client.rollback() == 1
        client.record_result("closed-away", 3.0)
        client.close_session()
        assert not client.is_open
        with pytest.raises(RuntimeError, match="not open"):
            client.record_result("late", 4.0)

    assert database.committed() == ["kept"]


def test_client_commits_if_created_only_the_session_it_created(
    results_address: str, database: Database
) -> None:
    # TestStand Setup creates the session and leaves it open; a step attaches (AUTO) and records.
    with ResultsDatabaseClient(
        database.resource_name,
        initialization_behavior=Behavior.INITIALIZE_SESSION_THEN_DETACH,
        address=results_address,
    ) as setup:
        with ResultsDatabaseClient(database.resource_name, address=results_address) as step:
            step.record_result("step", 1.0)
            assert not step.new_session_initialized
            assert step.commit_if_created() == 0  # Cleanup owns the transaction
        assert database.committed() == []
        assert setup.commit() == 1  # Cleanup
        setup.close_session()

    # Run alone, the plug-in creates the session and owns its transaction.
    with ResultsDatabaseClient(database.resource_name, address=results_address) as alone:
        alone.record_result("alone", 2.0)
        assert alone.new_session_initialized
        assert alone.commit_if_created() == 1
        assert database.committed() == ["step", "alone"]


def test_client_resolves_a_relative_path_against_its_own_working_directory(
    results_address: str, stub: ResultsDatabaseStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    with ResultsDatabaseClient("relative.db", address=results_address) as client:
        client.record_result("current", 1.0)
        assert client.commit() == 1
        assert client.resource_name == str(tmp_path / "relative.db")
        [description] = listed(stub).values()
        assert description.resource_name == str((tmp_path / "relative.db").resolve())

    with contextlib.closing(sqlite3.connect(tmp_path / "relative.db")) as connection:
        assert connection.execute(NAMES_SQL).fetchall() == [("current",)]


def test_session_constructor_builds_a_client_for_the_reserved_database(
    results_address: str, stub: ResultsDatabaseStub, database: Database
) -> None:
    session_info = SessionInformation(
        session_name=f"{RESULTS_DATABASE_INSTRUMENT_TYPE}-1",
        resource_name=database.resource_name,
        channel_list="0",
        instrument_type_id=RESULTS_DATABASE_INSTRUMENT_TYPE,
        session_exists=False,
        channel_mappings=[],
    )
    constructor = ResultsDatabaseSessionConstructor(
        Behavior.INITIALIZE_SESSION_THEN_DETACH, address=results_address
    )

    client = constructor(session_info)

    assert isinstance(client, ResultsDatabaseClient)
    with client as entered:
        assert entered is client
        client.record_result("current", 1.0)
    assert listed(stub)[client.session_id].rows_pending == 1


# -- what is visible when ---------------------------------------------------------------------


def test_uncommitted_rows_are_invisible_elsewhere_until_commit_then_all_visible(
    stub: ResultsDatabaseStub, database: Database
) -> None:
    session_id = initialize(stub, database.resource_name).session_id
    with database.independent() as other:
        record(stub, session_id, "a")
        assert record_rows(stub, session_id, [row("b"), row("c")]) == 2

        assert names(read(stub, session_id)) == ["a", "b", "c"]  # the session sees its own rows
        assert other(NAMES_SQL) == []  # another connection does not
        assert listed(stub)[session_id].rows_pending == 3

        assert commit(stub, session_id) == 3

        assert [name for (name,) in other(NAMES_SQL)] == ["a", "b", "c"]
    description = listed(stub)[session_id]
    assert (description.rows_pending, description.rows_committed) == (0, 3)
    assert commit(stub, session_id) == 0  # nothing left to commit; the session stays open
    record(stub, session_id, "d")
    assert database.committed() == ["a", "b", "c"]


def test_rollback_discards_the_uncommitted_rows_only(
    stub: ResultsDatabaseStub, database: Database
) -> None:
    session_id = initialize(stub, database.resource_name).session_id
    record(stub, session_id, "a")
    record(stub, session_id, "b")
    assert commit(stub, session_id) == 2
    record(stub, session_id, "c")
    record_rows(stub, session_id, [row("d"), row("e")])

    assert rollback(stub, session_id) == 3

    assert names(read(stub, session_id)) == ["a", "b"]
    assert database.committed() == ["a", "b"]
    assert rollback(stub, session_id) == 0
    # the session stays open and usable; a discarded row's key is free again
    record(stub, session_id, "c")
    assert commit(stub, session_id) == 1
    assert database.committed() == ["a", "b", "c"]


def test_close_without_commit_rolls_back_and_reports_rows_discarded(
    stub: ResultsDatabaseStub, database: Database
) -> None:
    session_id = initialize(stub, database.resource_name).session_id
    record(stub, session_id, "a", run_id=RUN)
    assert commit(stub, session_id) == 1
    record(stub, session_id, "b", run_id=RUN)
    record_rows(stub, session_id, [row("c", run_id=RUN), row("d", run_id=RUN)])

    assert close(stub, session_id) == 3

    assert session_id not in listed(stub)
    assert database.committed() == ["a"]
    reopened = initialize(stub, database.resource_name, INITIALIZE_NEW).session_id
    assert names(read(stub, reopened, run_id=RUN)) == ["a"]
    assert close(stub, reopened) == 0


# -- refused rows and batches -----------------------------------------------------------------

OUT_OF_RANGE = Timestamp(seconds=253402300800)  # year 10000

REFUSED_ROWS = [
    pytest.param(
        row("a", run_id=RUN), grpc.StatusCode.ALREADY_EXISTS, "already", id="duplicate-committed"
    ),
    pytest.param(
        row("b", 9.0, run_id=RUN),
        grpc.StatusCode.ALREADY_EXISTS,
        "already",
        id="duplicate-uncommitted",
    ),
    pytest.param(
        row("c", math.nan, run_id=RUN), grpc.StatusCode.INVALID_ARGUMENT, "nan", id="nan-value"
    ),
    pytest.param(
        row("c", math.inf, run_id=RUN), grpc.StatusCode.INVALID_ARGUMENT, "inf", id="inf-value"
    ),
    pytest.param(
        row("c", run_id=RUN, low_limit=math.nan),
        grpc.StatusCode.INVALID_ARGUMENT,
        "low_limit",
        id="nan-limit",
    ),
    pytest.param(
        row("c", run_id=RUN, high_limit=-math.inf),
        grpc.StatusCode.INVALID_ARGUMENT,
        "high_limit",
        id="infinite-limit",
    ),
    pytest.param(
        row("c", run_id=RUN, low_limit=2.0, high_limit=1.0),
        grpc.StatusCode.INVALID_ARGUMENT,
        "greater than high_limit",
        id="low-above-high",
    ),
    pytest.param(
        row("c", run_id=RUN, site=-1),
        grpc.StatusCode.INVALID_ARGUMENT,
        "site is -1",
        id="negative-site",
    ),
    pytest.param(
        row("c\0d", run_id=RUN), grpc.StatusCode.INVALID_ARGUMENT, "NUL", id="nul-in-name"
    ),
    pytest.param(
        row("c", run_id=RUN, unit="V\0"), grpc.StatusCode.INVALID_ARGUMENT, "unit", id="nul-in-unit"
    ),
    pytest.param(
        row("", run_id=RUN),
        grpc.StatusCode.INVALID_ARGUMENT,
        "measurement_name is empty",
        id="empty-measurement-name",
    ),
    pytest.param(
        row("c", run_id=RUN, step_name="s" * 1001),
        grpc.StatusCode.INVALID_ARGUMENT,
        "1001 characters",
        id="text-too-long",
    ),
    pytest.param(
        row("c", run_id=RUN, measured_at=OUT_OF_RANGE),
        grpc.StatusCode.INVALID_ARGUMENT,
        "measured_at",
        id="timestamp-out-of-range",
    ),
]


@pytest.mark.parametrize(("bad", "code", "fragment"), REFUSED_ROWS)
def test_refused_row_writes_nothing_and_keeps_earlier_uncommitted_rows(
    stub: ResultsDatabaseStub,
    database: Database,
    bad: pb.ResultRow,
    code: grpc.StatusCode,
    fragment: str,
) -> None:
    session_id = initialize(stub, database.resource_name).session_id
    record(stub, session_id, "a", run_id=RUN)
    commit(stub, session_id)
    record(stub, session_id, "b", run_id=RUN)

    expect_status(
        lambda: stub.RecordResult(
            pb.RecordResultRequest(session_id=session_id, row=bad), timeout=TIMEOUT
        ),
        code,
        fragment,
    )

    assert names(read(stub, session_id, run_id=RUN)) == ["a", "b"]
    assert listed(stub)[session_id].rows_pending == 1
    assert database.committed() == ["a"]
    record(stub, session_id, "e", run_id=RUN)  # the transaction goes on
    assert commit(stub, session_id) == 2
    assert database.committed() == ["a", "b", "e"]


def test_the_longest_allowed_text_is_stored(stub: ResultsDatabaseStub, database: Database) -> None:
    session_id = initialize(stub, database.resource_name).session_id
    record(stub, session_id, "n" * 1000, step_name="s" * 1000, unit="u" * 1000, run_id="r" * 1000)
    assert commit(stub, session_id) == 1
    assert database.committed() == ["n" * 1000]


def good_rows(*measurement_names: str) -> list[pb.ResultRow]:
    return [row(name, run_id=RUN) for name in measurement_names]


REFUSED_BATCHES = [
    pytest.param(
        [*good_rows("c0", "c1"), row("c2", math.nan, run_id=RUN), *good_rows("c3")],
        grpc.StatusCode.INVALID_ARGUMENT,
        "rows[2]",
        id="nan-in-the-middle",
    ),
    pytest.param(
        [row("c0", run_id=RUN, low_limit=3.0, high_limit=1.0), *good_rows("c1")],
        grpc.StatusCode.INVALID_ARGUMENT,
        "rows[0]",
        id="first-row-low-above-high",
    ),
    pytest.param(
        good_rows("c0", "c1", "c2", "c1"),
        grpc.StatusCode.ALREADY_EXISTS,
        "rows[3]",
        id="duplicate-within-the-batch",
    ),
    pytest.param(
        good_rows("c0", "a"),
        grpc.StatusCode.ALREADY_EXISTS,
        "rows[1]",
        id="duplicate-of-a-committed-row",
    ),
    pytest.param(
        good_rows("c0", "b"),
        grpc.StatusCode.ALREADY_EXISTS,
        "rows[1]",
        id="duplicate-of-an-uncommitted-row",
    ),
    pytest.param(
        [*good_rows("c0", "c1"), row("c2", run_id=RUN, measured_at=OUT_OF_RANGE)],
        grpc.StatusCode.INVALID_ARGUMENT,
        "rows[2]",
        id="timestamp-out-of-range",
    ),
    pytest.param(
        [row("c0", run_id=RUN, site=-3)],
        grpc.StatusCode.INVALID_ARGUMENT,
        "rows[0]",
        id="the-only-row",
    ),
]


@pytest.mark.parametrize(("batch", "code", "index"), REFUSED_BATCHES)
def test_batch_with_one_bad_row_writes_none_of_it_and_names_the_index(
    stub: ResultsDatabaseStub,
    database: Database,
    batch: list[pb.ResultRow],
    code: grpc.StatusCode,
    index: str,
) -> None:
    session_id = initialize(stub, database.resource_name).session_id
    record(stub, session_id, "a", run_id=RUN)
    commit(stub, session_id)
    record(stub, session_id, "b", run_id=RUN)

    expect_status(lambda: record_rows(stub, session_id, batch), code, index)

    assert names(read(stub, session_id, run_id=RUN)) == ["a", "b"]
    assert listed(stub)[session_id].rows_pending == 1
    assert commit(stub, session_id) == 1
    assert database.committed() == ["a", "b"]


def test_an_empty_batch_records_nothing(stub: ResultsDatabaseStub, database: Database) -> None:
    session_id = initialize(stub, database.resource_name).session_id
    assert record_rows(stub, session_id, []) == 0
    assert commit(stub, session_id) == 0
    assert database.committed() == []


# -- reading back -----------------------------------------------------------------------------


def test_read_results_pages_in_row_id_order_and_filters_by_run(
    stub: ResultsDatabaseStub, database: Database
) -> None:
    earlier = initialize(stub, database.resource_name, INITIALIZE_NEW).session_id
    record(stub, earlier, "old", run_id="r1")
    commit(stub, earlier)
    close(stub, earlier)
    session_id = initialize(stub, database.resource_name, INITIALIZE_NEW).session_id
    ids = [record(stub, session_id, f"m{i}", run_id="r1") for i in range(5)]
    record(stub, session_id, "other", run_id="r2")
    own = record(stub, session_id, "own")  # no run id: stored under the session id

    assert ids == sorted(set(ids))
    run = read(stub, session_id, run_id="r1")
    assert names(run) == ["old", "m0", "m1", "m2", "m3", "m4"]
    assert [r.row_id for r in run[1:]] == ids
    assert run[0].session_id == earlier and {r.session_id for r in run[1:]} == {session_id}

    pages: list[list[str]] = []
    after = 0
    while page := read(stub, session_id, run_id="r1", after=after, max_rows=2):
        pages.append(names(page))
        after = page[-1].row_id
    assert pages == [["old", "m0"], ["m1", "m2"], ["m3", "m4"]]

    # empty run_id: the rows this session recorded, whatever their run
    assert names(read(stub, session_id)) == ["m0", "m1", "m2", "m3", "m4", "other", "own"]
    assert names(read(stub, session_id, after=ids[2], max_rows=3)) == ["m3", "m4", "other"]
    [mine] = read(stub, session_id, run_id=session_id)
    assert (mine.row_id, mine.row.run_id, mine.row.measurement_name) == (own, session_id, "own")
    assert read(stub, session_id, run_id="no-such-run") == []
    assert read(stub, session_id, run_id="r1", after=ids[-1]) == []


def test_max_rows_defaults_to_1000_and_is_capped_at_10000(
    stub: ResultsDatabaseStub, database: Database
) -> None:
    session_id = initialize(stub, database.resource_name).session_id
    assert record_rows(stub, session_id, [row(f"m{i}") for i in range(10_001)]) == 10_001

    assert len(read(stub, session_id)) == 1000
    assert len(read(stub, session_id, max_rows=20_000)) == 10_000
    assert len(read(stub, session_id, max_rows=10_000)) == 10_000
    assert len(read(stub, session_id, max_rows=7)) == 7


PASSED_CASES = [
    # (value, low_limit, high_limit, passed)
    (1.0, None, None, None),
    (1.0, 0.0, None, True),
    (-1.0, 0.0, None, False),
    (1.0, None, 2.0, True),
    (3.0, None, 2.0, False),
    (1.0, 0.0, 2.0, True),
    (0.0, 0.0, 2.0, True),
    (2.0, 0.0, 2.0, True),
    (2.5, 0.0, 2.0, False),
    (-0.5, 0.0, 2.0, False),
    (1.0, 1.0, 1.0, True),
]


def test_passed_is_computed_from_the_limits_given(
    stub: ResultsDatabaseStub, database: Database
) -> None:
    session_id = initialize(stub, database.resource_name).session_id
    rows = []
    for index, (value, low, high, _) in enumerate(PASSED_CASES):
        message = row(f"m{index:02d}", value)
        if low is not None:
            message.low_limit = low
        if high is not None:
            message.high_limit = high
        rows.append(message)
    record_rows(stub, session_id, rows)

    read_back = read(stub, session_id)
    assert [r.passed if r.HasField("passed") else None for r in read_back] == [
        case[3] for case in PASSED_CASES
    ]
    assert [
        (
            r.row.low_limit if r.row.HasField("low_limit") else None,
            r.row.high_limit if r.row.HasField("high_limit") else None,
        )
        for r in read_back
    ] == [(case[1], case[2]) for case in PASSED_CASES]

    commit(stub, session_id)
    with database.independent() as other:
        stored = other("SELECT passed FROM results ORDER BY row_id")
    assert [None if p is None else bool(p) for (p,) in stored] == [c[3] for c in PASSED_CASES]


def test_rows_read_back_as_recorded(stub: ResultsDatabaseStub, database: Database) -> None:
    session_id = initialize(stub, database.resource_name).session_id
    measured = datetime(2024, 2, 29, 13, 14, 15, 123456, tzinfo=timezone.utc)
    sent = row(
        "voltage",
        -4.25e-7,
        run_id="uut-7",
        step_name="DC sweep",
        unit="V",
        low_limit=-1.0,
        site=3,
        measured_at=timestamp(measured),
    )
    stub.RecordResult(pb.RecordResultRequest(session_id=session_id, row=sent), timeout=TIMEOUT)
    before = datetime.now(timezone.utc).replace(microsecond=0)
    record(stub, session_id, "unstamped", run_id="uut-7")
    after = datetime.now(timezone.utc)

    explicit, unstamped = read(stub, session_id, run_id="uut-7")

    assert explicit.row == sent
    assert explicit.passed is True and explicit.session_id == session_id
    assert not explicit.row.HasField("high_limit")
    assert before <= unstamped.row.measured_at.ToDatetime(tzinfo=timezone.utc) <= after
    assert not unstamped.HasField("passed")


# -- InitializeDatabase: every documented status ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("relative-results-7f3a.db", "not an absolute path"),
        ("{tmp}/results.csv", "must end with .db, .sqlite, .sqlite3"),
        ("{tmp}/noextension", "must end with"),
        ("{tmp}/results.db.bak", "must end with"),
    ],
)
def test_bad_resource_names_are_invalid_argument(
    stub: ResultsDatabaseStub, tmp_path: Path, name: str, fragment: str
) -> None:
    resource = name.format(tmp=tmp_path)

    expect_status(
        lambda: initialize(stub, resource, INITIALIZE_NEW),
        grpc.StatusCode.INVALID_ARGUMENT,
        fragment,
    )

    assert list(tmp_path.iterdir()) == []
    assert not Path(os.getcwd(), "relative-results-7f3a.db").exists()  # not the service's cwd


@pytest.mark.parametrize("suffix", [".db", ".sqlite", ".sqlite3", ".DB", ".SQLite3"])
def test_each_allowed_suffix_in_any_case_is_created(
    stub: ResultsDatabaseStub, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"results{suffix}"
    response = initialize(stub, path, INITIALIZE_NEW)
    assert response.backend == pb.BACKEND_SQLITE
    assert path.is_file()
    close(stub, response.session_id)


def test_directory_is_invalid_argument(stub: ResultsDatabaseStub, tmp_path: Path) -> None:
    directory = tmp_path / "folder.db"
    directory.mkdir()

    expect_status(
        lambda: initialize(stub, directory, INITIALIZE_NEW),
        grpc.StatusCode.INVALID_ARGUMENT,
        "is a directory",
    )
    assert list(directory.iterdir()) == []


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://results@127.0.0.1:notaport/results",
        "postgresql://127.0.0.1/results?no_such_option=1",
        "postgresql://[::1/results",
        "postgresql://%zz@127.0.0.1/results",
        "postgresql://",
        "postgres://results@127.0.0.1:99999/results",
    ],
)
def test_malformed_urls_are_invalid_argument(stub: ResultsDatabaseStub, url: str) -> None:
    expect_status(lambda: initialize(stub, url, INITIALIZE_NEW), grpc.StatusCode.INVALID_ARGUMENT)
    assert listed(stub) == {}


def test_malformed_url_errors_never_echo_the_password(stub: ResultsDatabaseStub) -> None:
    secret = "hunter2-do-not-echo"
    url = f"postgresql://results:{secret}@[::1/results"

    details = expect_status(
        lambda: initialize(stub, url, INITIALIZE_NEW), grpc.StatusCode.INVALID_ARGUMENT
    )

    assert secret not in details


@pytest.mark.parametrize("value", [3, 7, -1])
def test_unknown_behaviour_value_is_invalid_argument(
    stub: ResultsDatabaseStub, tmp_path: Path, value: int
) -> None:
    path = tmp_path / "results.db"
    expect_status(
        lambda: initialize(stub, path, value),
        grpc.StatusCode.INVALID_ARGUMENT,
        f"unknown session_initialization_behavior {value}",
    )
    assert not path.exists()


def test_missing_folder_is_failed_precondition(stub: ResultsDatabaseStub, tmp_path: Path) -> None:
    path = tmp_path / "absent" / "results.db"

    expect_status(
        lambda: initialize(stub, path, INITIALIZE_NEW),
        grpc.StatusCode.FAILED_PRECONDITION,
        "does not exist",
    )

    assert not path.parent.exists()
    assert listed(stub) == {}


def test_file_that_is_not_sqlite_is_failed_precondition_and_left_alone(
    stub: ResultsDatabaseStub, tmp_path: Path
) -> None:
    path = tmp_path / "notes.db"
    content = b"these are my notes, not a database\n" * 200
    path.write_bytes(content)

    expect_status(
        lambda: initialize(stub, path, INITIALIZE_NEW),
        grpc.StatusCode.FAILED_PRECONDITION,
        "not an SQLite database",
    )

    assert path.read_bytes() == content
    assert listed(stub) == {}
    # the key is not left reserved: the failure can be retried
    expect_status(lambda: initialize(stub, path, ATTACH_TO_EXISTING), grpc.StatusCode.NOT_FOUND)


def test_existing_table_without_our_columns_is_failed_precondition(
    stub: ResultsDatabaseStub, database: Database
) -> None:
    with database.independent() as other:
        other("CREATE TABLE results (row_id INTEGER PRIMARY KEY, note TEXT)")
        other("INSERT INTO results (row_id, note) VALUES (1, 'theirs')")

    expect_status(
        lambda: initialize(stub, database.resource_name, INITIALIZE_NEW),
        grpc.StatusCode.FAILED_PRECONDITION,
        "lacks a column",
    )

    assert listed(stub) == {}
    with database.independent() as other:
        assert other("SELECT row_id, note FROM results") == [(1, "theirs")]


def test_unreachable_postgres_is_unavailable_with_the_reason(stub: ResultsDatabaseStub) -> None:
    with free_port_socket() as sock:
        port = sock.getsockname()[1]
        url = f"postgresql://{SUPERUSER}:{PASSWORD}@127.0.0.1:{port}/results"

        details = expect_status(
            lambda: initialize(stub, url, INITIALIZE_NEW),
            grpc.StatusCode.UNAVAILABLE,
            f"cannot reach PostgreSQL at postgresql://{SUPERUSER}@localhost:{port}/results",
        )

    assert "refused" in details.lower()
    assert PASSWORD not in details
    assert listed(stub) == {}


def test_wrong_password_is_permission_denied(
    stub: ResultsDatabaseStub, postgres: PostgresServer, pg_database: Database
) -> None:
    wrong = postgres.url_for(pg_database.name, password="not-the-password")

    details = expect_status(
        lambda: initialize(stub, wrong, INITIALIZE_NEW),
        grpc.StatusCode.PERMISSION_DENIED,
        "refused the credentials",
    )

    assert "not-the-password" not in details
    assert listed(stub) == {}
    assert initialize(stub, pg_database.resource_name, INITIALIZE_NEW).new_session_initialized


@pytest.mark.parametrize("behaviour", [UNSPECIFIED, ATTACH_TO_EXISTING, INITIALIZE_NEW])
def test_an_attach_with_a_wrong_password_is_refused_before_anything_else(
    stub: ResultsDatabaseStub, postgres: PostgresServer, pg_database: Database, behaviour: int
) -> None:
    opened = initialize(stub, pg_database.resource_name, INITIALIZE_NEW)
    record(stub, opened.session_id, "theirs")
    wrong = postgres.url_for(pg_database.name, password="not-the-password")

    details = expect_status(
        lambda: initialize(stub, wrong, behaviour),
        grpc.StatusCode.PERMISSION_DENIED,
        "credentials do not match",
    )

    assert "not-the-password" not in details and PASSWORD not in details
    assert opened.session_id not in details
    assert list(listed(stub)) == [opened.session_id]  # the session is untouched
    assert names(read(stub, opened.session_id)) == ["theirs"]


def test_an_attach_without_the_password_is_refused_even_where_the_service_has_one(
    postgres: PostgresServer, pg_database: Database
) -> None:
    # the service's PGPASSWORD would let anyone *open* the database; it proves nothing about an
    # attach to a session that a URL with a password opened
    process = results_service_process(
        ["--no-discovery"], env={**os.environ, "PGPASSWORD": PASSWORD}
    )
    process.start()
    try:
        with grpc.insecure_channel(process.address) as channel:
            own_stub = ResultsDatabaseStub(channel)
            opened = initialize(own_stub, pg_database.resource_name, INITIALIZE_NEW)
            expect_status(
                lambda: initialize(own_stub, pg_database.display_name, UNSPECIFIED),
                grpc.StatusCode.PERMISSION_DENIED,
                "credentials do not match",
            )
            again = initialize(own_stub, pg_database.resource_name, ATTACH_TO_EXISTING)
            assert again.session_id == opened.session_id
            close(own_stub, opened.session_id)
    finally:
        assert process.stop() == 0, process.stderr_tail


def test_an_open_session_keeps_no_password(pg_database: Database) -> None:
    from results_service.backends import POSTGRESQL
    from results_service.store import ResultsStore

    store = ResultsStore.open(POSTGRESQL.resource(pg_database.resource_name))
    try:
        assert PASSWORD not in repr(store.resource)
        assert PASSWORD.encode() not in store.resource.credentials
    finally:
        store.close()


def test_missing_postgres_database_is_failed_precondition(
    stub: ResultsDatabaseStub, postgres: PostgresServer
) -> None:
    name = f"results_{uuid.uuid4().hex[:12]}"
    url = postgres.url_for(name)

    expect_status(
        lambda: initialize(stub, url, INITIALIZE_NEW),
        grpc.StatusCode.FAILED_PRECONDITION,
        "does not exist",
    )

    assert listed(stub) == {}
    with psycopg.connect(postgres.url_for("postgres"), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        session_id = initialize(stub, url, INITIALIZE_NEW).session_id
        record(stub, session_id, "first")
        assert commit(stub, session_id) == 1
        close(stub, session_id)
    finally:
        drop_postgres_database(postgres, name)


@pytest.mark.slow  # another writer holds the lock for seconds
def test_locked_sqlite_file_is_unavailable_then_recovers(
    stub: ResultsDatabaseStub, tmp_path: Path
) -> None:
    path = tmp_path / "results.db"
    session_id = initialize(stub, path, INITIALIZE_NEW).session_id
    record(stub, session_id, "a")
    commit(stub, session_id)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")  # another writer holds the file's write lock

        expect_status(lambda: record(stub, session_id, "b"), grpc.StatusCode.UNAVAILABLE, "locked")

        writer.execute("ROLLBACK")
    record(stub, session_id, "b")
    assert commit(stub, session_id) == 1
    with contextlib.closing(sqlite3.connect(path)) as reader:
        assert reader.execute(NAMES_SQL).fetchall() == [("a",), ("b",)]


def test_a_record_that_timed_out_behind_the_sqlite_lock_writes_nothing(
    stub: ResultsDatabaseStub, sqlite_db: Database
) -> None:
    session_id = initialize(stub, sqlite_db.resource_name, INITIALIZE_NEW).session_id
    request = pb.RecordResultRequest(session_id=session_id, row=row("late"))
    with contextlib.closing(sqlite3.connect(sqlite_db.path, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")  # another station holds the file's write lock
        with pytest.raises(grpc.RpcError) as failed:
            stub.RecordResult(request, timeout=0.5)
        writer.execute("ROLLBACK")  # freed while a service that waited on would still wait
    time.sleep(0.5)

    assert failed.value.code() in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE)
    assert commit(stub, session_id) == 0
    assert sqlite_db.committed() == []


def hold_the_row(other: psycopg.Connection[Any]) -> None:
    """Another station records ('run-1', '', 'x', site 0) and does not commit yet."""
    other.execute(
        "INSERT INTO results (run_id, step_name, measurement_name, value, unit, site, "
        "measured_at, session_id) VALUES ('run-1', '', 'x', 1, '', 0, now(), 'other')"
    )


@pytest.mark.slow
def test_a_record_that_timed_out_behind_a_postgres_row_lock_writes_nothing(
    stub: ResultsDatabaseStub, pg_database: Database
) -> None:
    session_id = initialize(stub, pg_database.resource_name, INITIALIZE_NEW).session_id
    request = pb.RecordResultRequest(session_id=session_id, row=row("x", run_id="run-1"))
    with psycopg.connect(pg_database.url) as other:  # another station, same row, not committed
        hold_the_row(other)
        with pytest.raises(grpc.RpcError) as failed:
            stub.RecordResult(request, timeout=1.0)
        other.rollback()  # the row is free again: a waiting insert would go through now
    time.sleep(0.5)

    assert failed.value.code() in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE)
    assert commit(stub, session_id) == 0
    assert pg_database.committed() == []


@pytest.mark.slow
def test_a_postgres_row_lock_never_holds_a_call_without_deadline_past_the_wait_limit(
    stub: ResultsDatabaseStub, pg_database: Database
) -> None:
    session_id = initialize(stub, pg_database.resource_name, INITIALIZE_NEW).session_id
    request = pb.RecordResultRequest(session_id=session_id, row=row("x", run_id="run-1"))
    with psycopg.connect(pg_database.url) as other:
        hold_the_row(other)
        started = time.monotonic()
        details = expect_status(
            lambda: stub.RecordResult(request),  # no deadline at all
            grpc.StatusCode.UNAVAILABLE,
            "another session holds a lock",
        )
        waited = time.monotonic() - started
        other.rollback()

    assert LOCK_WAIT_SECONDS <= waited < LOCK_WAIT_SECONDS + 3, details
    assert record(stub, session_id, "y") > 0  # the session goes on
    assert commit(stub, session_id) == 1


def test_rows_written_when_the_caller_stopped_waiting_are_rolled_back(tmp_path: Path) -> None:
    # the store's last check, after the insert: a caller whose deadline came too near is told
    # DEADLINE_EXCEEDED and its rows are gone, whatever delayed them
    remaining = iter([1.0, 0.01])
    late = Caller(time_remaining=lambda: next(remaining))
    store = ResultsStore.open(SQLITE.resource(str(tmp_path / "results.db")))
    try:
        store.record([store_row("kept")], "s1")
        with pytest.raises(DeadlineExceededError, match="nothing was written"):
            store.record([store_row("late")], "s1", caller=late)
        assert store.commit() == 1
        assert [
            stored.row.measurement_name
            for stored in store.read(session_id="s1", run_id="", after_row_id=0, max_rows=0)[0]
        ] == ["kept"]
    finally:
        store.close()


def store_row(name: str) -> Row:
    return Row("run", "", name, 1.0, "", None, None, 0, datetime.now(timezone.utc))


ROUNDS = 12


def open_at_once(addresses: Sequence[str], url: str) -> list[grpc.StatusCode]:
    """Each service opens a session of ``url`` at the same moment; the codes they answer."""
    start = threading.Barrier(len(addresses))
    codes: list[grpc.StatusCode] = []

    def open_session(address: str) -> None:
        with grpc.insecure_channel(address) as channel:
            start.wait()
            try:
                initialize(ResultsDatabaseStub(channel), url, INITIALIZE_NEW)
                codes.append(grpc.StatusCode.OK)
            except grpc.RpcError as error:
                codes.append(error.code())

    threads = [threading.Thread(target=open_session, args=(address,)) for address in addresses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


@pytest.mark.slow
def test_stations_opening_a_new_postgres_database_at_once_all_get_their_session(
    postgres: PostgresServer,
) -> None:
    # each station has its own service, so each creates the missing table: PostgreSQL refuses
    # all but one concurrent CREATE TABLE IF NOT EXISTS of a new table (a unique violation)
    services = [start_results_service(discovery=False) for _ in range(4)]
    addresses = [service.address for service in services]
    try:
        for _ in range(ROUNDS):
            name = create_postgres_database(postgres)
            codes = open_at_once(addresses, postgres.url_for(name))
            for address in addresses:
                with grpc.insecure_channel(address) as channel:
                    close_all_sessions(ResultsDatabaseStub(channel))
            drop_postgres_database(postgres, name)

            assert codes == [grpc.StatusCode.OK] * len(services)
    finally:
        for service in services:
            service.stop()


def test_a_station_that_just_committed_waits_behind_the_one_already_waiting(
    results_address: str, tmp_path: Path
) -> None:
    # two stations (two services) on one SQLite file: A's run holds the write lock, B waits for
    # its turn; A commits and at once starts its next run: B goes first
    path = str(tmp_path / "shared.db")
    other = start_results_service(discovery=False)
    order: list[str] = []
    try:
        with (
            ResultsDatabaseClient(path, address=results_address) as a,
            ResultsDatabaseClient(path, address=other.address) as b,
        ):
            a.record(ResultRow("a1", 1.0, run_id="a-run1"))

            def b_run() -> None:
                b.record(ResultRow("b1", 1.0, run_id="b-run1"))  # waits for A's commit
                order.append("b recorded")
                time.sleep(0.3)  # B's run goes on for a while
                order.append("b commits")  # before the call: A's next run may follow it at once
                b.commit()

            def a_next_run() -> None:
                a.record(ResultRow("a2", 1.0, run_id="a-run2"))
                order.append("a recorded its next run")

            b_thread = threading.Thread(target=b_run)
            b_thread.start()
            time.sleep(0.3)  # B is queued
            a.commit()
            a_thread = threading.Thread(target=a_next_run)
            a_thread.start()
            b_thread.join(timeout=10)
            a_thread.join(timeout=10)
            a.commit()
    finally:
        other.stop()

    assert order == ["b recorded", "b commits", "a recorded its next run"]


# -- the database ends the transaction ---------------------------------------------------------


def test_a_transaction_the_full_disk_rolled_back_is_aborted_until_rollback(
    tmp_path: Path,
) -> None:
    path = tmp_path / "results.db"
    database = Database("sqlite", str(path), str(path), pb.BACKEND_SQLITE, path=path)
    wide = "w" * 1000
    with limited_service("results", LIMIT_FILE_BYTES=1_000_000) as service:
        with grpc.insecure_channel(service.address) as channel:
            stub = ResultsDatabaseStub(channel)
            session_id = initialize(stub, path, INITIALIZE_NEW).session_id
            record_rows(stub, session_id, [row(f"kept{i}") for i in range(3)])
            commit(stub, session_id)
            acknowledged = 0
            with pytest.raises(grpc.RpcError) as full:
                for batch in range(1000):  # ~200 kB a call until the "disk" is full
                    rows = [row(f"b{batch}r{i}", unit=wide, step_name=wide) for i in range(50)]
                    acknowledged += record_rows(stub, session_id, rows)
            later = {
                "RecordResult": lambda: record(stub, session_id, "after"),
                "Commit": lambda: commit(stub, session_id),
                "ReadResults": lambda: read(stub, session_id),
            }
            refusals = {}
            for name, call in later.items():
                with pytest.raises(grpc.RpcError) as refused:
                    call()
                refusals[name] = refused.value.code()
            pending = listed(stub)[session_id].rows_pending
            discarded = rollback(stub, session_id)
            # afterwards the session writes in a new transaction again, never outside one
            with contextlib.suppress(grpc.RpcError):
                record(stub, session_id, "uncommitted")
            seen_by_others = database.committed()
            close(stub, session_id)

    assert acknowledged > 0
    assert full.value.code() is grpc.StatusCode.ABORTED, full.value.details()
    assert f"the {acknowledged} rows recorded since the last Commit are lost" in (
        full.value.details() or ""
    )
    assert refusals == dict.fromkeys(later, grpc.StatusCode.ABORTED)
    assert pending == 0 and discarded == acknowledged
    assert seen_by_others == ["kept0", "kept1", "kept2"]


# -- messages under gRPC's 4 MiB -------------------------------------------------------------

WIDE = "\N{GRINNING FACE}" * 1000  # the longest text taken: 1,000 characters, 4,000 bytes


def wide_row(index: int) -> ResultRow:
    return ResultRow(f"{WIDE[:990]}{index:010d}", 1.0, unit=WIDE, step_name=WIDE, run_id=WIDE)


def test_the_client_splits_a_batch_of_wide_rows_under_grpcs_limit_and_reads_them_back(
    results_address: str, database: Database
) -> None:
    # 500 rows of ~16 kB are ~8 MB in one request: twice gRPC's 4 MiB unless split by bytes
    with ResultsDatabaseClient(database.resource_name, address=results_address) as client:
        assert client.record_results(wide_row(i) for i in range(800)) == 800
        names = [stored.row.measurement_name for stored in client.read_results(run_id=WIDE)]
        client.commit()

    assert len(names) == 800
    assert names[-1].endswith("0000000799")


def test_a_default_page_of_wide_rows_ends_under_the_limit_and_says_more_follow(
    results_address: str, stub: ResultsDatabaseStub, database: Database
) -> None:
    pages: list[pb.ReadResultsResponse] = []
    with ResultsDatabaseClient(database.resource_name, address=results_address) as client:
        client.record_results(wide_row(i) for i in range(1000))
        after = 0
        while not pages or pages[-1].more_rows:
            pages.append(
                stub.ReadResults(
                    pb.ReadResultsRequest(
                        session_id=client.session_id, run_id=WIDE, after_row_id=after
                    ),
                    timeout=TIMEOUT,
                )
            )
            after = pages[-1].results[-1].row_id

    assert 0 < len(pages[0].results) < 1000  # the default 1,000 rows would be ~16 MB
    assert all(page.ByteSize() <= 3 * 1024 * 1024 for page in pages)
    assert sum(len(page.results) for page in pages) == 1000


# -- session ids on every RPC -----------------------------------------------------------------

SESSION_RPCS: dict[str, Callable[[ResultsDatabaseStub, str], object]] = {
    "RecordResult": lambda s, sid: s.RecordResult(
        pb.RecordResultRequest(session_id=sid, row=row()), timeout=TIMEOUT
    ),
    "RecordResults": lambda s, sid: s.RecordResults(
        pb.RecordResultsRequest(session_id=sid, rows=[row()]), timeout=TIMEOUT
    ),
    "ReadResults": lambda s, sid: s.ReadResults(
        pb.ReadResultsRequest(session_id=sid), timeout=TIMEOUT
    ),
    "Commit": lambda s, sid: s.Commit(pb.CommitRequest(session_id=sid), timeout=TIMEOUT),
    "Rollback": lambda s, sid: s.Rollback(pb.RollbackRequest(session_id=sid), timeout=TIMEOUT),
    "CloseDatabase": lambda s, sid: s.CloseDatabase(
        pb.CloseDatabaseRequest(session_id=sid), timeout=TIMEOUT
    ),
}


@pytest.mark.parametrize("rpc", SESSION_RPCS)
def test_empty_session_id_is_invalid_argument(stub: ResultsDatabaseStub, rpc: str) -> None:
    expect_status(
        lambda: SESSION_RPCS[rpc](stub, ""), grpc.StatusCode.INVALID_ARGUMENT, "session_id"
    )


@pytest.mark.parametrize("rpc", SESSION_RPCS)
def test_unknown_session_id_is_not_found(stub: ResultsDatabaseStub, rpc: str) -> None:
    unknown = str(uuid.uuid4())
    expect_status(lambda: SESSION_RPCS[rpc](stub, unknown), grpc.StatusCode.NOT_FOUND, unknown)


@pytest.mark.parametrize("rpc", SESSION_RPCS)
def test_closed_session_id_is_not_found(
    stub: ResultsDatabaseStub, database: Database, rpc: str
) -> None:
    session_id = initialize(stub, database.resource_name).session_id
    close(stub, session_id)

    expect_status(lambda: SESSION_RPCS[rpc](stub, session_id), grpc.StatusCode.NOT_FOUND)

    assert database.committed() == []


# -- one session per database, whatever the spelling ------------------------------------------


def test_two_spellings_of_one_sqlite_file_share_one_session(
    stub: ResultsDatabaseStub, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    real = data / "results.db"
    (tmp_path / "linked").symlink_to(data, target_is_directory=True)
    (tmp_path / "alias.sqlite").symlink_to(real)
    created = initialize(stub, real, INITIALIZE_NEW)
    record(stub, created.session_id, "a")

    for spelling in (
        f"{data}/sub/../results.db",
        f"{data}/./results.db",
        f"{data}//results.db",
        str(tmp_path / "linked" / "results.db"),
        str(tmp_path / "alias.sqlite"),
    ):
        expect_status(
            functools.partial(initialize, stub, spelling, INITIALIZE_NEW),
            grpc.StatusCode.ALREADY_EXISTS,
        )
        attached = initialize(stub, spelling, UNSPECIFIED)
        assert (attached.session_id, attached.new_session_initialized) == (
            created.session_id,
            False,
        )
        assert attached.resource_name == str(real.resolve())

    assert list(listed(stub)) == [created.session_id]
    assert names(read(stub, created.session_id)) == ["a"]
    close(stub, created.session_id)


def test_two_spellings_of_one_postgres_database_share_one_session(
    stub: ResultsDatabaseStub, postgres: PostgresServer, pg_database: Database
) -> None:
    port, name = postgres.port, pg_database.name
    created = initialize(stub, pg_database.resource_name, INITIALIZE_NEW)

    for spelling in (
        f"postgres://{SUPERUSER}:{PASSWORD}@127.0.0.1:{port}/{name}",
        f"postgresql://{SUPERUSER}:{PASSWORD}@127.0.0.1:{port}/{name}?connect_timeout=3",
        f"  postgresql://{SUPERUSER}:{PASSWORD}@127.0.0.1:{port}/{name}  ",
        f"postgresql://{SUPERUSER}:{PASSWORD}@localhost:{port}/{name}",
        f"postgresql://{SUPERUSER}:{PASSWORD}@LocalHost.:{port}/{name}",
        f"postgresql://{SUPERUSER}:{PASSWORD}@127.0.0.2:{port}/{name}",
        f"postgresql://{SUPERUSER}:{PASSWORD}@[::1]:{port}/{name}",
        f"postgresql://{SUPERUSER}:{PASSWORD}@[0:0:0:0:0:0:0:1]:{port}/{name}",
    ):
        attached = initialize(stub, spelling, UNSPECIFIED)
        assert (attached.session_id, attached.new_session_initialized) == (
            created.session_id,
            False,
        )
        assert attached.resource_name == pg_database.display_name


# -- ListSessions -----------------------------------------------------------------------------


def test_list_sessions_counts_rows_and_never_shows_the_password(
    stub: ResultsDatabaseStub, database: Database
) -> None:
    opened = datetime.now(timezone.utc).replace(microsecond=0)
    response = initialize(stub, database.resource_name)
    session_id = response.session_id
    record_rows(stub, session_id, [row("a"), row("b")])
    commit(stub, session_id)
    record(stub, session_id, "c")
    record_rows(stub, session_id, [row("d"), row("e")])

    sessions = stub.ListSessions(pb.ListSessionsRequest(), timeout=TIMEOUT)
    [description] = sessions.sessions
    assert description.session_id == session_id
    assert (description.rows_pending, description.rows_committed) == (3, 2)
    assert description.resource_name == database.display_name == response.resource_name
    assert description.backend == database.kind
    assert opened <= description.opened_at.ToDatetime(tzinfo=timezone.utc)
    assert PASSWORD not in str(sessions) and PASSWORD not in str(response)

    rollback(stub, session_id)
    record(stub, session_id, "f")
    commit(stub, session_id)
    description = listed(stub)[session_id]
    assert (description.rows_pending, description.rows_committed) == (0, 3)
    close(stub, session_id)
    assert listed(stub) == {}


# -- a lost PostgreSQL connection -------------------------------------------------------------

LOST_CALLS: dict[str, Callable[[ResultsDatabaseStub, str], object]] = {
    "RecordResult": SESSION_RPCS["RecordResult"],
    "RecordResults": SESSION_RPCS["RecordResults"],
    "Commit": SESSION_RPCS["Commit"],
    "ReadResults": SESSION_RPCS["ReadResults"],
}


@pytest.mark.parametrize("first_call", LOST_CALLS)
def test_lost_postgres_connection_is_unavailable_and_the_session_can_be_closed(
    stub: ResultsDatabaseStub, postgres: PostgresServer, pg_database: Database, first_call: str
) -> None:
    name, url = pg_database.name, pg_database.url
    session_id = initialize(stub, url, INITIALIZE_NEW).session_id
    record(stub, session_id, "kept")
    assert commit(stub, session_id) == 1
    record(stub, session_id, "lost-1")
    record(stub, session_id, "lost-2")

    with psycopg.connect(postgres.url_for("postgres"), autocommit=True) as admin:
        [(pid,)] = admin.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE application_name = 'results_service' AND datname = %s",
            (name,),
        ).fetchall()
        # the timeout makes it wait until the backend is gone
        assert admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,)).fetchone() == (True,)

    expect_status(
        lambda: LOST_CALLS[first_call](stub, session_id),
        grpc.StatusCode.UNAVAILABLE,
        "was lost",
        "2 rows not yet committed are gone",
    )
    for call in LOST_CALLS.values():
        expect_status(functools.partial(call, stub, session_id), grpc.StatusCode.UNAVAILABLE)
    assert session_id in listed(stub)

    assert pg_database.committed() == ["kept"]

    close(stub, session_id)
    assert session_id not in listed(stub)

    # the service keeps serving, the database too
    again = initialize(stub, url, INITIALIZE_NEW)
    assert again.new_session_initialized
    record(stub, again.session_id, "after")
    assert commit(stub, again.session_id) == 1
    close(stub, again.session_id)
    assert pg_database.committed() == ["kept", "after"]


# -- stopping the service ---------------------------------------------------------------------


def test_stopping_the_service_rolls_back_uncommitted_rows_and_keeps_committed(
    database: Database,
) -> None:
    process = results_service_process(["--no-discovery"])
    process.start()
    try:
        with grpc.insecure_channel(process.address) as channel:
            own_stub = ResultsDatabaseStub(channel)
            session_id = initialize(own_stub, database.resource_name).session_id
            record(own_stub, session_id, "kept")
            assert commit(own_stub, session_id) == 1
            record_rows(own_stub, session_id, [row("pending-1"), row("pending-2")])

            process.send_signal(signal.SIGTERM)
            assert process.wait() == 0, process.stderr_tail
    finally:
        process.stop()

    assert database.committed() == ["kept"]
    assert "Rolled back 2 uncommitted rows" in process.stderr_tail
    with database.independent() as other:  # nothing is left locked or half-written
        other("BEGIN")
        other(
            "INSERT INTO results (run_id, step_name, measurement_name, value, unit, site, "
            "measured_at, session_id) VALUES ('r', '', 'later', 1.0, '', 0, "
            "'2024-01-01T00:00:00+00:00', 'sql')"
        )
        other("COMMIT")
    assert database.committed() == ["kept", "later"]


def test_postgres_password_may_come_from_the_service_environment(
    postgres: PostgresServer, pg_database: Database
) -> None:
    url = pg_database.display_name  # the URL without the password
    assert PASSWORD not in url
    process = results_service_process(
        ["--no-discovery"], env={**os.environ, "PGPASSWORD": PASSWORD}
    )
    process.start()
    try:
        with grpc.insecure_channel(process.address) as channel:
            own_stub = ResultsDatabaseStub(channel)
            response = initialize(own_stub, url, INITIALIZE_NEW)
            assert response.resource_name == url
            record(own_stub, response.session_id, "from-env")
            assert commit(own_stub, response.session_id) == 1
            assert close(own_stub, response.session_id) == 0
    finally:
        assert process.stop() == 0, process.stderr_tail
    assert pg_database.committed() == ["from-env"]


def test_a_database_whose_turn_files_cannot_be_made_is_still_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # e.g. a file system without flock, or something else at the lock file's name: the store
    # says so once and writes as SQLite's own wait lets it
    path = tmp_path / "results.db"
    (tmp_path / "results.db.writer-lock").mkdir()  # cannot be opened as a file
    store = ResultsStore.open(SQLITE.resource(str(path)))
    try:
        store.record([store_row("written")], "s1")
        assert store.commit() == 1
    finally:
        store.close()

    assert "without fair turns" in caplog.text


def test_a_session_whose_callers_keep_giving_up_keeps_one_place_in_the_queue(
    tmp_path: Path,
) -> None:
    import fcntl

    from results_service.writer_turns import LOCK_SUFFIX, WriterTurns

    database = tmp_path / "results.db"
    other_station = os.open(database.with_name(database.name + LOCK_SUFFIX), os.O_RDWR | os.O_CREAT)
    fcntl.flock(other_station, fcntl.LOCK_EX)  # another station's run holds the write lock
    turns = WriterTurns(database)
    waiting_before = _turn_threads()
    try:
        gave_up = [turns.take(0.02) for _ in range(20)]
        waiting = _turn_threads() - waiting_before
        os.close(other_station)  # that run commits
        taken = turns.take(5.0)
    finally:
        turns.give_back()

    assert gave_up == [False] * 20
    assert waiting == 1  # one place in the queue, not one thread per attempt
    assert taken


def test_a_turn_that_comes_when_nobody_waits_is_handed_on(tmp_path: Path) -> None:
    import fcntl

    from results_service.writer_turns import LOCK_SUFFIX, WriterTurns

    database = tmp_path / "results.db"
    lock_path = database.with_name(database.name + LOCK_SUFFIX)
    other_station = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(other_station, fcntl.LOCK_EX)
    turns = WriterTurns(database)
    assert not turns.take(0.02)  # the caller gave up; its waiter stays queued
    os.close(other_station)  # the turn goes to that waiter, which nobody wants now

    third_station = os.open(lock_path, os.O_RDWR)
    try:
        deadline = time.monotonic() + 5
        while True:  # the turn is handed on at once, so a third station gets it
            try:
                fcntl.flock(third_station, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert time.monotonic() < deadline, "the unwanted turn was never handed on"
                time.sleep(0.01)
    finally:
        os.close(third_station)


def _turn_threads() -> int:
    return sum(thread.name == "sqlite-writer-turn" for thread in threading.enumerate())
