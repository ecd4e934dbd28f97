"""Service versions: which strings a registration may carry and how "latest" is decided.

NI's protocol wants one ``major.minor.patch`` version per registration, treats a service
registered without one as ``0.0.1``, and resolves an empty requested version to the latest. Versions
compare numerically (``1.10.0`` is newer than ``1.9.0``). A fourth component (``.revision``, as in
NI's ``ServiceInfo`` docs) is accepted too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from local_ni_platform.discovery.errors import InvalidRequestError

UNVERSIONED = "0.0.1"
"""The version NI uses internally for a service registered without one."""

VersionKey = tuple[int, int, int, int]

_VERSION_PATTERN = re.compile(r"[0-9]+(\.[0-9]+){0,3}")


def parse_version(version: str) -> VersionKey | None:
    """Return the numeric sort key of ``version``, or None if it is not dotted numbers."""
    if not _VERSION_PATTERN.fullmatch(version):
        return None
    parts = [int(part) for part in version.split(".")]
    parts += [0] * (4 - len(parts))
    return (parts[0], parts[1], parts[2], parts[3])


def registered_version(versions: Sequence[str]) -> str:
    """Return the one version a registration carries, or "" when it has none.

    NI's SDK sends ``[""]`` for a service whose .serviceconfig has no version, so empty entries
    count as no version.

    Raises:
        InvalidRequestError: several versions, or a malformed one.
    """
    given = [version.strip() for version in versions if version.strip()]
    if not given:
        return ""
    if len(given) > 1:
        raise InvalidRequestError(
            f"service_description.versions must hold a single version, got {given!r}"
        )
    version = given[0]
    if parse_version(version) is None:
        raise InvalidRequestError(
            f"service_description.versions: {version!r} is not a major.minor.patch version"
        )
    return version


def version_key(version: str) -> VersionKey:
    """Sort key of a registered version ("" sorts as the internal ``0.0.1``)."""
    key = parse_version(version or UNVERSIONED)
    if key is None:
        raise ValueError(f"{version!r} is not a registered version")
    return key
