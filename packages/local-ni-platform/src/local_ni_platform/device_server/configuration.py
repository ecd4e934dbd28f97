"""The byte format of ``Export/ImportAttributeConfigurationBuffer`` (and ``…File``).

NI's format is opaque and undocumented; what a client can rely on is the round trip: what a
session exports, a session of the same driver imports. So the simulator writes its own format:
UTF-8 JSON naming itself, its version, the driver, the model, and the writable attributes by
channel and id. Anything else (another driver's buffer, truncated or edited bytes) is refused with
IVI's invalid-value error. The ``…File`` variants read and write these bytes on the server's
machine, as NI's server does with the path a client sends.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from local_ni_platform.device_server.attributes import AttributeValue
from local_ni_platform.device_server.errors import INVALID_VALUE, DriverError

FORMAT = "local-ni-platform simulated attribute configuration"
VERSION = 2


ChannelValues = Mapping[str, Mapping[int, AttributeValue]]
"""Channel name ("" for a driver without channels) → attribute id → value."""


def encode_configuration(driver: str, model: str, values: ChannelValues) -> bytes:
    """The exported bytes of ``values`` of a ``driver`` session of ``model``."""
    document = {
        "format": FORMAT,
        "version": VERSION,
        "driver": driver,
        "model": model,
        "channels": {
            channel: {str(attribute_id): value for attribute_id, value in by_id.items()}
            for channel, by_id in values.items()
        },
    }
    return json.dumps(document, sort_keys=True, indent=1).encode("utf-8")


def decode_configuration(blob: bytes, driver: str) -> dict[str, dict[int, AttributeValue]]:
    """Channel → attribute id → value, from bytes :func:`encode_configuration` made for ``driver``.

    Raises:
        DriverError: not such bytes (-1074135024, invalid value).
    """
    try:
        document = json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise _foreign(f"not readable ({error})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _foreign("not a simulated driver's configuration")
    if document.get("version") != VERSION:
        raise _foreign(f"of unsupported version {document.get('version')!r}")
    if document.get("driver") != driver:
        raise _foreign(f"for {document.get('driver')!r}, not {driver}")
    channels = document.get("channels")
    if not isinstance(channels, dict):
        raise _foreign("without channels")
    values: dict[str, dict[int, AttributeValue]] = {}
    for channel, attributes in channels.items():
        if not isinstance(attributes, dict):
            raise _foreign(f"channel {channel!r} without attributes")
        values[channel] = {}
        for key, value in attributes.items():
            if not key.isdigit() or not isinstance(value, (int, float, bool, str)):
                raise _foreign(f"entry {key!r}: {value!r}")
            values[channel][int(key)] = value
    return values


def read_configuration_file(path: str) -> bytes:
    """The bytes of the file at ``path`` (on the server's machine, as with NI's server).

    Raises:
        DriverError: the file cannot be read (invalid value).
    """
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise DriverError(INVALID_VALUE, f"Cannot read {path!r}: {error}") from None


def write_configuration_file(path: str, blob: bytes) -> None:
    """Write ``blob`` to the file at ``path`` (on the server's machine).

    Raises:
        DriverError: the file cannot be written (invalid value).
    """
    try:
        Path(path).write_bytes(blob)
    except OSError as error:
        raise DriverError(INVALID_VALUE, f"Cannot write {path!r}: {error}") from None


def _foreign(reason: str) -> DriverError:
    return DriverError(INVALID_VALUE, f"The attribute configuration is {reason}.")
