r"""The pin maps of the session-sharing examples: NI instruments, a log file, a database, a lock
and a device connection.

:data:`PIN_MAP_PATH` (``SessionSharing.pinmap``) declares:

- ``DCPower1``: NI-DCPower, 4 channels in one channel group; pin ``DCPowerPin`` on channel 0;
- ``DMM1``: NI-DMM; pin ``DMMPin``;
- the log file as a custom instrument of type ``JsonLoggerService`` with one channel ``0``;
  system pin ``LoggerPin``;
- the results database as a custom instrument of type ``ResultsDatabaseService`` (its name is an
  SQLite file's path, ``~/session_sharing_results.db``, or a ``postgresql://`` URL); system pin
  ``ResultsPin``;
- one site, 0.

**The log path rule.** The logger instrument's *name* is the log file's path. The Session
Management Service hands that name to every client unchanged (as the session's resource name),
and each client expands ``~`` and environment variables and resolves a relative path on the
*client* side (:func:`logger_client.resolve_resource_name`) before the JSON Logger Service sees
it; the service itself only accepts absolute paths. So the committed default,
``~/session_sharing_log.ndjson``, is the file ``session_sharing_log.ndjson`` in the home folder of
the user running the plug-ins (``%USERPROFILE%`` on Windows) on every machine, and nothing writes
into the service's own folder. To choose another file, edit the name in the pin map (in a text
editor or NI's Pin Map Editor) to an absolute path (``C:\Logs\run.ndjson``), a path under ``~``,
or one with environment variables (``$HOME/logs/run.ndjson``, ``%TEMP%\run.ndjson``). The name
must end with ``.ndjson``, ``.log`` or ``.txt``, and its folder must exist: the service refuses
anything else with a message naming the file. Keep a relative name out of the pin map: it would
resolve against each client's working directory.

``LoggerPin`` is a *system pin*: one log file serves every site, and a system pin is reserved with
any site list, so ``PinMapContext(sites=[0])`` (InstrumentStudio) and a TestStand Setup step that
reserves every pin of every site both get the one logger session.

:func:`render_pin_map` writes a copy of the committed pin map that names another log file and
database (tests, the demo and notebooks use it to keep their files in a scratch folder). The
database follows the log path rule too, with the suffixes ``.db``, ``.sqlite`` or ``.sqlite3``.
"""

from __future__ import annotations

import os
from pathlib import Path
from xml.dom import minidom

from connection_client import INSTRUMENT_CONNECTION_INSTRUMENT_TYPE
from logger_client import JSON_LOGGER_INSTRUMENT_TYPE, resolve_resource_name
from results_client import RESULTS_DATABASE_INSTRUMENT_TYPE

PIN_MAP_PATH = Path(__file__).resolve().parent / "SessionSharing.pinmap"
"""The committed pin map."""

TWO_SOCKETS_PIN_MAP_PATH = PIN_MAP_PATH.with_name("TwoSockets.pinmap")
"""The pin map of two test sockets (sites 0 and 1) that share one DMM under a hardware lock: the
same instruments, the DMM pin on both sites, and the lock ``Shared DMM`` (a ``HardwareLockService``
custom instrument) on the system pin ``LockPin``."""

DUT_SUPPLY_PIN_MAP_PATH = PIN_MAP_PATH.with_name("DutSupply.pinmap")
"""The pin map of a DUT whose supply is set over its control connection and measured by the DMM:
``DMM1`` on ``DMMPin``, the log file on ``LoggerPin`` and the device (an
``InstrumentConnectionService`` custom instrument named by its VISA resource string, by default
the simulated instrument's ``TCPIP0::127.0.0.1::5025::SOCKET``) on ``DutPin``, site 0."""

DEFAULT_DEVICE_RESOURCE_NAME = "TCPIP0::127.0.0.1::5025::SOCKET"
"""The device instrument's name in the committed DUT supply pin map."""

DEFAULT_LOG_RESOURCE_NAME = "~/session_sharing_log.ndjson"
"""The logger instrument's name in the committed pin map."""

DEFAULT_DATABASE_RESOURCE_NAME = "~/session_sharing_results.db"
"""The results database instrument's name in the committed pin map."""

DCPOWER_PIN = "DCPowerPin"
DMM_PIN = "DMMPin"
LOGGER_PIN = "LoggerPin"
RESULTS_PIN = "ResultsPin"
LOCK_PIN = "LockPin"
DUT_PIN = "DutPin"

_BOM = b"\xef\xbb\xbf"
_CONNECTION_ELEMENTS = ("Connection", "SystemConnection")


class PinMapError(ValueError):
    """The pin map does not declare exactly one instrument of a custom type it needs."""


def log_resource_name(pin_map_path: str | os.PathLike[str] = PIN_MAP_PATH) -> str:
    """The logger instrument's name (the log path as written) in a pin map."""
    document = minidom.parse(os.fspath(pin_map_path))
    try:
        return _custom_instrument(document, pin_map_path).getAttribute("name")
    finally:
        document.unlink()


def log_file_path(pin_map_path: str | os.PathLike[str] = PIN_MAP_PATH) -> Path:
    """The absolute log file a client in this process writes to for this pin map."""
    return Path(resolve_resource_name(log_resource_name(pin_map_path)))


def render_pin_map(
    log_path: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    *,
    database: str | os.PathLike[str] | None = None,
    device: str | None = None,
    source: str | os.PathLike[str] = PIN_MAP_PATH,
) -> Path:
    """Write ``source`` (default: the committed pin map) to ``destination``, naming the logger
    instrument ``log_path``, the results database instrument ``database`` and the device
    connection ``device`` (a VISA resource string; default: as in ``source``); return the
    destination.

    ``database`` defaults to the log path with the suffix ``.db`` (``run.ndjson`` → ``run.db``),
    so a scratch log gets a scratch database beside it; a source without a results database
    instrument is left without one. The instruments' ``name`` and the ``instrument`` attribute of
    every connection that referred to them are changed; nothing else. Names are written as given
    (normally absolute; ``~`` and environment variables are kept for the clients to expand).

    Raises:
        PinMapError: ``source`` does not declare exactly one ``JsonLoggerService`` instrument,
            or ``device`` is given and it does not declare exactly one device connection.
        ValueError: ``log_path``, ``database`` or ``device`` is empty.
    """
    names = {JSON_LOGGER_INSTRUMENT_TYPE: os.fspath(log_path)}
    if not names[JSON_LOGGER_INSTRUMENT_TYPE].strip():
        raise ValueError("the log path must not be empty")
    database_name = (
        os.fspath(database) if database is not None else str(Path(log_path).with_suffix(".db"))
    )
    if not database_name.strip():
        raise ValueError("the database name must not be empty")
    if device is not None and not device.strip():
        raise ValueError("the device's resource string must not be empty")
    document = minidom.parse(os.fspath(source))
    try:
        _custom_instrument(document, source)  # exactly one logger instrument
        if _instruments(document, RESULTS_DATABASE_INSTRUMENT_TYPE):
            _custom_instrument(document, source, RESULTS_DATABASE_INSTRUMENT_TYPE)
            names[RESULTS_DATABASE_INSTRUMENT_TYPE] = database_name
        if device is not None:
            names[INSTRUMENT_CONNECTION_INSTRUMENT_TYPE] = device
        for type_id, name in names.items():
            _rename(document, _custom_instrument(document, source, type_id), name)
        # minidom writes the declaration and the root element on one line; NI's files do not.
        xml = document.toxml(encoding="utf-8").replace(b"?><", b"?>\n<", 1)
    finally:
        document.unlink()
    target = Path(destination)
    target.write_bytes(_BOM + xml + b"\n")
    return target


def _rename(document: minidom.Document, instrument: minidom.Element, name: str) -> None:
    old_name = instrument.getAttribute("name")
    instrument.setAttribute("name", name)
    for tag in _CONNECTION_ELEMENTS:
        for connection in document.getElementsByTagName(tag):
            if connection.getAttribute("instrument") == old_name:
                connection.setAttribute("instrument", name)


def _instruments(document: minidom.Document, type_id: str) -> list[minidom.Element]:
    return [
        element
        for element in document.getElementsByTagName("Instrument")
        if element.getAttribute("instrumentTypeId") == type_id
    ]


def _custom_instrument(
    document: minidom.Document,
    path: str | os.PathLike[str],
    type_id: str = JSON_LOGGER_INSTRUMENT_TYPE,
) -> minidom.Element:
    instruments = _instruments(document, type_id)
    if len(instruments) != 1:
        raise PinMapError(
            f"{os.fspath(path)} declares {len(instruments)} instruments of type "
            f"{type_id!r}; exactly one is needed"
        )
    return instruments[0]
