"""The kit's own calls to a service under test: initialize, close, list, and fresh resource names.

Every call's answer is an :class:`Answer` (a status code, never an exception), so a check reads
as the guide's table. Sessions the kit opened are closed again by :meth:`Prober.clean_up`.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from session_core.conformance.contract import SessionContract
from session_core.errors import excerpt


@dataclass(frozen=True)
class Answer:
    """What one call got: OK with a session id, or a status code and its message."""

    code: grpc.StatusCode
    session_id: str = ""
    new: bool = False
    details: str = ""

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.code is grpc.StatusCode.OK

    def __str__(self) -> str:
        if self.ok and self.session_id:
            return f"OK (session {self.session_id[:8]}, new_session_initialized {self.new})"
        if self.ok:
            return "OK"
        return f"{self.code.name} ({excerpt(self.details, 60)})" if self.details else self.code.name


BEHAVIOR_NAMES = ("UNSPECIFIED", "INITIALIZE_NEW", "ATTACH_TO_EXISTING")


class PoolExhaustedError(RuntimeError):
    """Every name of the resource pool has been used: give the kit more."""


class Prober:
    """Calls the session RPCs of one service; names resources from a template."""

    def __init__(
        self,
        channel: grpc.Channel,
        contract: SessionContract,
        *,
        resource: str | Sequence[str],
        timeout: float,
        tmp_dir: str = "",
    ) -> None:
        self.channel = channel
        self.contract = contract
        self.resource_template = resource
        """A template (``{n}``, ``{tmp}``), or a pool of names of resources that exist."""
        self.tmp_dir = tmp_dir
        self.timeout = timeout
        self._counter = itertools.count(1)
        self._run = uuid.uuid4().hex[:8]
        self._opened: set[str] = set()

    def fresh_name(self) -> tuple[str, str]:
        """A resource nobody has used: ``(name, n)``, from the resource template or pool."""
        if isinstance(self.resource_template, str):
            n = f"conformance-{self._run}-{next(self._counter)}"
        else:
            n = str(next(self._counter) - 1)
        return self.name(self.resource_template, n), n

    def name(self, template: str | Sequence[str], n: str) -> str:
        """A template's name for ``n``: ``{n}`` becomes ``n``, ``{tmp}`` the kit's folder; or
        the ``n``-th name of a pool.
        """
        if isinstance(template, str):
            return template.replace("{n}", n).replace("{tmp}", self.tmp_dir)
        if int(n) >= len(template):
            raise PoolExhaustedError(
                f"the kit needs more than the {len(template)} resources it was given"
            )
        return template[int(n)]

    def behavior(self, name: str) -> int:
        """The wire value of a server behaviour by its short name."""
        return self.contract.behaviors[BEHAVIOR_NAMES.index(name)]

    def initialize(self, resource_name: str, behavior: int | str) -> Answer:
        """Send the initialize RPC with a behaviour (a short name or any number)."""
        value = self.behavior(behavior) if isinstance(behavior, str) else behavior
        request = self.contract.initialize_request(resource_name, value)
        answer = self._call(self.contract.initialize, request)
        if answer.ok:
            self._opened.add(answer.session_id)
        return answer

    def close(self, session_id: str) -> Answer:
        """Send the close RPC."""
        self._opened.discard(session_id)
        return self._call(
            self.contract.close, self.contract.close.request_type(session_id=session_id)
        )

    def call_with_session(self, rpc_index: int, session_id: str) -> Answer:
        """Call another RPC that takes a session id, with only that field set."""
        rpc = self.contract.session_calls[rpc_index]
        return self._call(rpc, rpc.request_type(session_id=session_id))

    def listed(self) -> set[str] | None:
        """The session ids ListSessions shows, or None when the service has no such RPC."""
        rpc = self.contract.list_sessions
        if rpc is None:
            return None
        response = rpc.call(self.channel, rpc.request_type(), self.timeout)
        ids: set[str] = set()
        for field, value in response.ListFields():
            if field.message_type is not None and field.is_repeated:
                ids.update(item.session_id for item in value if hasattr(item, "session_id"))
        return ids

    def is_open(self, resource_name: str, session_id: str) -> bool:
        """Whether ``session_id`` is still the open session of the resource (an attach asks)."""
        answer = self._attach_untracked(resource_name)
        return answer.ok and answer.session_id == session_id

    def close_resource(self, resource_name: str) -> None:
        """Close whatever session of the resource is open (an attach finds it)."""
        answer = self._attach_untracked(resource_name)
        if answer.ok:
            self.close(answer.session_id)

    def _attach_untracked(self, resource_name: str) -> Answer:
        """ATTACH_TO_EXISTING, which changes nothing on a conforming server."""
        request = self.contract.initialize_request(
            resource_name, self.behavior("ATTACH_TO_EXISTING")
        )
        return self._call(self.contract.initialize, request)

    def clean_up(self) -> None:
        """Close every session the kit opened and did not close (best effort)."""
        for session_id in list(self._opened):
            self.close(session_id)

    def _call(self, rpc: Any, request: Any) -> Answer:
        try:
            response = rpc.call(self.channel, request, self.timeout)
        except grpc.RpcError as error:
            return Answer(error.code(), details=error.details() or "")
        return Answer(
            grpc.StatusCode.OK,
            session_id=getattr(response, "session_id", ""),
            new=bool(getattr(response, "new_session_initialized", False)),
        )
