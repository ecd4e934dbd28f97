"""The conformance kit: the shipped services and clients pass it; each broken rule is named.

Services run as real gRPC servers on loopback: the shipped ones in their own processes, the
deliberately broken ones (tests/breakable_logger.py) in this process, found by server reflection.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from breakable_logger import (
    GUIDE_MAP,
    SERVER_DEFECTS,
    BreakableLogger,
    guide_client,
    guide_closes,
    serve,
)
from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior

from hardware_lock import PATTERN_DIFFERENCES
from json_logger import json_logger_pb2
from lock_client import HardwareLockClient
from logger_client import JsonLoggerClient
from results_client import ResultsDatabaseClient
from session_core.conformance import (
    ConformanceError,
    ContractError,
    Outcome,
    PoolExhaustedError,
    assert_client_conforms,
    assert_service_conforms,
    check_client,
    check_service,
)
from session_sharing_demo.child_process import ServiceProcess
from session_sharing_demo.programs import start_lock_service, start_results_service

B = SessionInitializationBehavior
NDJSON = "{tmp}/{n}.ndjson"


@pytest.fixture(scope="module")
def results_address() -> Iterator[str]:
    process: ServiceProcess = start_results_service(discovery=False)
    yield process.address
    assert process.stop() == 0, process.stderr_tail


def _failed(report: object) -> set[str]:
    return {check.rule.id for check in report.failures}  # type: ignore[attr-defined]


# -- the shipped services and clients ----------------------------------------------------------


def test_the_json_logger_service_and_client_conform(logger_address: str) -> None:
    report = assert_service_conforms(
        logger_address, resource=NDJSON, other_spelling="{tmp}/x/../{n}.ndjson"
    )
    assert {c.outcome for c in report} == {Outcome.PASSED}  # ListSessions and spellings ran too
    assert report.checks[0].rule.id == "new-creates"
    client_report = assert_client_conforms(
        lambda name, behavior: JsonLoggerClient(
            name, initialization_behavior=behavior, address=logger_address
        ),
        address=logger_address,
        resource=NDJSON,
    )
    assert {c.outcome for c in client_report} == {Outcome.PASSED}
    assert len(client_report.checks) == 12  # 5 map entries, 6 exit rules, the failed setup


def test_the_results_database_service_and_client_conform_by_console_script(
    results_address: str,
) -> None:
    run = _console(
        results_address,
        "--resource", "{tmp}/{n}.db",
        "--other-spelling", "{tmp}//{n}.db",
        "--client", "results_client:ResultsDatabaseClient",
    )  # fmt: skip

    assert run.returncode == 0, run.stdout + run.stderr
    assert "results_database.ResultsDatabase at" in run.stdout
    assert "14 passed, 0 failed" in run.stdout  # CloseDatabase found beside Commit and Rollback
    assert "client ResultsDatabaseClient: 12 passed, 0 failed" in run.stdout
    assert ResultsDatabaseClient.__name__ in run.stdout


@pytest.fixture(scope="module")
def lock_address() -> Iterator[str]:
    process: ServiceProcess = start_lock_service(discovery=False)
    yield process.address
    assert process.stop() == 0, process.stderr_tail


def _lock_client(address: str) -> Callable[[str, SessionInitializationBehavior], Any]:
    def make(name: str, behavior: SessionInitializationBehavior) -> HardwareLockClient:
        # wait=0: AUTO beside a hold is refused at once rather than after the default wait
        return HardwareLockClient(name, initialization_behavior=behavior, address=address, wait=0)

    return make


def test_the_hardware_lock_conforms_where_it_does_not_declare_a_difference(
    lock_address: str,
) -> None:
    report = assert_service_conforms(
        lock_address,
        resource="Lock {n}",
        other_spelling="  LOCK   {n} ",
        differs=PATTERN_DIFFERENCES,
    )
    client_report = assert_client_conforms(
        _lock_client(lock_address),
        address=lock_address,
        resource="Lock {n}",
        differs=PATTERN_DIFFERENCES,
    )

    differing = {c.rule.id for c in [*report, *client_report] if c.outcome is Outcome.DIFFERS}
    assert differing == {"unspecified-attaches", "map-AUTO"}
    assert {c.outcome for c in report} == {Outcome.PASSED, Outcome.DIFFERS}
    assert "13 passed, 0 failed, 1 differs" in report.summary()
    assert PATTERN_DIFFERENCES["unspecified-attaches"] in str(report)
    skipped = {c.rule.id for c in client_report if c.outcome is Outcome.SKIPPED}
    assert skipped == {"exit-AUTO-attached"}  # AUTO beside a hold was refused, not attached


def test_undeclared_the_lock_breaks_the_rules_its_difference_touches(lock_address: str) -> None:
    report = check_service(lock_address, resource="Lock {n}", other_spelling=" lock {n}")

    assert _failed(report) == {"unspecified-attaches", "one-session-id", "spellings-one-session"}


def test_a_declared_difference_that_holds_after_all_is_advice(logger_address: str) -> None:
    report = check_service(
        logger_address, resource=NDJSON, differs={"unspecified-attaches": "it used not to"}
    )

    (check,) = [c for c in report if c.rule.id == "unspecified-attaches"]
    assert check.outcome is Outcome.ADVICE and "drop the declaration" in check.detail
    assert report.ok


@pytest.mark.parametrize(
    ("differs", "message"),
    [({"no-such-rule": "why"}, "names no rule"), ({"map-AUTO": " "}, "gives no reason")],
)
def test_a_declared_difference_must_name_a_rule_and_say_why(
    logger_address: str, differs: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_service(logger_address, resource=NDJSON, differs=differs)


def test_the_console_script_takes_declared_differences(lock_address: str) -> None:
    (reason,) = PATTERN_DIFFERENCES.values()
    declared = _console(
        lock_address, "--resource", "Lock {n}", "--differs", f"unspecified-attaches={reason}"
    )
    undeclared = _console(lock_address, "--resource", "Lock {n}")
    malformed = _console(lock_address, "--differs", "unspecified-attaches")

    assert declared.returncode == 0, declared.stdout + declared.stderr
    assert "differs  unspecified-attaches" in declared.stdout
    assert undeclared.returncode == 1
    assert malformed.returncode == 2 and "RULE=WHY" in malformed.stderr


# -- broken services -------------------------------------------------------------------------


def test_the_unbroken_servicer_passes_every_rule() -> None:
    with serve(BreakableLogger()) as address:
        report = check_service(address, resource=NDJSON, other_spelling="{tmp}/./{n}.ndjson")

    assert report.ok, str(report)
    assert {c.outcome for c in report} == {Outcome.PASSED}


@pytest.mark.parametrize(("defect", "rule"), sorted(SERVER_DEFECTS.items()))
def test_each_broken_server_rule_is_named(defect: str, rule: str) -> None:
    with serve(BreakableLogger({defect})) as address:
        report = check_service(address, resource=NDJSON, other_spelling="{tmp}/./{n}.ndjson")

    assert rule in _failed(report), str(report)
    with pytest.raises(ConformanceError, match=f"- {rule}: ") as raised:
        report.raise_for_failures()
    assert "hint: " in str(raised.value)


def test_the_console_script_fails_naming_the_rule_on_a_broken_service() -> None:
    with serve(BreakableLogger({"close-twice-ok"})) as address:
        run = _console(address, "--resource", NDJSON)

    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAILED   close-twice-not-found" in run.stdout
    assert "the second close answered OK" in run.stdout
    assert "- close-twice-not-found: A second close of one session fails NOT_FOUND." in run.stderr
    assert "skipped  spellings-one-session" in run.stdout  # no --other-spelling given


def test_a_server_without_reflection_needs_the_proto_module() -> None:
    with serve(BreakableLogger(), reflect=False) as address:
        refused = _console(address, "--resource", NDJSON)
        given = _console(
            address, "--resource", NDJSON, "--proto-module", "json_logger.json_logger_pb2"
        )

    assert refused.returncode == 2
    assert "does not answer gRPC server reflection" in refused.stderr
    assert given.returncode == 0, given.stdout + given.stderr


def test_nothing_listening_is_a_usage_error(unused_port: int) -> None:
    run = _console(f"127.0.0.1:{unused_port}", "--timeout", "1")

    assert run.returncode == 2
    assert f"no gRPC server answers at 127.0.0.1:{unused_port}" in run.stderr


def test_a_service_without_the_pattern_is_refused() -> None:
    from grpc_health.v1 import health_pb2

    with serve(BreakableLogger()) as address, pytest.raises(ContractError, match="initialize RPC"):
        check_service(address, proto_module=health_pb2)


def test_the_rpcs_are_found_by_their_fields_from_a_module() -> None:
    from session_core.conformance.contract import contract_from_module

    contract = contract_from_module(json_logger_pb2)

    assert (contract.initialize.name, contract.close.name) == ("InitializeFile", "CloseFile")
    assert contract.list_sessions is not None
    assert [rpc.name for rpc in contract.session_calls] == ["LogMeasurementData"]


# -- broken clients --------------------------------------------------------------------------


def test_the_guide_client_passes_with_advice_about_a_failed_setup() -> None:
    with serve(BreakableLogger()) as address:
        report = check_client(guide_client(address), address=address, resource=NDJSON)

    assert report.ok, str(report)
    advice = [c for c in report if c.outcome is Outcome.ADVICE]
    assert [c.rule.id for c in advice] == ["failed-setup-closes"]


_WRONG_ENTRIES = [
    (behavior, wrong)
    for behavior, right in GUIDE_MAP.items()
    for wrong in (0, 1, 2, int(behavior))
    if wrong != right
]


@pytest.mark.parametrize(
    ("behavior", "wrong"), _WRONG_ENTRIES, ids=[f"{b.name}->{w}" for b, w in _WRONG_ENTRIES]
)
def test_each_wrong_map_entry_is_named(behavior: B, wrong: int) -> None:
    server_map = {**GUIDE_MAP, behavior: wrong}
    with serve(BreakableLogger()) as address:
        report = check_client(guide_client(address, server_map), address=address, resource=NDJSON)

    assert f"map-{behavior.name}" in _failed(report), str(report)


_EXIT_CASES = [
    (B.AUTO, True),
    (B.AUTO, False),
    (B.INITIALIZE_SERVER_SESSION, True),
    (B.ATTACH_TO_SERVER_SESSION, False),
    (B.INITIALIZE_SESSION_THEN_DETACH, True),
    (B.ATTACH_TO_SESSION_THEN_CLOSE, False),
]


@pytest.mark.parametrize(
    ("behavior", "created"), _EXIT_CASES, ids=[f"{b.name}-{c}" for b, c in _EXIT_CASES]
)
def test_each_wrong_exit_decision_is_named(behavior: B, created: bool) -> None:
    def flipped(b: B, c: bool) -> bool:
        right = guide_closes(b, c)
        return not right if (b, c) == (behavior, created) else right

    with serve(BreakableLogger()) as address:
        report = check_client(
            guide_client(address, closes=flipped), address=address, resource=NDJSON
        )

    rule = f"exit-{behavior.name}-{'created' if created else 'attached'}"
    assert _failed(report) == {rule}, str(report)


def test_a_client_class_is_called_with_the_resource_and_the_behaviour(logger_address: str) -> None:
    class Located(JsonLoggerClient):
        def __init__(self, resource_name: str, *, initialization_behavior: B) -> None:
            super().__init__(
                resource_name, initialization_behavior=initialization_behavior,
                address=logger_address,
            )  # fmt: skip

    report = check_client(Located, address=logger_address, resource=NDJSON)

    assert report.ok, str(report)
    assert report.target.endswith("<locals>.Located")


# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _console(*arguments: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("session-conformance")
    return subprocess.run(
        [str(script), *arguments], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_docs_page_names_every_rule_and_what_it_protects_against() -> None:
    from session_core.conformance.rules import EXIT_RULES, FAILED_SETUP_CLOSES, SERVER_RULES

    page = (Path(__file__).resolve().parents[1] / "docs" / "conformance.md").read_text("utf-8")

    for rule in SERVER_RULES:
        assert f"| `{rule.id}` |" in page and rule.protects in page, rule.id
    for rule, _ in EXIT_RULES.values():
        assert f"`{rule.id}`" in page, rule.id
    assert f"`{FAILED_SETUP_CLOSES.id}` (advice)" in page


def test_a_pool_of_resource_names_is_used_one_name_a_check_and_too_few_say_so(
    logger_address: str, tmp_path: Path
) -> None:
    """Resources that must exist (devices) are given as a pool of names, not a template."""
    pool = [str(tmp_path / f"pooled-{index}.ndjson") for index in range(40)]
    spellings = [str(tmp_path / "x" / ".." / f"pooled-{index}.ndjson") for index in range(40)]
    (tmp_path / "x").mkdir()

    report = assert_service_conforms(logger_address, resource=pool, other_spelling=spellings)
    assert {c.outcome for c in report} == {Outcome.PASSED}
    with pytest.raises(PoolExhaustedError, match="more than the 2 resources"):
        check_service(logger_address, resource=pool[:2])
