"""``session-conformance ADDRESS``: check a running session service (and a client) from a shell.

Exits 0 when every rule holds, 1 naming each broken rule, 2 when the service cannot be checked
(nothing listening, no reflection and no ``--proto-module``, no initialize/close RPCs).
"""

from __future__ import annotations

import importlib
import inspect
import sys
from typing import Any

import click
from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior

from session_core.conformance import (
    DEFAULT_RESOURCE,
    ConformanceReport,
    ContractError,
    check_client,
    check_service,
)


def _load(spec: str) -> Any:
    """``package.module`` or ``package.module:attribute``."""
    module_name, _, attribute = spec.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("address")
@click.option(
    "--resource",
    default=DEFAULT_RESOURCE,
    show_default=True,
    help="Resource names: {n} becomes a fresh name per check, {tmp} a temporary folder "
    "(e.g. '{tmp}/{n}.ndjson').",
)
@click.option(
    "--other-spelling",
    metavar="TEMPLATE",
    help="A second spelling of the same resource for the same {n} (e.g. '{tmp}/x/../{n}.ndjson').",
)
@click.option("--service", metavar="NAME", help="The full service name, if it has several.")
@click.option(
    "--proto-module",
    metavar="MODULE",
    help="The generated _pb2 module (e.g. json_logger.json_logger_pb2), for servers without "
    "reflection.",
)
@click.option(
    "--client",
    "client_spec",
    metavar="MODULE:CLASS",
    help="Also check this client class against the service (given address= if it takes one).",
)
@click.option(
    "--differs",
    "differences",
    metavar="RULE=WHY",
    multiple=True,
    help="A rule the service breaks on purpose, and why (repeatable): reported DIFFERS, not "
    "FAILED.",
)
@click.option("--timeout", default=10.0, show_default=True, help="Seconds per call.")
def main(
    address: str,
    resource: str,
    other_spelling: str | None,
    service: str | None,
    proto_module: str | None,
    client_spec: str | None,
    differences: tuple[str, ...],
    timeout: float,
) -> None:
    """Check that the session service at ADDRESS (host:port) follows the session pattern."""
    options: dict[str, Any] = {
        "resource": resource,
        "service": service,
        "proto_module": _load(proto_module) if proto_module else None,
        "timeout": timeout,
        "differs": _differences(differences),
    }
    try:
        reports = [check_service(address, other_spelling=other_spelling, **options)]
        if client_spec:
            reports.append(
                check_client(_client_factory(client_spec, address), address=address, **options)
            )
    except (ContractError, ConnectionError, ValueError) as error:
        click.echo(f"session-conformance: {error}", err=True)
        sys.exit(2)
    _print(reports)
    sys.exit(0 if all(report.ok for report in reports) else 1)


def _differences(pairs: tuple[str, ...]) -> dict[str, str]:
    differs = {}
    for pair in pairs:
        rule_id, equals, reason = pair.partition("=")
        if not equals:
            raise click.BadParameter(f"{pair!r} is not RULE=WHY", param_hint="--differs")
        differs[rule_id.strip()] = reason.strip()
    return differs


def _client_factory(spec: str, address: str) -> Any:
    client_class = _load(spec)
    takes_address = "address" in inspect.signature(client_class).parameters

    def make(resource_name: str, behavior: SessionInitializationBehavior) -> Any:
        if takes_address:
            return client_class(resource_name, initialization_behavior=behavior, address=address)
        return client_class(resource_name, initialization_behavior=behavior)

    make.__qualname__ = getattr(client_class, "__qualname__", spec)
    return make


def _print(reports: list[ConformanceReport]) -> None:
    for report in reports:
        click.echo(str(report))
        if not report.ok:
            click.echo("")
            click.echo(report.failure_message(), err=True)
        click.echo("")


if __name__ == "__main__":
    main()
