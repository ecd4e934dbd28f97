"""Find a service's session RPCs by the guide's mandatory fields, whatever they are named.

The initialize RPC takes ``resource_name`` and ``session_initialization_behavior`` and answers
``session_id`` and ``new_session_initialized``; the close RPC takes ``session_id``. The
descriptors come from the server itself (gRPC server reflection) or from a generated ``_pb2``
module, so ``InitializeFile``, ``InitializeDatabase``, ``AcquireLock`` or a learner's own name
are all found.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

_INFRASTRUCTURE = ("grpc.health.", "grpc.reflection.")
_CLOSE_VERBS = ("Close", "Release", "Destroy", "Disconnect", "End", "Free", "Unlock", "Stop")
_BEHAVIOR_NAMES = ("UNSPECIFIED", "INITIALIZE_NEW", "ATTACH_TO_EXISTING")


_ROLES = {
    "initialize": "a unary RPC whose request has `string resource_name` and "
    "`session_initialization_behavior`, and whose response has `string session_id` and "
    "`bool new_session_initialized`",
    "close": "a unary RPC whose request is `string session_id` alone",
}


class ContractError(ValueError):
    """The service does not declare the pattern's RPCs (or declares them ambiguously)."""


@dataclass(frozen=True)
class Rpc:
    """One unary RPC, callable on any channel with its own message classes."""

    name: str
    path: str
    request_type: Any
    response_type: Any

    def call(self, channel: grpc.Channel, request: Any, timeout: float) -> Any:
        """Send ``request``; raise :class:`grpc.RpcError` on a status other than OK."""
        method = channel.unary_unary(
            self.path,
            request_serializer=self.request_type.SerializeToString,
            response_deserializer=self.response_type.FromString,
        )
        return method(request, timeout=timeout)


@dataclass(frozen=True)
class SessionContract:
    """A service's session RPCs: the pattern's initialize/close pair, and what else takes an id."""

    service: str
    initialize: Rpc
    close: Rpc
    list_sessions: Rpc | None
    session_calls: tuple[Rpc, ...]
    """The other unary RPCs whose request names a ``session_id``."""
    behaviors: tuple[int, int, int]
    """The wire values of UNSPECIFIED, INITIALIZE_NEW and ATTACH_TO_EXISTING."""

    def initialize_request(self, resource_name: str, behavior: int) -> Any:
        """An initialize request; ``behavior`` may be any number, known to the enum or not."""
        request = self.initialize.request_type(resource_name=resource_name)
        request.session_initialization_behavior = behavior
        return request


def contract_from_reflection(
    channel: grpc.Channel,
    *,
    service: str | None = None,
    initialize: str | None = None,
    close: str | None = None,
) -> SessionContract:
    """Ask the server (gRPC server reflection) for its services and find the session RPCs."""
    database = ProtoReflectionDescriptorDatabase(channel)
    try:
        names = [n for n in database.get_services() if not n.startswith(_INFRASTRUCTURE)]
    except grpc.RpcError as error:
        raise ContractError(
            f"the server does not answer gRPC server reflection ({error.code().name}); "
            "enable it (grpc_reflection.v1alpha.reflection.enable_server_reflection) or give "
            "the generated _pb2 module"
        ) from None
    pool = descriptor_pool.DescriptorPool(database)
    return _choose(
        [pool.FindServiceByName(name).methods for name in names],
        service=service,
        initialize=initialize,
        close=close,
    )


def contract_from_module(
    module: types.ModuleType,
    *,
    service: str | None = None,
    initialize: str | None = None,
    close: str | None = None,
) -> SessionContract:
    """Find the session RPCs in a generated ``_pb2`` module's services."""
    services = module.DESCRIPTOR.services_by_name.values()
    return _choose(
        [s.methods for s in services], service=service, initialize=initialize, close=close
    )


def _choose(
    services: Iterable[Sequence[MethodDescriptor]],
    *,
    service: str | None,
    initialize: str | None,
    close: str | None,
) -> SessionContract:
    found: dict[str, Sequence[MethodDescriptor]] = {}
    for methods in services:
        if methods:
            name = methods[0].containing_service.full_name
            if any(_is_initialize(m) for m in methods) and (service in (None, name)):
                found[name] = methods
    if not found:
        wanted = f"service {service!r} with " if service else "no service has "
        raise ContractError(f"{wanted}an initialize RPC: {_ROLES['initialize']}")
    if len(found) > 1:
        raise ContractError(f"several session services ({', '.join(found)}); name one")
    ((service_name, methods),) = found.items()
    initialize_method = _pick(
        [m for m in methods if _is_initialize(m)], initialize, "initialize", service_name
    )
    close_method = _pick(_close_candidates(methods), close, "close", service_name)
    listing = [m for m in methods if _is_listing(m)]
    others = [
        m
        for m in methods
        if _is_unary(m)
        and m not in (initialize_method, close_method)
        and _has(m.input_type, "session_id", FieldDescriptor.TYPE_STRING)
    ]
    return SessionContract(
        service=service_name,
        initialize=_rpc(initialize_method),
        close=_rpc(close_method),
        list_sessions=_rpc(listing[0]) if len(listing) == 1 else None,
        session_calls=tuple(_rpc(m) for m in others),
        behaviors=_behavior_values(initialize_method.input_type),
    )


def _pick(
    candidates: list[MethodDescriptor], wanted: str | None, role: str, service: str
) -> MethodDescriptor:
    if wanted is not None:
        for method in candidates:
            if method.name == wanted:
                return method
        raise ContractError(f"{service} has no {role} RPC named {wanted!r}")
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ContractError(f"{service} has no {role} RPC: {_ROLES[role]}")
    names = ", ".join(m.name for m in candidates)
    raise ContractError(f"cannot tell which RPC of {service} is the {role} RPC ({names}); name it")


def _close_candidates(methods: Sequence[MethodDescriptor]) -> list[MethodDescriptor]:
    """Unary RPCs whose request is the session id alone; a close verb settles a tie."""
    alone = [
        m
        for m in methods
        if _is_unary(m)
        and [f.name for f in m.input_type.fields] == ["session_id"]
        and not _is_initialize(m)
    ]
    verbs = [m for m in alone if m.name.startswith(_CLOSE_VERBS)]
    return verbs if len(alone) > 1 and verbs else alone


def _is_unary(method: MethodDescriptor) -> bool:
    return not (method.client_streaming or method.server_streaming)


def _is_initialize(method: MethodDescriptor) -> bool:
    request, response = method.input_type, method.output_type
    return (
        _is_unary(method)
        and _has(request, "resource_name", FieldDescriptor.TYPE_STRING)
        and "session_initialization_behavior" in request.fields_by_name
        and _has(response, "session_id", FieldDescriptor.TYPE_STRING)
        and _has(response, "new_session_initialized", FieldDescriptor.TYPE_BOOL)
    )


def _is_listing(method: MethodDescriptor) -> bool:
    """An RPC without arguments answering a list of messages that carry a ``session_id``."""
    if not _is_unary(method) or method.input_type.fields:
        return False
    return any(
        field.message_type is not None
        and field.is_repeated
        and _has(field.message_type, "session_id", FieldDescriptor.TYPE_STRING)
        for field in method.output_type.fields
    )


def _has(message: Descriptor, name: str, kind: int) -> bool:
    field = message.fields_by_name.get(name)
    return field is not None and field.type == kind


def _behavior_values(request: Descriptor) -> tuple[int, int, int]:
    """The three behaviours' numbers: by name from the enum, else the guide's 0, 1, 2."""
    enum = request.fields_by_name["session_initialization_behavior"].enum_type
    if enum is None:
        return (0, 1, 2)
    values = []
    for suffix in _BEHAVIOR_NAMES:
        matches = [v.number for v in enum.values if v.name.endswith(suffix)]
        if len(matches) != 1:
            raise ContractError(f"the enum {enum.full_name} has no single value named *{suffix}")
        values.append(matches[0])
    return (values[0], values[1], values[2])


def _rpc(method: MethodDescriptor) -> Rpc:
    return Rpc(
        name=method.name,
        path=f"/{method.containing_service.full_name}/{method.name}",
        request_type=message_factory.GetMessageClass(method.input_type),
        response_type=message_factory.GetMessageClass(method.output_type),
    )
