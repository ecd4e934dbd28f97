"""``SessionClient``: the client side every session service shares, used as a context manager.

Entering the context initializes (creates or attaches to) the server session of one resource as
NI's ``SessionInitializationBehavior`` says; leaving it closes the server session exactly when that
behaviour says so (:func:`session_core.behaviors.closes_on_exit`), and always closes the client's
own channel. A subclass names its service and sends its own initialize and close calls.

A failed call raises a typed :class:`session_core.client_errors.SessionClientError` (still a
``grpc.RpcError``): :class:`~session_core.client_errors.ServiceUnreachableError` or
:class:`~session_core.client_errors.ResourceRefusedError` when opening, and
:class:`~session_core.client_errors.SessionCallError` for a call on the open session.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import os
import threading
import weakref
from collections.abc import Iterator
from types import TracebackType
from typing import Any, ClassVar, Generic, TypeVar

import grpc
from ni.measurementlink.discovery.v1.client import DiscoveryClient
from ni.measurementlink.sessionmanagement.v1.client import SessionInitializationBehavior
from ni_grpc_extensions.channelpool import GrpcChannelPool

from session_core.behaviors import InitializationBehavior, closes_on_exit, server_behavior
from session_core.client_errors import (
    ServiceNotFoundError,
    SessionCallError,
    SessionClientError,
    opening_error,
)
from session_core.paths import resolve_local_path

_logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 10.0

StubT = TypeVar("StubT")
SelfT = TypeVar("SelfT", bound="SessionClient[Any]")


class SessionClient(abc.ABC, Generic[StubT]):
    """A client session of one resource on a session service."""

    PROVIDED_INTERFACE: ClassVar[str]
    SERVICE_CLASS: ClassVar[str]
    SERVICE_DISPLAY_NAME: ClassVar[str]
    SERVICE_MODULE: ClassVar[str]
    """``python -m <module>`` starts the service (named in error messages)."""
    RESOURCE_KIND: ClassVar[str] = "resource"
    """What the resource is, in error messages: "log file", "results database"."""
    INSTRUMENT_TYPE_ID: ClassVar[str] = ""
    """The ``instrumentTypeId`` of the resource's custom instrument in a pin map (if it has one)."""
    NOT_FOUND_ERROR: ClassVar[type[ServiceNotFoundError]] = ServiceNotFoundError

    def __init__(
        self,
        resource_name: str | os.PathLike[str],
        *,
        initialization_behavior: SessionInitializationBehavior = SessionInitializationBehavior.AUTO,
        address: str | None = None,
        discovery_client: DiscoveryClient | None = None,
        grpc_channel_pool: GrpcChannelPool | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        """Describe the session; nothing is sent until the context is entered.

        Args:
            resource_name: The resource; see :meth:`resolve_resource_name`.
            initialization_behavior: One of NI's five behaviours.
            address: ``host:port`` of the service; when omitted it is resolved through the NI
                Discovery Service on first use.
            discovery_client: The discovery client to resolve with (default: a new one). A shared
                one (a plug-in's ``measurement_service.discovery_client``) also remembers what
                it resolved, so the clients of later steps skip the look-up; a service no longer
                at that address (UNAVAILABLE) is looked up again, once.
            grpc_channel_pool: Where to take the channel from, and leave it open for the next
                client (a plug-in's ``measurement_service.channel_pool``, as NI's own session
                constructors use it); default: a channel of this client's own, closed on exit.
            timeout: Deadline in seconds of each call.
        """
        self.resource_name = self.resolve_resource_name(resource_name)
        self.initialization_behavior = SessionInitializationBehavior(initialization_behavior)
        self._server_behavior = server_behavior(self.initialization_behavior)
        self._address = address
        self._discovery_client = discovery_client
        self._channel_pool = grpc_channel_pool
        self._looked_up_earlier = False
        """The address came from an earlier client's look-up (see _remembered_location)."""
        self._timeout = timeout
        self._channel: grpc.Channel | None = None
        self._stub: StubT | None = None
        self.session_id = ""
        self.new_session_initialized = False
        self._open = False

    # -- what a subclass provides ------------------------------------------------------------

    @staticmethod
    def resolve_resource_name(resource_name: str | os.PathLike[str]) -> str:
        """What is sent: by default a file path, made absolute on this machine
        (:func:`session_core.paths.resolve_local_path`).
        """
        return resolve_local_path(resource_name)

    @abc.abstractmethod
    def _create_stub(self, channel: grpc.Channel) -> StubT:
        """The service's stub on ``channel``."""

    @abc.abstractmethod
    def _initialize_session(
        self, stub: StubT, behavior: InitializationBehavior
    ) -> tuple[str, bool]:
        """Send the initialize call; return the session id and whether the session is new."""

    @abc.abstractmethod
    def _close_session(self, stub: StubT) -> None:
        """Send the close call for :attr:`session_id`."""

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self: SelfT) -> SelfT:
        try:
            self.initialize()
        except BaseException:
            self._close_channel()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        failed = exc is not None
        try:
            if self._open and closes_on_exit(
                self.initialization_behavior, created=self.new_session_initialized, failed=failed
            ):
                try:
                    self.close_session()
                except grpc.RpcError:
                    if not failed:
                        raise
                    _logger.warning(
                        "Could not close session %s of %s while handling another error.",
                        self.session_id,
                        self.resource_name,
                        exc_info=True,
                    )
            elif self._open:
                _logger.debug("Leaving session %s open (detached).", self.session_id)
        finally:
            self._close_channel()

    def initialize(self) -> None:
        """Create or attach to the server session (once; entering the context calls this)."""
        if self._open:
            return
        try:
            try:
                self.session_id, self.new_session_initialized = self._initialize_session(
                    self._get_stub(), self._server_behavior
                )
            except grpc.RpcError as error:
                if error.code() is not grpc.StatusCode.UNAVAILABLE or not self._looked_up_earlier:
                    raise
                # the address a look-up of an earlier client gave is gone (the service
                # restarted elsewhere): look it up again, once
                _forget_location(
                    self._discovery_client, self.PROVIDED_INTERFACE, self.SERVICE_CLASS
                )
                self._address, self._looked_up_earlier = None, False
                self._close_channel()
                self.session_id, self.new_session_initialized = self._initialize_session(
                    self._get_stub(), self._server_behavior
                )
        except grpc.RpcError as error:
            raise opening_error(self, error) from error
        self._open = True
        _logger.debug(
            "%s session %s of %s.",
            "Created" if self.new_session_initialized else "Attached to",
            self.session_id,
            self.resource_name,
        )

    def close_session(self) -> None:
        """Close the server session now, whatever the behaviour (other clients lose it too)."""
        self._require_open()
        with self._calling(f"close the {self.RESOURCE_KIND}"):
            self._close_session(self._get_stub())
        self._open = False

    @property
    def is_open(self) -> bool:
        """Whether this client holds an initialized, not yet closed session."""
        return self._open

    @contextlib.contextmanager
    def _calling(self, action: str) -> Iterator[None]:
        """A failed call on the open session becomes a :class:`SessionCallError` naming
        ``action`` ("write the measurement record to"), followed by the resource's name.
        """
        try:
            yield
        except SessionClientError:
            raise
        except grpc.RpcError as error:
            raise SessionCallError(self, action, error) from error

    # -- connection ------------------------------------------------------------------------

    def _require_open(self) -> None:
        if not self._open:
            raise RuntimeError(
                f"the {self.SERVICE_DISPLAY_NAME} session is not open: use the client in a "
                "`with` block (or call initialize()) first"
            )

    def _get_stub(self) -> StubT:
        if self._stub is None:
            if self._channel_pool is not None:  # shared: the pool closes it
                self._stub = self._create_stub(
                    self._channel_pool.get_channel(self._resolve_address())
                )
            else:
                self._channel = grpc.insecure_channel(
                    self._resolve_address(), options=[("grpc.enable_http_proxy", 0)]
                )
                self._stub = self._create_stub(self._channel)
        return self._stub

    def _resolve_address(self) -> str:
        if self._address:
            return self._address
        remembered = _remembered_location(
            self._discovery_client, self.PROVIDED_INTERFACE, self.SERVICE_CLASS
        )
        if remembered is not None:
            self._address, self._looked_up_earlier = remembered, True
            return remembered
        try:
            if self._discovery_client is not None:
                location = self._discovery_client.resolve_service(
                    provided_interface=self.PROVIDED_INTERFACE, service_class=self.SERVICE_CLASS
                )
                _remember_location(
                    self._discovery_client,
                    self.PROVIDED_INTERFACE,
                    self.SERVICE_CLASS,
                    location.insecure_address,
                )
            else:  # a one-off discovery client whose channel is closed right after
                with GrpcChannelPool() as pool:
                    location = DiscoveryClient(grpc_channel_pool=pool).resolve_service(
                        provided_interface=self.PROVIDED_INTERFACE,
                        service_class=self.SERVICE_CLASS,
                    )
        except grpc.RpcError as error:
            raise self.NOT_FOUND_ERROR(
                f"the {self.SERVICE_DISPLAY_NAME} ({self.PROVIDED_INTERFACE}, "
                f"{self.SERVICE_CLASS}) could not be resolved through the NI Discovery Service: "
                f"{error.code().name}: {(error.details() or '').rstrip('.')}. Start it with "
                f"`python -m {self.SERVICE_MODULE}`.",
                resource_kind=self.RESOURCE_KIND,
                resource_name=self.resource_name,
            ) from error
        self._address = location.insecure_address
        return self._address

    def _close_channel(self) -> None:
        channel, self._channel, self._stub = self._channel, None, None
        if channel is not None:
            channel.close()


# -- locations looked up through a shared discovery client -----------------------------------

_LOCATIONS: weakref.WeakKeyDictionary[DiscoveryClient, dict[tuple[str, str], str]] = (
    weakref.WeakKeyDictionary()
)
"""What a shared discovery client (a plug-in's) resolved, so that the clients of its later steps
do not look the service up again; forgotten when the service is no longer there."""
_LOCATIONS_LOCK = threading.Lock()


def _remembered_location(
    discovery_client: DiscoveryClient | None, interface: str, service_class: str
) -> str | None:
    if discovery_client is None:
        return None
    with _LOCATIONS_LOCK:
        try:
            return _LOCATIONS.get(discovery_client, {}).get((interface, service_class))
        except TypeError:  # a stand-in that cannot be weakly referenced: nothing remembered
            return None


def _remember_location(
    discovery_client: DiscoveryClient, interface: str, service_class: str, address: str
) -> None:
    with _LOCATIONS_LOCK, contextlib.suppress(TypeError):  # see _remembered_location
        _LOCATIONS.setdefault(discovery_client, {})[(interface, service_class)] = address


def _forget_location(
    discovery_client: DiscoveryClient | None, interface: str, service_class: str
) -> None:
    if discovery_client is None:
        return
    with _LOCATIONS_LOCK, contextlib.suppress(TypeError):
        _LOCATIONS.get(discovery_client, {}).pop((interface, service_class), None)
