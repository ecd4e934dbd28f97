#!/bin/sh
# Start the NI-DMM with Logger measurement plug-in from the project's environment
# (POSIX counterpart of start.bat). Extra arguments are passed on, e.g. ./start.sh -v
cd "$(dirname "$0")/../.." || exit 1
exec uv run python -m measurements.nidmm_with_logger "$@"
