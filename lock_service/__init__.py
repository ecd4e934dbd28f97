"""The Hardware Lock Service: named locks that test sockets and stations take turns on, over gRPC.

A hold of a lock is a session of the pattern. Layers, one module each: ``names`` (what a lock
name is), ``backends`` (in memory; PostgreSQL advisory locks for many stations), ``lock_table``
(who holds, who waits, leases), ``servicer`` (requests and status codes), ``server``/``cli`` (the
host). Session ids, errors and hosting are ``session_core``'s, shared with the other services.
"""
