"""Hosting helpers shared by every gRPC server in this project (both services, the local platform,
the plug-ins).

One way to: build a thread-pool server with health checking and reflection, bind loopback, print
one ready line, and wait for a stop request (Enter on an interactive terminal, SIGINT or SIGTERM).

Staying available with many open streams
----------------------------------------
gRPC's thread-pool server runs each call on one worker thread from its first to its last message,
so a client-streaming call (``StreamMeasurementData``) holds a worker for as long as its client
keeps it open, sending or not. With a fixed pool of 32 workers, 32 open streams froze a service:
unary calls, ``CloseFile`` and health checks all waited for a free worker until their deadlines.
The session services (:class:`session_core.service_host.ServiceHost`) are therefore hosted with
:class:`CallLimits` (``create_server(stream_limiter=...)``):

- **Every admitted call has its worker at once.** The pool has ``max_streams + unary_workers``
  workers and gRPC's ``maximum_concurrent_rpcs`` is the same number, so a call is either run at
  once or refused at once with ``RESOURCE_EXHAUSTED`` ("Concurrent RPC limit exceeded!"); no call
  ever waits in the pool's queue.
- **Streams can never take every worker.** A :class:`StreamLimiter` (a server interceptor) lets
  at most ``max_streams`` streaming calls (request or response streaming: ``StreamMeasurementData``,
  health ``Watch``, reflection) be open at once; one more is refused at once with
  ``RESOURCE_EXHAUSTED`` naming the limit, so ``unary_workers`` workers are always left for
  unary calls and health checks.
- **Idle streams do not hold a slot forever.** A stream whose client sends no message for
  ``stream_idle_timeout`` seconds is ended with ``DEADLINE_EXCEEDED`` (raised as a
  :class:`StreamIdleError` from the request iterator, so the servicer reports it like any other
  error: the logger's message says how many records of the stream were written). A servicer
  blocked waiting for a message cannot be given a timeout in gRPC's thread-pool server, so each
  read of a request is done by a reader thread (a pool shared by the server's streams) and waited
  for with the timeout.

Why not an asyncio server (``grpc.aio``), which holds no thread for an open stream: the servicers,
the session registry and the resources (files, SQLite, PostgreSQL) are synchronous and guarded by
thread locks, so their work would run in a thread pool anyway, and the handlers, the error
mapping (:func:`session_core.errors.reports_errors`), health, reflection, start and stop, and the
in-process hosting in notebooks (which run their own event loop) would all change for that one
gain. Blocked threads cost memory, not CPU: 256 open streams hold 256 workers and at most 256
reader threads; ``benchmarks/service_stress.py`` measures what unary calls see meanwhile. Servers
created without a limiter (the local platform, the plug-ins) keep a plain pool of ``max_workers``.
"""

from __future__ import annotations

import logging
import logging.handlers
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Final, TypeVar, cast

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from session_core.errors import (
    CancelledError,
    DeadlineExceededError,
    ServiceError,
    UnavailableError,
)

_logger = logging.getLogger(__name__)

DEFAULT_MAX_WORKERS = 32
"""Workers of a plain server; with a stream limiter, the workers kept for unary calls."""
DEFAULT_MAX_STREAMS = 256
DEFAULT_STREAM_IDLE_TIMEOUT = 300.0
MAX_STREAMS_OPTION = "--max-streams"
STREAM_IDLE_TIMEOUT_OPTION = "--stream-idle-timeout"

RequestT = TypeVar("RequestT")
ResponseT = TypeVar("ResponseT")


@dataclass(frozen=True)
class CallLimits:
    """How many calls a session service runs at once, and how long a stream may stay idle."""

    max_streams: int = DEFAULT_MAX_STREAMS
    """Streaming calls open at once; one more is refused at once with RESOURCE_EXHAUSTED."""
    unary_workers: int = DEFAULT_MAX_WORKERS
    """Workers that streams can never take: unary calls and health checks always have them."""
    stream_idle_timeout: float = DEFAULT_STREAM_IDLE_TIMEOUT
    """Seconds a stream may go without a message before it is ended with DEADLINE_EXCEEDED."""

    def __post_init__(self) -> None:
        if self.max_streams < 1 or self.unary_workers < 1:
            raise ValueError(
                f"max_streams and unary_workers must be at least 1, got {self.max_streams} and "
                f"{self.unary_workers}"
            )
        if not self.stream_idle_timeout > 0:
            raise ValueError(
                f"stream_idle_timeout must be positive, got {self.stream_idle_timeout}"
            )


DEFAULT_CALL_LIMITS = CallLimits()


class StreamIdleError(DeadlineExceededError):
    """The client sent no message on its stream for the idle timeout."""


class ServiceStoppingError(UnavailableError):
    """The service is stopping: an open stream ends, with what it wrote said by the servicer."""


class ClientGoneError(CancelledError):
    """The client cancelled its stream or went away (killed, disconnected) before ending it."""


_END: Final = object()
_STOPPING = "the service is stopping, so this stream ends here; open a new one once it is back"


class StreamLimiter(grpc.ServerInterceptor):
    """Admits at most ``max_streams`` streaming calls at once (refusing one more at once with
    RESOURCE_EXHAUSTED) and ends a stream whose client sent nothing for ``idle_timeout`` seconds
    with DEADLINE_EXCEEDED. Unary calls pass through untouched. See the module docstring.
    """

    def __init__(self, *, max_streams: int, idle_timeout: float) -> None:
        self.max_streams = max_streams
        self.idle_timeout = idle_timeout
        self._lock = threading.Lock()
        self._open = 0
        self._refusing = False
        self._stopping: futures.Future[object] = futures.Future()
        """Done when the service stops: every open stream's next read ends it."""
        # One pending read per open stream; twice that leaves room for reads abandoned by an idle
        # timeout, which end as soon as their call does. Threads are created only when needed.
        self._readers = futures.ThreadPoolExecutor(
            max_workers=2 * max_streams, thread_name_prefix="grpc-stream-reader"
        )

    @property
    def open_streams(self) -> int:
        """Streaming calls admitted and not yet finished."""
        with self._lock:
            return self._open

    def end_streams(self) -> None:
        """End every open stream at its next read with UNAVAILABLE (the service is stopping), so
        each servicer still answers its client with what the stream wrote.
        """
        if not self._stopping.done():
            self._stopping.set_result(None)

    def close(self) -> None:
        """Let the reader threads go (after the server stopped)."""
        self._readers.shutdown(wait=False, cancel_futures=True)

    def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], grpc.RpcMethodHandler[RequestT, ResponseT] | None
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[RequestT, ResponseT] | None:
        """Wrap the handler of a streaming method; return any other unchanged."""
        handler = continuation(handler_call_details)
        if handler is None or not (handler.request_streaming or handler.response_streaming):
            return handler
        behavior: Callable[..., Any] | None
        wrap: Callable[..., Any]
        if handler.request_streaming and handler.response_streaming:
            behavior, wrap = handler.stream_stream, grpc.stream_stream_rpc_method_handler
        elif handler.request_streaming:
            behavior, wrap = handler.stream_unary, grpc.stream_unary_rpc_method_handler
        else:
            behavior, wrap = handler.unary_stream, grpc.unary_stream_rpc_method_handler
        if behavior is None:
            return handler
        limited = self._limited(
            behavior,
            handler_call_details.method,
            request_streaming=handler.request_streaming,
            response_streaming=handler.response_streaming,
        )
        return cast(
            "grpc.RpcMethodHandler[RequestT, ResponseT]",
            wrap(
                limited,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            ),
        )

    def _limited(
        self,
        behavior: Callable[[Any, grpc.ServicerContext], Any],
        method: str,
        *,
        request_streaming: bool,
        response_streaming: bool,
    ) -> Callable[[Any, grpc.ServicerContext], Any]:
        """``behavior`` run only when a stream slot is free, with idle-guarded requests."""

        def limited(request: Any, context: grpc.ServicerContext) -> Any:
            release = self._admit(method, context)
            if request_streaming:
                request = self._idle_guarded(request)
            if not response_streaming:
                try:
                    return behavior(request, context)
                except ServiceError as error:  # a servicer that does not report errors itself
                    context.abort(error.code, error.message)
                finally:
                    release()
            # The responses are sent by iterating what the behavior returns, after it returned:
            # the slot is released when that iteration ends, or when the call does.
            context.add_callback(release)
            try:
                responses = behavior(request, context)
            except BaseException:
                release()
                raise
            return _released_after(responses, release, context)

        return limited

    def _admit(self, method: str, context: grpc.ServicerContext) -> Callable[[], None]:
        """Take a stream slot and return its (idempotent) release; refuse when none is free."""
        with self._lock:
            admitted = self._open < self.max_streams
            if admitted:
                self._open += 1
            first_refusal = not admitted and not self._refusing
            self._refusing = not admitted
        if first_refusal:  # once until a stream ends, not once per refused call
            _logger.warning(
                "Refusing new streams (%s): %d are open, the limit (%s).",
                method,
                self.max_streams,
                MAX_STREAMS_OPTION,
            )
        if not admitted:
            context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"too many open streams: {self.max_streams} streaming calls are open, the "
                f"service's limit ({MAX_STREAMS_OPTION}); finish or cancel one, or retry later",
            )
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if not released:
                    released = True
                    self._open -= 1
                    self._refusing = False

        return release

    def _idle_guarded(self, requests: Iterator[RequestT]) -> Iterator[RequestT]:
        """``requests``, each waited for at most the idle timeout (then StreamIdleError)."""
        while True:
            if self._stopping.done():
                raise ServiceStoppingError(_STOPPING)
            pending = self._readers.submit(next, requests, _END)
            futures.wait(
                [pending, self._stopping],
                timeout=self.idle_timeout,
                return_when=futures.FIRST_COMPLETED,
            )
            if not pending.done():
                if self._stopping.done():
                    raise ServiceStoppingError(_STOPPING)
                raise StreamIdleError(
                    f"the stream sent nothing for {self.idle_timeout:g} s, the service's limit "
                    f"for an idle stream ({STREAM_IDLE_TIMEOUT_OPTION}); open a new stream to "
                    "go on"
                )
            try:
                request = pending.result()
            except grpc.RpcError:  # gRPC's request iterator: the call ended under it
                raise ClientGoneError(
                    "the client cancelled the stream or went away before ending it"
                ) from None
            if request is _END:
                return
            yield cast(RequestT, request)


def _released_after(
    responses: Iterator[ResponseT], release: Callable[[], None], context: grpc.ServicerContext
) -> Iterator[ResponseT]:
    try:
        yield from responses
    except ServiceError as error:
        context.abort(error.code, error.message)
    finally:
        release()


def create_server(
    *,
    max_workers: int = DEFAULT_MAX_WORKERS,
    stream_limiter: StreamLimiter | None = None,
    interceptors: Sequence[grpc.ServerInterceptor] = (),
) -> grpc.Server:
    """Create a thread-pool gRPC server.

    With ``stream_limiter``, the pool has ``max_workers`` more workers than the limiter's
    ``max_streams``, and gRPC refuses a call past that many at once (see the module docstring).
    ``interceptors`` run inside the limiter (e.g. ``session_core.decoding.RequestDecodeGuard``).
    """
    if stream_limiter is None:
        return grpc.server(
            futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc-worker"),
            interceptors=list(interceptors),
        )
    calls = max_workers + stream_limiter.max_streams
    return grpc.server(
        futures.ThreadPoolExecutor(max_workers=calls, thread_name_prefix="grpc-worker"),
        interceptors=[stream_limiter, *interceptors],
        maximum_concurrent_rpcs=calls,
    )


def add_health_and_reflection(
    server: grpc.Server, service_names: Iterable[str]
) -> health.HealthServicer:
    """Serve gRPC health checking and reflection for ``service_names``; return the health servicer.

    The health servicer is non-blocking so that Watch streams do not hold a worker thread of a
    plain server. On a server with a :class:`StreamLimiter`, a Watch is a stream like any other:
    it holds a worker and a stream slot until the client ends it.
    """
    names = list(service_names)
    health_servicer = health.HealthServicer(
        experimental_non_blocking=True,
        experimental_thread_pool=futures.ThreadPoolExecutor(max_workers=2),
    )
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in names:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    return health_servicer


def bind_insecure(server: grpc.Server, host: str, port: int) -> int:
    """Bind ``host:port`` (port 0 picks a free one) and return the bound port."""
    address = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as error:
        raise OSError(f"cannot bind {address}: {error}") from error
    if bound == 0:
        raise OSError(f"cannot bind {address}")
    return bound


NO_DEADLINE_SECONDS = 1e9
"""More time than this left means the call has no deadline: gRPC reports its far future."""


def time_left(context: grpc.ServicerContext) -> float | None:
    """Seconds until the caller's deadline; None when the call has none.

    gRPC's Python server reports "no deadline" as centuries away, which a sleep or a lock wait
    refuses to take.
    """
    remaining: float | None = context.time_remaining()
    return None if remaining is None or remaining > NO_DEADLINE_SECONDS else remaining


def ready_prefix(display_name: str) -> str:
    """The start of a service's ready line: ``<display name> listening on <host:port>``."""
    return f"{display_name} listening on "


def announce_ready(message: str) -> None:
    """Print the one line that tells scripts and users the server is ready."""
    print(message, flush=True)


class StopRequests:
    """Collects stop requests from the moment it is entered: SIGINT, SIGTERM, and Enter when
    standard input is a terminal.

    Enter it before starting the server, so a signal sent as soon as the ready line appears (or
    during start-up) still leads to a clean stop instead of the default handler killing the
    process. Must be entered on the main thread (signal handlers can only be installed there).
    Standard input is watched only when it is a terminal, so a server started by a script, a
    notebook or the NI Discovery Service does not stop when its input is closed.
    """

    def __init__(self, *, watch_stdin: bool | None = None) -> None:
        self._watch_stdin = watch_stdin
        self._requested = threading.Event()
        self._reason = ""
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopRequests:
        self._previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        return self

    def __exit__(self, *exc_info: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def request(self, reason: str) -> None:
        """Ask for a stop (the first reason is kept)."""
        if not self._requested.is_set():
            self._reason = reason
            self._requested.set()

    def wait(self) -> str:
        """Block until a stop is requested; return why."""
        watch_stdin = self._watch_stdin
        if watch_stdin is None:
            watch_stdin = sys.stdin is not None and sys.stdin.isatty()
        if watch_stdin:
            threading.Thread(target=self._read_enter, name="stop-on-enter", daemon=True).start()
        # Event.wait with a timeout keeps the main thread responsive to signals on every platform.
        while not self._requested.wait(timeout=0.5):
            pass
        _logger.info("Stop requested (%s).", self._reason)
        return self._reason

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.request(signal.Signals(signum).name)

    def _read_enter(self) -> None:
        try:
            sys.stdin.readline()
        except (OSError, ValueError):
            return
        self.request("Enter")


_LOOPBACK_HOSTS = ("::1", "[::1]", "localhost")  # and 127.0.0.0/8


def warn_if_exposed(host: str, allowed_dirs: Sequence[Path]) -> None:
    """Warn when binding an address other machines can reach: they could then open files."""
    if host in _LOOPBACK_HOSTS or host.startswith("127."):
        return
    _logger.warning(
        "Binding %s: other machines that can reach this address can open sessions%s. Bind "
        "127.0.0.1 unless remote clients need the service.",
        host,
        " in " + ", ".join(map(str, allowed_dirs))
        if allowed_dirs
        else " on any file the service user can write (limit them with --allow-dir)",
    )
