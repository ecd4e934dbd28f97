"""A driver's attribute catalogue, read from NI's installed client package.

NI's ``nidcpower``/``nidmm`` session classes declare every attribute as a descriptor that holds
its id; the descriptor's class names the ``Vi*`` type, and an enum descriptor names its enum. The
simulator takes ids, names, types and enum values from there, so every attribute NI's client can
reach is known, with the right type and only valid enum values. The simulations add, as data rows
of :class:`~local_ni_platform.device_server.attributes.AttributeSpec`, only what gives an
attribute meaning: its default, its range, whether it is read-only.

An attribute no row describes defaults to zero, ``False``, ``""`` or its enum's first value.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable

from local_ni_platform.device_server.attributes import AttributeSpec, AttributeType

_TYPES_BY_DESCRIPTOR_PREFIX = (
    ("AttributeViInt32", AttributeType.INT32),
    ("AttributeViInt64", AttributeType.INT64),
    ("AttributeViReal64", AttributeType.REAL64),
    ("AttributeViBoolean", AttributeType.BOOLEAN),
    ("AttributeViString", AttributeType.STRING),
)


def driver_catalog(
    session_class: type, described: Iterable[AttributeSpec], *, read_only: Iterable[int] = ()
) -> tuple[AttributeSpec, ...]:
    """Every attribute ``session_class`` declares, with ``described`` taking precedence.

    ``read_only`` lists the ids NI documents as read-only that no row describes (NI's Python
    client does not say which attributes are read-only).

    Raises:
        ValueError: a row of ``described`` names an id NI's client does not declare, or gives
            it another type (the row would be unreachable, or reached through the wrong RPC).
    """
    catalog: dict[int, AttributeSpec] = {}
    for klass in reversed(session_class.__mro__):
        for name, descriptor in vars(klass).items():
            spec = _spec(name, descriptor)
            if spec is not None:
                catalog[spec.attribute_id] = spec
    for attribute_id in read_only:
        catalog[attribute_id] = dataclasses.replace(catalog[attribute_id], writable=False)
    for row in described:
        declared = catalog.get(row.attribute_id)
        if declared is None or declared.type is not row.type:
            raise ValueError(
                f"{row.name} ({row.attribute_id}, {row.type.value}) does not match NI's client: "
                f"{declared}."
            )
        if row.allowed is None and declared.allowed is not None:
            row = dataclasses.replace(row, allowed=declared.allowed)
        catalog[row.attribute_id] = row
    return tuple(catalog.values())


def ids_by_name(catalog: Iterable[AttributeSpec]) -> dict[str, int]:
    """Attribute ids by the name NI's client gives them (``"voltage_level"``)."""
    return {spec.name: spec.attribute_id for spec in catalog}


def _spec(name: str, descriptor: object) -> AttributeSpec | None:
    """The default spec of one class member, or None if it is not an attribute descriptor."""
    attribute_id = getattr(descriptor, "_attribute_id", None)
    if not isinstance(attribute_id, int):
        return None
    enum_descriptor = getattr(descriptor, "_underlying_attribute_enum", descriptor)
    members = getattr(enum_descriptor, "_attribute_type", None)
    value_descriptor = getattr(enum_descriptor, "_underlying_attribute", enum_descriptor)
    type_name = type(value_descriptor).__name__
    kind = next(
        (kind for prefix, kind in _TYPES_BY_DESCRIPTOR_PREFIX if type_name.startswith(prefix)),
        None,
    )
    if kind is None:
        return None
    if isinstance(members, type) and issubclass(members, enum.Enum):
        values = [member.value for member in members]
        return AttributeSpec(
            attribute_id, name, kind, values[0], allowed=frozenset(int(v) for v in values)
        )
    return AttributeSpec(attribute_id, name, kind, _ZERO[kind])


_ZERO: dict[AttributeType, int | float | bool | str] = {
    AttributeType.INT32: 0,
    AttributeType.INT64: 0,
    AttributeType.REAL64: 0.0,
    AttributeType.BOOLEAN: False,
    AttributeType.STRING: "",
}
