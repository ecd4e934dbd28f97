#!/bin/sh
# Start the Instrument Connection Service from the project's environment (POSIX counterpart of start.bat).
# Extra arguments are passed on, e.g. ./start.sh --no-discovery --port 50051
cd "$(dirname "$0")/.." || exit 1
exec uv run python -m connection_service "$@"
