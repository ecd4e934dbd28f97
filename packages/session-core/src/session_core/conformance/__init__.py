"""The conformance kit: checks that a gRPC service (and its client) follows the session pattern.

Any service whose initialize RPC takes ``resource_name`` + ``session_initialization_behavior``
and answers ``session_id`` + ``new_session_initialized``, and whose close RPC takes the
``session_id``, can be checked, whatever its RPCs are named. Three ways to run it:

- :func:`check_service` / :func:`check_client` return a :class:`ConformanceReport` (a table in a
  notebook; ``raise_for_failures()`` raises naming each broken rule);
- :func:`assert_service_conforms` / :func:`assert_client_conforms` in a user's own pytest suite;
- the console script ``session-conformance ADDRESS [--resource TEMPLATE] [--service NAME]``.

A service that differs from the pattern on purpose says so, rule by rule, with ``differs``
(``{"unspecified-attaches": "why"}``; ``--differs RULE=WHY``): the report shows DIFFERS and the
reason there, and still passes.

Resource names come from a template: ``{n}`` becomes a fresh name for each check and ``{tmp}`` a
temporary folder the kit makes and removes, e.g. ``"{tmp}/{n}.ndjson"``.
"""

from __future__ import annotations

import contextlib
import inspect
import tempfile
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import grpc
from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior

from session_core.conformance.client_checks import ClientFactory, exit_source, run_client_checks
from session_core.conformance.contract import (
    ContractError,
    SessionContract,
    contract_from_module,
    contract_from_reflection,
)
from session_core.conformance.probe import PoolExhaustedError, Prober
from session_core.conformance.report import Check, ConformanceError, ConformanceReport, Outcome
from session_core.conformance.rules import Rule, check_differences
from session_core.conformance.server_checks import run_server_checks

__all__ = [
    "Check",
    "ClientFactory",
    "ConformanceError",
    "ConformanceReport",
    "ContractError",
    "Outcome",
    "PoolExhaustedError",
    "Rule",
    "SessionContract",
    "assert_client_conforms",
    "assert_service_conforms",
    "check_client",
    "check_service",
    "contract_from_module",
    "contract_from_reflection",
]

DEFAULT_RESOURCE = "{tmp}/{n}"
DEFAULT_TIMEOUT_SECONDS = 10.0


def check_service(
    address: str,
    *,
    resource: str | Sequence[str] = DEFAULT_RESOURCE,
    other_spelling: str | Sequence[str] | None = None,
    service: str | None = None,
    proto_module: types.ModuleType | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    differs: Mapping[str, str] | None = None,
) -> ConformanceReport:
    """Check the server rules against the service at ``address`` (``host:port``).

    Args:
        address: Where the service listens.
        resource: The template of resource names (``{n}``: a fresh name per check; ``{tmp}``: a
            temporary folder); or, for resources that must exist (devices), a pool of names,
            each used once (about 40 are needed).
        other_spelling: A second template naming the same resource as ``resource`` for the same
            ``{n}`` (e.g. ``"{tmp}/sub/../{n}.ndjson"``), or with a pool, another spelling of
            each of its names; without it that rule is skipped.
        service: The full service name, when the server has several session services.
        proto_module: The generated ``_pb2`` module; without it, server reflection is asked.
        timeout: Deadline in seconds of each call.
        differs: Where the service differs from the pattern on purpose: rule id → why. Such a
            rule is reported DIFFERS (with the reason) rather than FAILED, and the checks that
            lean on it adapt; a declared rule that holds after all is reported as advice.
    """
    declared = check_differences(differs or {})
    with _prober(address, resource, service, proto_module, timeout) as prober:
        checks = run_server_checks(prober, other_spelling=other_spelling, differs=declared)
        return ConformanceReport(f"{prober.contract.service} at {address}", checks)


def check_client(
    client: Callable[..., Any],
    *,
    address: str,
    resource: str | Sequence[str] = DEFAULT_RESOURCE,
    service: str | None = None,
    proto_module: types.ModuleType | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    differs: Mapping[str, str] | None = None,
) -> ConformanceReport:
    """Check a client's 5 → 3 map and exit rule against the live service at ``address``.

    Args:
        client: A client class, called as ``client(resource_name, initialization_behavior=b)``
            and used as a context manager with ``session_id`` and ``new_session_initialized``;
            or a function ``make(resource_name, behavior)`` returning such a client (to pass an
            address, say). It must reach the same service as ``address``.
        address: Where the service listens; the kit asks it what the client's calls did.
        resource: As for :func:`check_service`.
        service: As for :func:`check_service`.
        proto_module: As for :func:`check_service`.
        timeout: As for :func:`check_service`.
        differs: As for :func:`check_service` (the service's declared differences).
    """
    declared = check_differences(differs or {})
    make: ClientFactory
    if inspect.isclass(client):
        cls: Callable[..., Any] = client

        def make(name: str, behavior: SessionInitializationBehavior) -> Any:
            return cls(name, initialization_behavior=behavior)
    else:
        make = client
    name = getattr(client, "__qualname__", repr(client))
    with _prober(address, resource, service, proto_module, timeout) as prober:
        checks = run_client_checks(prober, make, exit_source=exit_source(client), differs=declared)
    return ConformanceReport(f"client {name}", checks)


def assert_service_conforms(address: str, **options: Any) -> ConformanceReport:
    """For a pytest suite: :func:`check_service`, failing with every broken rule named."""
    report = check_service(address, **options)
    report.raise_for_failures()
    return report


def assert_client_conforms(client: Callable[..., Any], **options: Any) -> ConformanceReport:
    """For a pytest suite: :func:`check_client`, failing with every broken rule named."""
    report = check_client(client, **options)
    report.raise_for_failures()
    return report


@contextlib.contextmanager
def _prober(
    address: str,
    resource: str | Sequence[str],
    service: str | None,
    proto_module: types.ModuleType | None,
    timeout: float,
) -> Iterator[Prober]:
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="conformance-"))
        channel = stack.enter_context(
            grpc.insecure_channel(address, options=[("grpc.enable_http_proxy", 0)])
        )
        try:
            grpc.channel_ready_future(channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise ConnectionError(f"no gRPC server answers at {address}") from None
        if proto_module is not None:
            contract = contract_from_module(proto_module, service=service)
        else:
            contract = contract_from_reflection(channel, service=service)
        yield Prober(channel, contract, resource=resource, timeout=timeout, tmp_dir=tmp)
