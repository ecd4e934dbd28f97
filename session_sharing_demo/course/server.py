"""Notebook 2, *Implement and launch the server*: source shown from the package, health, discovery.

The notebook renders the service's own code (never a copy), starts the service through
:class:`~session_sharing_demo.course.environment.Course` and checks it from the outside the way
NI's tools do: gRPC health checking and the NI Discovery Service.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Iterable
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ni.measurementlink.discovery.v1.client import ServiceLocation
from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior

from logger_client import JsonLoggerClient
from session_core import errors
from session_sharing_demo.course.markdown import code_block, markdown_table

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def source_markdown(obj: object) -> str:
    """The source of a function, method or class, as a Markdown code block under its location.

    Decorated functions are shown as written (``inspect`` follows ``functools.wraps``).
    """
    source = textwrap.dedent(inspect.getsource(obj))  # type: ignore[arg-type]
    file = Path(inspect.getsourcefile(obj) or "")  # type: ignore[arg-type]
    try:
        where = file.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        where = file.name
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", ""))
    return f"`{where}` — `{name}`\n\n{code_block(source, 'python')}"


def error_code_table() -> str:
    """Each error the session core and the resource raise, and the status code it becomes."""
    rows = [
        (f"`{error.__name__}`", f"`{error.code.name}`", _first_line(error.__doc__))
        for error in _subclasses(errors.ServiceError)
    ]
    rows.append(("any other exception (a bug)", "`INTERNAL`", "logged with its traceback"))
    return markdown_table(("raised in the service", "status code", "meaning"), rows)


def _subclasses(cls: type[errors.ServiceError]) -> list[type[errors.ServiceError]]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found += _subclasses(sub)
    return found


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if doc and doc.strip() else ""


def health_status(address: str, services: Iterable[str]) -> str:
    """Ask the server's ``grpc.health.v1.Health`` service about each name ("" = whole server)."""
    lines = []
    with grpc.insecure_channel(address, options=[("grpc.enable_http_proxy", 0)]) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in services:
            # types-grpcio-health-checking declares no methods on HealthStub.
            check = stub.Check  # type: ignore[attr-defined]
            response = check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
            label = repr(service) + (" (the whole server)" if not service else "")
            lines.append(f"{label}: {status}")
    return "\n".join(lines)


def describe_location(location: ServiceLocation, ready_address: str) -> str:
    """What discovery returned, and whether it is where the service said it listens."""
    same = location.insecure_address == ready_address
    return "\n".join(
        [
            f"host:             {location.location}",
            f"insecure address: {location.insecure_address}",
            f"SSL address:      {location.ssl_authenticated_port or '(none: insecure only)'}",
            f"the address the service printed when ready: {ready_address}",
            f"discovery resolves to the running service: {same}",
        ]
    )


def log_file_text(path: Path) -> str:
    """The log file's content, exactly as on disk (one JSON object per line)."""
    return path.read_text(encoding="utf-8").rstrip("\n") if path.exists() else "(no file yet)"


def try_to_open(path: Path, *, address: str | None = None) -> str:
    """Open (AUTO) a session of ``path``; on failure, the status code and details, not a raise."""
    try:
        with JsonLoggerClient(
            path, initialization_behavior=SessionInitializationBehavior.AUTO, address=address
        ) as client:
            return f"opened: new session = {client.new_session_initialized}"
    except grpc.RpcError as error:
        return rpc_error_text(error)


def rpc_error_parts(error: grpc.RpcError) -> tuple[str, str]:
    """The status code name and the details of a failed call."""
    if isinstance(error, grpc.Call):
        return error.code().name, error.details() or ""
    return "UNKNOWN", str(error)


def rpc_error_text(error: grpc.RpcError) -> str:
    """``grpc.RpcError <CODE>: <details>`` of a failed call."""
    code, details = rpc_error_parts(error)
    return f"grpc.RpcError {code}: {details}"
