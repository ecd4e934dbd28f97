"""The resource: an NDJSON (JSON-lines) log file, opened for appending whole lines.

- Paths are normalised (absolute, ``..`` collapsed, symlinks resolved, case folded on Windows) so
  two spellings of one file share one session. Relative paths are refused: the server never
  resolves them against its own working directory.
- Opening validates only the tail of an existing file (its last line), never the whole file.
- A torn last line (a write cut short by a crash: no newline, not a JSON object, after a line
  that is one) was never acknowledged. Opening recovers the file: the torn bytes are moved into
  ``<log name>.torn-tail-<UTC time>`` beside the log, the log is cut back to its last whole line,
  and a warning names both. Nothing is dropped silently, and no file that is not a log is touched.
- No record longer than :data:`MAX_RECORD_BYTES_LIMIT` is ever written, so every line the service
  writes is one it can read back when it reopens the file.
- Each append is one ``write`` of whole lines on an ``O_APPEND`` descriptor; if the OS fails part
  way, the file is truncated back to where it was, so a record is a whole line or absent.
- A batch of several lines is all or nothing even when the service is killed while writing it
  (Linux cuts a large write short on SIGKILL, leaving whole lines of an unacknowledged batch):
  before the write, ``<log name>.batch-in-progress`` records where the batch starts and how long
  it is (one 42-byte line, ``<offset> <length>``); after it, the length is set to 0. Opening a log
  whose journal names a batch that did not reach its length moves the batch's bytes aside (as a
  torn tail) and cuts the log back to where the batch began. The journal is removed on close.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from session_core import descriptors, paths
from session_core.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    from_os_error,
)

_logger = logging.getLogger(__name__)

ALLOWED_SUFFIXES = (".ndjson", ".log", ".txt")
TAIL_BLOCK_SIZE = 64 * 1024
MAX_LAST_LINE_SIZE = 16 * 1024 * 1024
"""The longest last line the tail check reads; a longer one is refused."""
MAX_RECORD_BYTES_LIMIT = MAX_LAST_LINE_SIZE
"""The highest ``--max-record-bytes`` allowed: a longer line could not be reopened."""
DEFAULT_MAX_RECORD_BYTES = 1024 * 1024
"""One encoded record (one line) at most, by default: far above a measurement's configurations and
outputs, far below what would hurt the service or a reader of the file."""
TORN_TAIL_MARKER = ".torn-tail-"
BATCH_JOURNAL_SUFFIX = ".batch-in-progress"
_JOURNAL_ENTRY = "{offset:020d} {length:020d}\n"

_OPEN_FLAGS = (
    os.O_WRONLY
    | os.O_APPEND
    | os.O_CREAT
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO must not block the open; refused just after
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def normalize_path(resource_name: str) -> Path:
    """Turn a requested resource name into the absolute path of the log file."""
    return paths.normalize_path(resource_name, suffixes=ALLOWED_SUFFIXES, kind="log file")


session_key = paths.path_key


def format_record(
    *,
    timestamp: datetime,
    measurement_name: str,
    measurement_configurations: Mapping[str, str],
    measurement_outputs: Mapping[str, str],
    session_id: str,
) -> bytes:
    """One record as one JSON line, with the keys existing log readers expect first.

    ``ensure_ascii`` escapes every non-ASCII character, so no Unicode line separator can split a
    record for readers that split lines on more than the newline character.
    """
    record = {
        "timestamp": timestamp.isoformat(timespec="microseconds"),
        "measurement_name": measurement_name,
        "measurement_configurations": dict(measurement_configurations),
        "measurement_outputs": dict(measurement_outputs),
        "session_id": session_id,
    }
    return (json.dumps(record) + "\n").encode("ascii")


class NdjsonLog:
    """An open log file. Not thread-safe on its own: the session lock serialises callers."""

    def __init__(self, path: Path, descriptor: int, *, needs_newline: bool, fsync: bool) -> None:
        self.path = path
        self.records_written = 0
        self._descriptor = descriptor
        self._needs_newline = needs_newline
        self._fsync = fsync
        self._journal = -1
        """The batch journal's descriptor, opened at the first batch of several lines."""

    @classmethod
    def open(cls, path: Path, *, fsync: bool = False) -> NdjsonLog:
        """Open ``path`` for appending, creating it if needed, after checking it is NDJSON."""
        descriptors.check_reserve("log file")
        paths.check_file_location(path, kind="log file")
        try:
            descriptor = os.open(path, _OPEN_FLAGS, 0o666)
        except IsADirectoryError:
            raise InvalidArgumentError(f"'{path}' is a directory, not a log file") from None
        except FileNotFoundError:
            raise FailedPreconditionError(f"the directory '{path.parent}' does not exist") from None
        except OSError as error:
            if error.errno == errno.ENXIO:
                raise InvalidArgumentError(f"'{path}' is not a regular file") from None
            raise from_os_error(error, f"open '{path}' for appending") from None
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                raise InvalidArgumentError(f"'{path}' is not a regular file")
            size = _recover_cut_batch(path, descriptor, status.st_size, fsync=fsync)
            tail = _inspect_tail(path, size)
            if tail.torn:
                _recover_torn_tail(path, descriptor, tail.torn, size=size, fsync=fsync)
            needs_newline = tail.needs_newline
            if fsync:
                _fsync_directory(path.parent)
        except BaseException:
            os.close(descriptor)
            raise
        return cls(path, descriptor, needs_newline=needs_newline, fsync=fsync)

    def append(self, lines: Sequence[bytes]) -> None:
        """Append whole lines (each ending with a newline) in one write: all or nothing."""
        if not lines:
            return
        data = b"".join(lines)
        if self._needs_newline:
            data = b"\n" + data
        size_before = os.fstat(self._descriptor).st_size
        journaled = len(lines) > 1
        try:
            if journaled:
                self._journal_batch(size_before, len(data))
            view = memoryview(data)
            while view:
                written = os.write(self._descriptor, view)
                view = view[written:]
            if self._fsync:
                os.fsync(self._descriptor)
            if journaled:
                self._journal_batch(size_before + len(data), 0)
        except OSError as error:
            self._roll_back(size_before)
            raise from_os_error(error, f"append to '{self.path}'") from None
        self._needs_newline = False
        self.records_written += len(lines)

    def close(self) -> None:
        """Close the file (every write already went to the OS; fsync'ed in --fsync mode)."""
        descriptor, self._descriptor = self._descriptor, -1
        if descriptor >= 0:
            os.close(descriptor)
        journal, self._journal = self._journal, -1
        if journal >= 0:
            os.close(journal)
            _journal_path(self.path).unlink(missing_ok=True)

    def _journal_batch(self, offset: int, length: int) -> None:
        """Say where the batch being written starts and how long it is (0: none in progress)."""
        if self._journal < 0:
            flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
            self._journal = os.open(_journal_path(self.path), flags, 0o666)
        entry = _JOURNAL_ENTRY.format(offset=offset, length=length).encode("ascii")
        if hasattr(os, "pwrite"):
            os.pwrite(self._journal, entry, 0)
        else:  # Windows
            os.lseek(self._journal, 0, os.SEEK_SET)
            os.write(self._journal, entry)
        if self._fsync and length:
            os.fsync(self._journal)

    def _roll_back(self, size: int) -> None:
        try:
            os.ftruncate(self._descriptor, size)
        except OSError:
            _logger.exception("Could not remove a partial record from %s.", self.path)


@dataclass(frozen=True)
class _Tail:
    needs_newline: bool
    """The file ends in a whole record without its newline: the next append adds one first."""
    torn: bytes = b""
    """A torn last line (everything after the last newline), when there is one."""


def _inspect_tail(path: Path, size: int) -> _Tail:
    """Check the end of an existing file: a JSON object as last line, or a torn last line after one.

    Reads backwards from the end only as far as the start of the line before the last one.
    """
    if size == 0:
        return _Tail(needs_newline=False)
    try:
        with path.open("rb") as file:
            tail = b""
            position = size
            while position > 0:
                start = max(0, position - TAIL_BLOCK_SIZE)
                file.seek(start)
                tail = file.read(position - start) + tail
                position = start
                if tail.rstrip(b"\r\n").count(b"\n") >= 2 or size - position > MAX_LAST_LINE_SIZE:
                    break
    except OSError as error:
        raise from_os_error(error, f"read '{path}' to check it is NDJSON") from None
    body = tail.rstrip(b"\r\n \t")
    if not body:
        return _Tail(needs_newline=not tail.endswith(b"\n"))
    lines = body.split(b"\n")
    if position > 0 and len(lines) < 2:
        raise InvalidArgumentError(
            f"'{path}' is not an NDJSON log: its last line is longer than "
            f"{MAX_LAST_LINE_SIZE} bytes"
        )
    if _is_json_object(lines[-1]):
        return _Tail(needs_newline=not tail.endswith(b"\n"))
    # A torn line: a prefix of a record (starts with "{", no newline yet), after a whole record
    # or at the very start of the file.
    before_is_record = _is_json_object(lines[-2]) if len(lines) >= 2 else position == 0
    if not tail.endswith(b"\n") and lines[-1].lstrip().startswith(b"{") and before_is_record:
        return _Tail(needs_newline=False, torn=tail.rsplit(b"\n", 1)[-1])
    raise InvalidArgumentError(
        f"'{path}' exists but is not an NDJSON log: its last line is not a JSON object; "
        "choose another file name or move this file away"
    )


def _is_json_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line.decode("utf-8")), dict)
    except (UnicodeDecodeError, ValueError):
        return False


def _recover_torn_tail(
    path: Path,
    descriptor: int,
    torn: bytes,
    *,
    size: int,
    fsync: bool,
    what: str = "a torn line",
) -> None:
    """Move ``torn``, the last bytes of the ``size`` bytes of the log, into a file beside it, then
    cut them off.

    The copy is complete (and durable with ``fsync``) before the log is truncated, so a crash
    during recovery loses nothing: the next open finds the torn line again.
    """
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    aside = path.with_name(f"{path.name}{TORN_TAIL_MARKER}{stamp}")
    try:
        with aside.open("xb") as copy:
            copy.write(torn)
            if fsync:
                copy.flush()
                os.fsync(copy.fileno())
        if fsync:
            _fsync_directory(path.parent)
        os.ftruncate(descriptor, size - len(torn))
        if fsync:
            os.fsync(descriptor)
    except OSError as error:
        raise from_os_error(error, f"recover the torn last line of '{path}'") from None
    _logger.warning(
        "%s ended in %s (%d bytes, never acknowledged: the service stopped while writing it); "
        "moved it to %s and cut the log back to where it began.",
        path,
        what,
        len(torn),
        aside,
    )


def _journal_path(path: Path) -> Path:
    return path.with_name(f"{path.name}{BATCH_JOURNAL_SUFFIX}")


def _recover_cut_batch(path: Path, descriptor: int, size: int, *, fsync: bool) -> int:
    """Cut back a batch the journal says was not written whole; return the log's size after."""
    journal = _journal_path(path)
    try:
        entry = journal.read_bytes()
    except FileNotFoundError:
        return size
    except OSError as error:
        raise from_os_error(error, f"read '{journal}'") from None
    try:
        offset, length = (int(field) for field in entry.split())
    except ValueError:
        offset, length = size, 0  # a journal cut while being created: no batch had started
    if length and offset < size < offset + length:
        with path.open("rb") as log:
            log.seek(offset)
            cut = log.read(size - offset)
        _recover_torn_tail(
            path, descriptor, cut, size=size, fsync=fsync, what="a batch written only in part"
        )
        size = offset
    journal.unlink(missing_ok=True)
    return size


def _fsync_directory(directory: Path) -> None:
    """Make a newly created file's directory entry durable (POSIX only)."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
