"""Serve a session service from its command line: ``--max-streams`` and
``--stream-idle-timeout`` options, and serving until Enter, Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from session_core import hosting
from session_core.service_host import ServiceHost


def serve_until_stopped(server: ServiceHost, *, module: str) -> None:
    """Start ``server``, print its ready line, serve until Enter, Ctrl+C or SIGTERM, then stop.

    Signals are caught from before start-up, so one sent during start-up still stops cleanly.
    A start-up failure becomes a ClickException that says what to do.
    """
    with hosting.StopRequests() as stop_requests:
        try:
            address = server.start()
        except Exception as error:
            raise click.ClickException(
                f"could not start: {error}. Is the NI Discovery Service running? On a machine "
                "without NI software start the local one with `local-ni-platform`; or run with "
                f"`python -m {module} --no-discovery --port N` and give clients the address."
            ) from error
        try:
            registered = " (registered with the NI Discovery Service)" if server.registered else ""
            hosting.announce_ready(
                f"{hosting.ready_prefix(server.display_name)}{address}{registered}"
            )
            stop_requests.wait()
        finally:
            server.stop()


def call_limit_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a service's click command ``--max-streams`` and ``--stream-idle-timeout``, passed on
    to it as one ``limits`` argument (a :class:`session_core.hosting.CallLimits`).

    Put it right above the command's function, below the other options.
    """

    @functools.wraps(command)
    def with_limits(
        *args: Any, max_streams: int, stream_idle_timeout: float, **kwargs: Any
    ) -> None:
        limits = hosting.CallLimits(
            max_streams=max_streams, stream_idle_timeout=stream_idle_timeout
        )
        command(*args, limits=limits, **kwargs)

    options = (
        click.option(
            hosting.MAX_STREAMS_OPTION,
            default=hosting.DEFAULT_MAX_STREAMS,
            show_default=True,
            type=click.IntRange(min=1),
            metavar="N",
            help="Streaming calls open at once; one more gets RESOURCE_EXHAUSTED at once. "
            f"{hosting.DEFAULT_MAX_WORKERS} more workers are always kept for unary calls and "
            "health checks.",
        ),
        click.option(
            hosting.STREAM_IDLE_TIMEOUT_OPTION,
            default=hosting.DEFAULT_STREAM_IDLE_TIMEOUT,
            show_default=True,
            type=click.FloatRange(min=0, min_open=True),
            metavar="SECONDS",
            help="End a stream that sent nothing for this long, with DEADLINE_EXCEEDED.",
        ),
    )
    decorated: Callable[..., None] = with_limits
    for option in reversed(options):
        decorated = option(decorated)
    return decorated
