"""The Results Database Service: one shareable session per results database, served over gRPC.

A session is one connection and so one transaction: rows recorded through it become visible to
others only when it commits; closing without a commit rolls back. Layers, one module each:
``backends`` (SQLite file, PostgreSQL server: what differs), ``store`` (the resource: one code path
for rows, savepoints and the transaction), ``servicer`` (requests and status codes),
``server``/``cli`` (the host), ``process`` (start it as a child process). Sessions, behaviours,
errors and hosting are ``session_core``'s, shared with the JSON Logger Service.
"""
