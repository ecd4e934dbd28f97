"""The end-to-end demo: ``uv run session-sharing-demo`` (or ``python -m session_sharing_demo``).

For now it shows the core of the pattern: a Setup client opens one log-file session and detaches,
two measurement clients attach to the same server session and log, and a Cleanup client closes
it. Every process it starts, it stops.
"""
