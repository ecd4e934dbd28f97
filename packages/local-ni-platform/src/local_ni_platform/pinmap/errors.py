"""Errors of the local Pin Map Service, free of gRPC types.

Each servicer maps these classes onto the status codes its own proto documents: for example an
unknown site is NOT_FOUND for Pin Map's QueryResourceAccessInformation but INVALID_ARGUMENT for
Session Management's ReserveSessions.
"""

from __future__ import annotations


class PinMapError(Exception):
    """Base class of pin-map request errors; the message is sent to the client."""


class InvalidPinMapError(PinMapError, ValueError):
    """The pin-map XML is malformed or inconsistent, or uses an element we do not support."""


class InvalidPinMapIdError(PinMapError, ValueError):
    """A pin map id is empty (or, for CreatePinMapFromXml, contains whitespace)."""


class PinMapNotFoundError(PinMapError, LookupError):
    """No pin map is registered under the requested id."""


class PinMapAlreadyExistsError(PinMapError):
    """CreatePinMapFromXml was asked to register an id that is already registered."""


class UnknownPinOrRelayError(PinMapError, ValueError):
    """A requested pin, relay or group name is empty or not defined in the pin map."""


class UnknownSiteError(PinMapError, ValueError):
    """A requested site number is not defined in the pin map."""
