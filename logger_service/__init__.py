"""The JSON Logger Service: one shareable session per NDJSON log file, served over gRPC.

Layers, one module each: ``sessions`` (resource-agnostic session core), ``ndjson_log`` (the file
resource), ``servicer`` (requests and status codes), ``server``/``cli`` (the host),
``registration`` (NI Discovery Service), ``process`` (start it as a child process).
"""
