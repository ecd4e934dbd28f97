"""The second resource of notebook 6: an SQLite results database on the unchanged session core."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior

from session_core.behaviors import InitializationBehavior
from session_core.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from session_core.registry import SessionRegistry
from session_sharing_demo.course import second_resource, sqlite_results
from session_sharing_demo.course.sqlite_results import (
    ResultsDatabase,
    ResultsDatabaseClient,
    ResultsDatabaseService,
    read_rows,
)

NEW = InitializationBehavior.INITIALIZE_NEW
ATTACH = InitializationBehavior.ATTACH_TO_EXISTING
AUTO = InitializationBehavior.UNSPECIFIED


@pytest.fixture
def service() -> Iterator[ResultsDatabaseService]:
    service = ResultsDatabaseService()
    yield service
    service.close_all()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "results.db"


def run_together(target: Callable[[int], None], count: int) -> list[BaseException]:
    """Run ``target(i)`` in ``count`` threads released at once; return what they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        barrier.wait()
        try:
            target(index)
        except BaseException as error:
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return errors


# -- the core is reused unchanged ------------------------------------------------------------


def test_the_service_uses_the_loggers_session_registry(service: ResultsDatabaseService) -> None:
    assert type(service.registry) is SessionRegistry


# -- server behaviours -------------------------------------------------------------------------


def test_initialize_new_creates_then_already_exists(
    service: ResultsDatabaseService, database: Path
) -> None:
    opened = service.initialize_database(str(database), NEW)
    assert opened.new_session_initialized
    assert opened.resource_name == str(database.resolve())
    with pytest.raises(AlreadyExistsError) as caught:
        service.initialize_database(str(database), NEW)
    assert caught.value.code is grpc.StatusCode.ALREADY_EXISTS
    assert opened.session_id in str(caught.value)


def test_attach_to_existing_needs_an_open_session(
    service: ResultsDatabaseService, database: Path
) -> None:
    with pytest.raises(NotFoundError) as caught:
        service.initialize_database(str(database), ATTACH)
    assert caught.value.code is grpc.StatusCode.NOT_FOUND
    assert not database.exists(), "a failed attach must not create the database"
    created = service.initialize_database(str(database), NEW)
    attached = service.initialize_database(str(database), ATTACH)
    assert not attached.new_session_initialized
    assert attached.session_id == created.session_id


def test_unspecified_attaches_or_creates(service: ResultsDatabaseService, database: Path) -> None:
    first = service.initialize_database(str(database), AUTO)
    second = service.initialize_database(str(database), AUTO)
    assert first.new_session_initialized and not second.new_session_initialized
    assert first.session_id == second.session_id


def test_insert_close_and_calls_after_close(
    service: ResultsDatabaseService, database: Path
) -> None:
    session_id = service.initialize_database(str(database), NEW).session_id
    service.insert_result(session_id, "step", "value", 1.25)
    service.insert_result(session_id, "step", "value", 2.5)
    assert [s.rows_written for s in service.list_sessions()] == [2]
    assert read_rows(database) == [
        (session_id, "step", "value", 1.25),
        (session_id, "step", "value", 2.5),
    ], "every insert is committed at once"
    service.close_database(session_id)
    assert service.list_sessions() == []
    with pytest.raises(NotFoundError):
        service.insert_result(session_id, "step", "value", 3.0)
    with pytest.raises(NotFoundError):
        service.close_database(session_id)
    reopened = service.initialize_database(str(database), NEW)
    assert reopened.new_session_initialized and reopened.session_id != session_id


def test_an_existing_database_keeps_its_rows(
    service: ResultsDatabaseService, database: Path
) -> None:
    first = service.initialize_database(str(database), NEW).session_id
    service.insert_result(first, "a", "value", 1.0)
    service.close_database(first)
    second = service.initialize_database(str(database), NEW).session_id
    service.insert_result(second, "b", "value", 2.0)
    service.close_database(second)
    assert [row[1] for row in read_rows(database)] == ["a", "b"]


# -- key normalisation -------------------------------------------------------------------------


def test_two_spellings_share_one_session(service: ResultsDatabaseService, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "sub")
    plain = service.initialize_database(str(tmp_path / "sub" / "r.db"), AUTO)
    dotted = service.initialize_database(str(tmp_path / "sub" / ".." / "sub" / "r.db"), AUTO)
    linked = service.initialize_database(str(tmp_path / "link" / "r.db"), AUTO)
    assert plain.session_id == dotted.session_id == linked.session_id
    assert len(service.list_sessions()) == 1


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "not a path"),
        ("   ", "not a path"),
        ("bad\0name.db", "not a path"),
        ("relative/results.db", "not an absolute path"),
        ("/tmp/results.csv", "must end with .db, .sqlite, .sqlite3"),
    ],
)
def test_names_that_are_not_a_database_are_refused(
    service: ResultsDatabaseService, name: str, fragment: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=fragment) as caught:
        service.initialize_database(name, AUTO)
    assert caught.value.code is grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("suffix", [".db", ".sqlite", ".SQLite3"])
def test_allowed_suffixes_in_any_case(
    service: ResultsDatabaseService, tmp_path: Path, suffix: str
) -> None:
    assert service.initialize_database(str(tmp_path / f"r{suffix}"), NEW).new_session_initialized


def test_a_missing_folder_is_a_failed_precondition(
    service: ResultsDatabaseService, tmp_path: Path
) -> None:
    with pytest.raises(FailedPreconditionError, match="does not exist"):
        service.initialize_database(str(tmp_path / "missing" / "r.db"), AUTO)
    assert service.list_sessions() == []


def test_a_file_that_is_not_sqlite_is_refused_and_the_key_released(
    service: ResultsDatabaseService, database: Path
) -> None:
    database.write_text("not a database, just text\n" * 100, encoding="utf-8")
    with pytest.raises(InvalidArgumentError, match="is not a results database"):
        service.initialize_database(str(database), NEW)
    assert database.read_text(encoding="utf-8").startswith("not a database")
    database.unlink()
    assert service.initialize_database(str(database), NEW).new_session_initialized


# -- concurrency -------------------------------------------------------------------------------


def test_concurrent_initialize_new_opens_the_database_once(
    service: ResultsDatabaseService, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opens: list[Path] = []
    real_open = ResultsDatabase.open

    def counting_open(path: Path) -> ResultsDatabase:
        opens.append(path)
        return real_open(path)

    monkeypatch.setattr(ResultsDatabase, "open", counting_open)
    created: list[str] = []
    errors = run_together(
        lambda _: created.append(service.initialize_database(str(database), NEW).session_id), 16
    )
    assert len(created) == 1 and len(opens) == 1
    assert len(errors) == 15 and all(isinstance(e, AlreadyExistsError) for e in errors)


def test_concurrent_auto_clients_share_one_session(
    service: ResultsDatabaseService, database: Path
) -> None:
    results: list[sqlite_results.OpenedDatabase] = []
    assert (
        run_together(lambda _: results.append(service.initialize_database(str(database), AUTO)), 16)
        == []
    )
    assert len({r.session_id for r in results}) == 1
    assert sum(r.new_session_initialized for r in results) == 1


def test_concurrent_inserts_through_one_session_lose_nothing(
    service: ResultsDatabaseService, database: Path
) -> None:
    session_id = service.initialize_database(str(database), NEW).session_id

    def insert(worker: int) -> None:
        for row in range(20):
            service.insert_result(session_id, f"worker {worker}", "row", row)

    assert run_together(insert, 8) == []
    assert service.list_sessions()[0].rows_written == 160
    rows = read_rows(database)
    assert len(rows) == 160
    for worker in range(8):
        assert [v for _, step, _, v in rows if step == f"worker {worker}"] == list(range(20))


def test_close_waits_for_an_insert_in_flight(
    service: ResultsDatabaseService, database: Path
) -> None:
    session_id = service.initialize_database(str(database), NEW).session_id
    in_use = threading.Event()
    release = threading.Event()

    def slow_writer() -> None:
        with service.registry.use(session_id) as resource:
            in_use.set()
            release.wait(10)
            resource.insert(session_id, "slow", "value", 1.0)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert in_use.wait(10)
    closer = threading.Thread(target=service.close_database, args=(session_id,))
    closer.start()
    closer.join(0.2)
    assert closer.is_alive(), "close must wait for the write in flight"
    with pytest.raises(NotFoundError):  # but new calls already fail
        service.insert_result(session_id, "late", "value", 2.0)
    release.set()
    writer.join(10)
    closer.join(10)
    assert [row[1] for row in read_rows(database)] == ["slow"]


def test_concurrent_closes_close_once(service: ResultsDatabaseService, database: Path) -> None:
    session_id = service.initialize_database(str(database), NEW).session_id
    errors = run_together(lambda _: service.close_database(session_id), 8)
    assert len(errors) == 7 and all(isinstance(e, NotFoundError) for e in errors)
    assert service.list_sessions() == []


# -- the client: NI's five behaviours ----------------------------------------------------------

Behavior = SessionInitializationBehavior


def client(
    service: ResultsDatabaseService, database: Path, behavior: Behavior
) -> ResultsDatabaseClient:
    return ResultsDatabaseClient(service, database, initialization_behavior=behavior)


@pytest.mark.parametrize(
    ("behavior", "closes"),
    [(Behavior.AUTO, True), (Behavior.INITIALIZE_SERVER_SESSION, True),
     (Behavior.INITIALIZE_SESSION_THEN_DETACH, False)],
)  # fmt: skip
def test_creating_behaviours(
    service: ResultsDatabaseService, database: Path, behavior: Behavior, closes: bool
) -> None:
    with client(service, database, behavior) as session:
        assert session.new_session_initialized
        session.insert_result("step", "value", 1.0)
    assert session.closed_on_exit is closes
    assert len(service.list_sessions()) == (0 if closes else 1)


@pytest.mark.parametrize(
    ("behavior", "closes"),
    [(Behavior.AUTO, False), (Behavior.ATTACH_TO_SERVER_SESSION, False),
     (Behavior.ATTACH_TO_SESSION_THEN_CLOSE, True)],
)  # fmt: skip
def test_attaching_behaviours(
    service: ResultsDatabaseService, database: Path, behavior: Behavior, closes: bool
) -> None:
    setup = service.initialize_database(str(database), NEW)
    with client(service, database, behavior) as session:
        assert not session.new_session_initialized
        assert session.session_id == setup.session_id
    assert session.closed_on_exit is closes
    assert len(service.list_sessions()) == (0 if closes else 1)


def test_client_errors_for_initialize_and_attach(
    service: ResultsDatabaseService, database: Path
) -> None:
    with pytest.raises(NotFoundError):
        with client(service, database, Behavior.ATTACH_TO_SERVER_SESSION):
            pass
    with pytest.raises(NotFoundError):
        with client(service, database, Behavior.ATTACH_TO_SESSION_THEN_CLOSE):
            pass
    with client(service, database, Behavior.INITIALIZE_SESSION_THEN_DETACH):
        pass
    with pytest.raises(AlreadyExistsError):
        with client(service, database, Behavior.INITIALIZE_SERVER_SESSION):
            pass
    assert len(service.list_sessions()) == 1, "a refused client closes nothing"


def test_a_failed_setup_leaves_no_orphan(service: ResultsDatabaseService, database: Path) -> None:
    with pytest.raises(RuntimeError, match="setup failed"):
        with client(service, database, Behavior.INITIALIZE_SESSION_THEN_DETACH):
            raise RuntimeError("setup failed")
    assert service.list_sessions() == []


def test_a_failing_attached_step_leaves_the_session_open(
    service: ResultsDatabaseService, database: Path
) -> None:
    service.initialize_database(str(database), NEW)
    with pytest.raises(RuntimeError):
        with client(service, database, Behavior.AUTO):
            raise RuntimeError("measurement failed")
    assert len(service.list_sessions()) == 1


def test_a_client_writes_only_inside_its_block(
    service: ResultsDatabaseService, database: Path
) -> None:
    session = client(service, database, Behavior.AUTO)
    with pytest.raises(RuntimeError, match="not open"):
        session.insert_result("step", "value", 1.0)


# -- the notebook's tour -----------------------------------------------------------------------


def test_the_tour_shows_every_outcome(tmp_path: Path) -> None:
    tour = second_resource.BehaviorTour(tmp_path)
    try:
        assert "created session #1" in str(tour.run(Behavior.AUTO, "alone", value=1.0))
        tour.run(Behavior.INITIALIZE_SESSION_THEN_DETACH, "Setup")
        assert tour.run(Behavior.INITIALIZE_SERVER_SESSION, "again").error.startswith(
            "ALREADY_EXISTS: "
        )
        assert "attached to session #2" in str(tour.run(Behavior.AUTO, "Step", value=2.0))
        assert "the same session" in tour.same_database_other_spelling()
        assert tour.run(Behavior.ATTACH_TO_SESSION_THEN_CLOSE, "Cleanup").closed_on_exit
        assert tour.run(Behavior.ATTACH_TO_SERVER_SESSION, "late").error.startswith("NOT_FOUND: ")
        assert "| Step | `AUTO` | `UNSPECIFIED` | session #2 | no | no | 1 |" in (
            tour.summary_table()
        )
        assert tour.rows_table().count("\n") == 3  # header, rule, two rows
        race = tour.race(clients=4, rows_each=5)
        assert "1 created the session, 3 got ALREADY_EXISTS" in race
        assert "20 rows written" in race
    finally:
        tour.close()
    assert tour.service.list_sessions() == []


def test_the_comparison_table_names_real_objects() -> None:
    table = second_resource.what_stays_and_what_changes()
    assert "`session_core.registry.SessionRegistry`" in table
    assert "`InitializeFile`" in table and "`ResultsDatabaseService.insert_result`" in table
