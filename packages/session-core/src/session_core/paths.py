"""Resource names that are file paths: one normalisation for every service and client.

Server side (:func:`normalize_path`, :func:`path_key`): paths are absolute, ``..`` collapsed,
symlinks resolved and case folded on Windows, so two spellings of one file share one session. A
relative path is refused: a server never resolves it against its own working directory.

Client side (:func:`resolve_local_path`): ``~`` and environment variables are expanded and a
relative path is resolved against the *client's* working directory before it is sent.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from session_core.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    PermissionDeniedError,
    excerpt,
)

ALLOW_DIR_OPTION = "--allow-dir"
MAX_PATH_CHARS = 4096
"""The longest resource name taken (Linux's PATH_MAX); longer ones are refused before any work."""
MAX_NAME_BYTES = 255
"""The longest file or folder name, in UTF-8 bytes (NAME_MAX of Linux's, macOS's, NTFS's)."""


def _one_of(suffixes: Sequence[str]) -> str:
    return ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}" if len(suffixes) > 1 else suffixes[0]


def normalize_path(resource_name: str, *, suffixes: Sequence[str], kind: str) -> Path:
    """Turn a requested resource name into an absolute path whose name ends with ``suffixes``.

    ``kind`` names the resource in messages ("log file", "results database").
    """
    if not resource_name.strip():
        raise InvalidArgumentError(
            f"resource_name is empty; send the absolute path of a {_one_of(suffixes)} file"
        )
    if "\0" in resource_name:
        raise InvalidArgumentError("resource_name contains a NUL character")
    check_length(resource_name)
    requested = Path(resource_name)
    if not requested.is_absolute():
        raise InvalidArgumentError(
            f"resource_name '{excerpt(resource_name)}' is not an absolute path; send an absolute "
            "path (the server does not resolve relative paths against its own working directory; "
            "the client library resolves them against the client's working directory)"
        )
    check_suffix(requested, resource_name, suffixes=suffixes, kind=kind)
    try:
        resolved = requested.resolve()
    except (OSError, RuntimeError) as error:
        raise InvalidArgumentError(f"cannot resolve '{excerpt(resource_name)}': {error}") from None
    check_suffix(resolved, resource_name, suffixes=suffixes, kind=kind)
    return resolved


def check_length(resource_name: str) -> None:
    """Refuse, before any other work, a path longer than any file system takes."""
    if len(resource_name) > MAX_PATH_CHARS:
        raise InvalidArgumentError(
            f"resource_name has {len(resource_name)} characters; a path has at most "
            f"{MAX_PATH_CHARS}: '{excerpt(resource_name)}'"
        )
    for part in resource_name.replace("\\", "/").split("/"):
        size = len(part.encode("utf-8", "surrogatepass"))
        if size > MAX_NAME_BYTES:
            raise InvalidArgumentError(
                f"a file or folder name in resource_name has {size} bytes; at most "
                f"{MAX_NAME_BYTES} are allowed: '{excerpt(part)}'"
            )


def check_suffix(path: Path, requested: str, *, suffixes: Sequence[str], kind: str) -> None:
    """Refuse a file name that does not end with one of ``suffixes`` (any case)."""
    if path.suffix.lower() not in suffixes:
        raise InvalidArgumentError(
            f"'{excerpt(requested)}' is not a {kind} this service writes: the file name must end "
            f"with {', '.join(suffixes)} (any case), got '{excerpt(path.name)}'"
        )


def check_file_location(path: Path, *, kind: str) -> None:
    """Before opening or creating ``path``: refuse a directory, and a file whose folder is missing
    (the service never creates folders).
    """
    if path.is_dir():
        raise InvalidArgumentError(f"'{path}' is a directory, not a {kind}")
    if not path.parent.is_dir():
        raise FailedPreconditionError(
            f"the directory '{path.parent}' does not exist; create it before opening '{path.name}'"
        )


def allowed_folders(folders: Iterable[str | os.PathLike[str]]) -> tuple[Path, ...]:
    """The folders given with ``--allow-dir``, absolute and resolved (``..`` and symlinks)."""
    return tuple(Path(os.path.abspath(os.fspath(folder))).resolve() for folder in folders)


def check_allowed(path: Path, allowed: Sequence[Path], *, kind: str) -> None:
    """Refuse a normalised ``path`` outside every ``allowed`` folder (no folders: anywhere).

    ``path`` is resolved already (:func:`normalize_path`), so neither ``..`` nor a symbolic link
    can lead out of an allowed folder.
    """
    if not allowed:
        return
    key = path_key(path)
    for folder in allowed:
        inside = path_key(folder).rstrip(os.sep) + os.sep
        if key.startswith(inside):
            return
    raise PermissionDeniedError(
        f"'{path}' is outside the folders this service may open a {kind} in "
        f"({', '.join(str(folder) for folder in allowed)}; set with {ALLOW_DIR_OPTION})"
    )


def path_key(path: Path) -> str:
    """The registry key of a normalised path: one key per file, whatever its spelling."""
    return os.path.normcase(str(path))


def resolve_local_path(resource_name: str | os.PathLike[str]) -> str:
    """The absolute path a client sends: ``~`` and variables expanded, relative to this process."""
    expanded = os.path.expandvars(os.path.expanduser(os.fspath(resource_name)))
    return os.path.abspath(expanded) if expanded.strip() else expanded
