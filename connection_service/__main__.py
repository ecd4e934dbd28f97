"""Run the Instrument Connection Service: ``python -m connection_service --help``."""

from connection_service.cli import main

main()
