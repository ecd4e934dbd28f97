"""The shared session core: what every shareable-resource service and client in this project uses.

- ``registry``: sessions by resource key and by id, atomic check-and-create, per-session locking,
  close after work in flight; ``behaviors``: the three server behaviours, NI's five client
  behaviours mapped onto them, and when a client closes on exit.
- ``errors``: errors bound to gRPC status codes and ``reports_errors`` for servicers.
- ``client`` and ``constructor``: the client context manager and session-constructor bases.
- ``hosting``, ``registration``, ``service_host``: the server, its call limits, its ready line and
  stop requests, NI Discovery registration from a ``.serviceconfig``.
- ``client_errors``, ``paths``, ``timestamps``: the clients' typed errors, resource names that are
  file paths, protobuf timestamps.
- ``conformance``: the kit that checks any service (and client) following the pattern.

Nothing here knows what a resource is.
"""
