#!/bin/sh
# Start the DUT Supply with Connection measurement plug-in from the project's environment
# (POSIX counterpart of start.bat). Extra arguments are passed on, e.g. ./start.sh -v
cd "$(dirname "$0")/../.." || exit 1
exec uv run python -m measurements.dut_supply_with_connection "$@"
