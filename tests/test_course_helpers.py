"""The helpers behind notebooks 1-3: what the notebooks do not exercise on their own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior

from json_logger import json_logger_pb2
from session_sharing_demo.course import behaviors, contract, server

Behavior = SessionInitializationBehavior


def test_markdown_table_escapes_pipes_and_line_breaks() -> None:
    table = contract.markdown_table(("a", "b"), [("x|y", "line 1\nline 2")])

    assert table.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | line 1 line 2 |"]


def test_field_types_read_as_in_the_proto() -> None:
    request = json_logger_pb2.DESCRIPTOR.message_types_by_name["LogMeasurementDataRequest"]
    batch = json_logger_pb2.DESCRIPTOR.message_types_by_name["LogMeasurementDataBatch"]
    initialize = json_logger_pb2.DESCRIPTOR.message_types_by_name["InitializeFileRequest"]

    assert contract.field_type(request.fields_by_name["measurement_outputs"]) == (
        "map<string, string>"
    )
    assert contract.field_type(request.fields_by_name["timestamp"]) == "google.protobuf.Timestamp"
    assert contract.field_type(batch.fields_by_name["records"]) == "repeated MeasurementRecord"
    assert contract.field_type(initialize.fields_by_name["session_initialization_behavior"]) == (
        "SessionInitializationBehavior"
    )


def test_every_rpc_and_enum_value_has_a_comment_in_the_proto() -> None:
    comments = contract.proto_comments()
    service = json_logger_pb2.DESCRIPTOR.services_by_name["JsonLogger"]
    enum = json_logger_pb2.DESCRIPTOR.enum_types_by_name["SessionInitializationBehavior"]

    for method in service.methods:
        assert comments.get(method.full_name), method.full_name
    for value in enum.values:
        assert comments.get(f"{enum.full_name}.{value.name}"), value.name


def test_protoc_messages_captures_child_stderr_and_restores_it() -> None:
    before = os.fstat(2)
    with contract.protoc_messages() as messages:
        subprocess.run([sys.executable, "-c", "import sys; sys.stderr.write('hello\\n')"])
    after = os.fstat(2)

    assert messages.text == "hello"
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)


def test_a_stale_stub_is_reported(tmp_path: Path) -> None:
    stale = tmp_path / "json_logger_pb2.py"
    stale.write_text("# not what protoc writes\n", encoding="utf-8")

    report = contract.comparison_report(contract.compare_with_committed([stale]))

    assert "json_logger_pb2.py       DIFFERS from json_logger/json_logger_pb2.py" in report
    assert report.endswith("Stale: json_logger_pb2.py; run `python -m json_logger.codegen`.")


def test_error_code_table_lists_every_service_error() -> None:
    table = server.error_code_table()

    for code in ("INVALID_ARGUMENT", "ALREADY_EXISTS", "NOT_FOUND", "PERMISSION_DENIED"):
        assert f"`{code}`" in table


def test_try_to_open_reports_the_status_instead_of_raising(
    logger_address: str, tmp_path: Path
) -> None:
    not_a_log = tmp_path / "notes.txt"
    not_a_log.write_text("plain text\n", encoding="utf-8")

    assert server.try_to_open(not_a_log, address=logger_address).startswith(
        "grpc.RpcError INVALID_ARGUMENT: "
    )
    assert server.try_to_open(tmp_path / "ok.ndjson", address=logger_address) == (
        "opened: new session = True"
    )


def test_behavior_tour_records_sessions_errors_and_lines(
    logger_address: str, log_path: Path
) -> None:
    tour = behaviors.BehaviorTour(log_path, logger_address, client_address=logger_address)

    missing = tour.run(Behavior.ATTACH_TO_SERVER_SESSION)
    setup = tour.run(Behavior.INITIALIZE_SESSION_THEN_DETACH)
    refused = tour.run(Behavior.INITIALIZE_SERVER_SESSION)
    step = tour.run(Behavior.AUTO)
    cleanup = tour.run(Behavior.ATTACH_TO_SESSION_THEN_CLOSE)
    failed_setup = tour.run(Behavior.INITIALIZE_SESSION_THEN_DETACH, fail_inside=True)

    assert (missing.error_code, missing.session, missing.lines) == ("NOT_FOUND", "", 0)
    assert (setup.session, setup.new_session, setup.closed_on_exit) == ("A", True, False)
    assert setup.open_after == "A (1 record)"
    assert (refused.error_code, refused.mentioned_session, refused.lines) == (
        "ALREADY_EXISTS",
        "A",
        1,
    )
    assert (step.session, step.new_session, step.closed_on_exit) == ("A", False, False)
    assert (cleanup.session, cleanup.closed_on_exit, cleanup.open_after) == ("A", True, "none")
    assert (failed_setup.session, failed_setup.closed_on_exit) == ("B", True)
    assert failed_setup.lines == 4
    assert tour.table().count("\n") == 2 + 5  # header, rule, six rows
    assert tour.file_summary().splitlines()[-1] == (
        "line 4: step 6 (INITIALIZE_SESSION_THEN_DETACH) in session B"
    )
    assert "caught grpc.RpcError NOT_FOUND: " in str(missing)
    assert "(the session id in the details is session A)" in str(refused)
