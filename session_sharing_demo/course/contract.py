"""Notebook 1, *Define the contract*: the proto shown from the package, tables built from it.

Everything shown is read from :mod:`json_logger` itself (the ``.proto`` file, the compiled
descriptor and, for the comments, protoc's source info), so the notebook can never drift from the
contract it explains.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from json_logger import codegen, json_logger_pb2
from session_core.behaviors import SERVER_BEHAVIOR
from session_sharing_demo.course.markdown import code_block, markdown_table

# Field numbers of FileDescriptorProto / DescriptorProto / ... used in SourceCodeInfo paths.
_MESSAGE_TYPE, _ENUM_TYPE, _SERVICE = 4, 5, 6
_FIELD, _ENUM_VALUE, _METHOD = 2, 2, 2


def proto_markdown() -> str:
    """The contract file, as shipped in the package, as a Markdown code block."""
    return code_block(codegen.PROTO_FILE.read_text(encoding="utf-8"), "protobuf")


def proto_comments() -> dict[str, str]:
    """The leading comment of every method, message, field and enum value, by full name.

    The compiled stubs drop comments, so the proto is compiled once more with protoc's
    ``--include_source_info`` into a descriptor set, read and thrown away.
    """
    from grpc_tools import protoc  # a dev dependency, like the stub generator

    with tempfile.TemporaryDirectory(prefix="proto-comments-") as scratch:
        descriptor_set = Path(scratch) / "json_logger.pb"
        arguments = [
            "grpc_tools.protoc",
            f"--proto_path={codegen.PROJECT_ROOT}",
            f"--proto_path={_well_known_protos()}",
            "--include_source_info",
            f"--descriptor_set_out={descriptor_set}",
            codegen.PROTO_FILE.relative_to(codegen.PROJECT_ROOT).as_posix(),
        ]
        with protoc_messages() as messages:
            status = protoc.main(arguments)
        if status != 0:
            raise RuntimeError(f"protoc failed on {codegen.PROTO_FILE}: {messages.text}")
        files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes())
    return _comments_by_name(files.file[0])


def _well_known_protos() -> str:
    """Where grpc_tools keeps ``google/protobuf/*.proto`` (the Timestamp import)."""
    return str(resources.files("grpc_tools") / "_proto")


def _comments_by_name(file: descriptor_pb2.FileDescriptorProto) -> dict[str, str]:
    comments = {
        tuple(location.path): " ".join(location.leading_comments.split())
        for location in file.source_code_info.location
        if location.leading_comments.strip()
    }
    package = file.package
    named: dict[str, str] = {}

    def take(path: tuple[int, ...], name: str) -> None:
        if path in comments:
            named[f"{package}.{name}"] = comments[path]

    for m, message in enumerate(file.message_type):
        take((_MESSAGE_TYPE, m), message.name)
        for f, message_field in enumerate(message.field):
            take((_MESSAGE_TYPE, m, _FIELD, f), f"{message.name}.{message_field.name}")
    for e, enum in enumerate(file.enum_type):
        take((_ENUM_TYPE, e), enum.name)
        for v, value in enumerate(enum.value):
            take((_ENUM_TYPE, e, _ENUM_VALUE, v), f"{enum.name}.{value.name}")
    for s, service in enumerate(file.service):
        take((_SERVICE, s), service.name)
        for r, method in enumerate(service.method):
            take((_SERVICE, s, _METHOD, r), f"{service.name}.{method.name}")
    return named


def first_sentence(comment: str) -> str:
    """The comment up to its first full stop (the whole comment if it has none)."""
    head, dot, _ = comment.partition(". ")
    return head + ("." if dot else "")


def field_type(field: FieldDescriptor) -> str:
    """The field's type as written in the proto: ``string``, ``map<string, string>``, ..."""
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key, value = field.message_type.fields_by_name.values()
        return f"map<{field_type(key)}, {field_type(value)}>"
    if field.message_type is not None:
        name = _relative_name(field.message_type)
    elif field.enum_type is not None:
        name = _relative_name(field.enum_type)
    else:
        type_name = descriptor_pb2.FieldDescriptorProto.Type.Name(field.type)  # type: ignore[arg-type]
        name = type_name.removeprefix("TYPE_").lower()
    return f"repeated {name}" if field.is_repeated else name


def _relative_name(descriptor: Descriptor | EnumDescriptor) -> str:
    package = json_logger_pb2.DESCRIPTOR.package + "."
    return descriptor.full_name.removeprefix(package)


def rpc_table() -> str:
    """One row per RPC of the service: request, response, streaming, what it does."""
    comments = proto_comments()
    service = json_logger_pb2.DESCRIPTOR.services_by_name["JsonLogger"]
    rows = []
    for method in service.methods:
        request = _relative_name(method.input_type)
        if method.client_streaming:
            request = f"stream {request}"
        meaning = first_sentence(comments.get(f"{service.full_name}.{method.name}", ""))
        rows.append(
            (f"`{method.name}`", f"`{request}`", f"`{_relative_name(method.output_type)}`", meaning)
        )
    return markdown_table(("RPC", "request", "response", "what it does"), rows)


def field_table() -> str:
    """One row per field of every message: message, field, number, type, its proto comment."""
    comments = proto_comments()
    rows: list[tuple[object, ...]] = []
    for message in json_logger_pb2.DESCRIPTOR.message_types_by_name.values():
        if not message.fields:
            rows.append((f"`{message.name}`", "(no fields)", "", "", ""))
        for message_field in message.fields:
            rows.append(
                (
                    f"`{message.name}`",
                    f"`{message_field.name}`",
                    message_field.number,
                    f"`{field_type(message_field)}`",
                    comments.get(message_field.full_name, ""),
                )
            )
    return markdown_table(("message", "field", "number", "type", "meaning"), rows)


def behavior_enum_table() -> str:
    """The server-side behaviour enum: value, number, meaning, and which NI behaviours send it."""
    comments = proto_comments()
    enum = json_logger_pb2.DESCRIPTOR.enum_types_by_name["SessionInitializationBehavior"]
    rows = []
    for value in enum.values:
        sent_for = [ni.name for ni, server in SERVER_BEHAVIOR.items() if server == value.number]
        rows.append(
            (
                f"`{value.name}`",
                value.number,
                comments.get(f"{enum.full_name}.{value.name}", ""),
                ", ".join(f"`{name}`" for name in sent_for),
            )
        )
    return markdown_table(("value", "number", "meaning", "sent by the client for NI's"), rows)


@dataclass
class ProtocMessages:
    """What protoc and its plug-ins wrote to stderr (filled in when the ``with`` block ends)."""

    text: str = ""


@contextmanager
def protoc_messages() -> Iterator[ProtocMessages]:
    """Capture what protoc and its plug-ins write to stderr (file descriptor 2) in the block.

    protoc runs in this process and its plug-ins (mypy-protobuf says ``Writing mypy to ...``) in
    child processes, so their messages bypass ``sys.stderr``. Some notebook runners forward
    descriptor 2 to the cell's output and others do not; capturing it keeps the stored outputs
    comparable, and the messages can still be shown on purpose.
    """
    messages = ProtocMessages()
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield messages
            finally:
                os.dup2(saved, 2)
                sink.seek(0)
                messages.text = sink.read().decode("utf-8", errors="replace").strip()
    finally:
        os.close(saved)


@dataclass(frozen=True)
class StubComparison:
    """A freshly generated stub next to the committed one."""

    name: str
    identical: bool


def scratch_folder() -> Path:
    """A new empty folder to generate into (remove it with :func:`remove_scratch_folder`)."""
    return Path(tempfile.mkdtemp(prefix="stubs-"))


def remove_scratch_folder(folder: Path) -> str:
    """Remove a folder made by :func:`scratch_folder`."""
    shutil.rmtree(folder)
    return "removed the scratch folder"


def generated_names(generated: Iterable[Path], root: Path) -> list[str]:
    """The generated files relative to the folder generated into, sorted, POSIX-style."""
    return sorted(path.relative_to(root).as_posix() for path in generated)


def compare_with_committed(generated: Iterable[Path]) -> list[StubComparison]:
    """Compare each generated file with the committed stub of the same name, byte for byte."""
    comparisons = []
    for path in sorted(generated):
        committed = codegen.PACKAGE_DIR / path.name
        content = path.read_bytes()
        identical = committed.is_file() and committed.read_bytes() == content
        comparisons.append(StubComparison(path.name, identical))
    return comparisons


def comparison_report(comparisons: Iterable[StubComparison]) -> str:
    """One line per stub, then a verdict."""
    comparisons = list(comparisons)
    lines = [
        f"{c.name:<24} {'identical to' if c.identical else 'DIFFERS from'} json_logger/{c.name}"
        for c in comparisons
    ]
    stale = [c.name for c in comparisons if not c.identical]
    lines.append(
        "The committed stubs are up to date."
        if not stale
        else f"Stale: {', '.join(stale)}; run `python -m json_logger.codegen`."
    )
    return "\n".join(lines)
