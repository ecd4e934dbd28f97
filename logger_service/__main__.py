"""Run the JSON Logger Service: ``python -m logger_service --help``."""

from logger_service.cli import main

main()
