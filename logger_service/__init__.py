"""The JSON Logger Service: one shareable session per NDJSON log file, served over gRPC.

Layers, one module each: ``ndjson_log`` (the file resource), ``servicer`` (requests and status
codes), ``server``/``cli`` (the host), ``process`` (start it as a child process). The session
registry, the behaviours, the errors and the hosting are ``session_core``'s, shared with the
Results Database Service.
"""
