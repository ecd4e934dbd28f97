"""Run the Results Database Service: ``python -m results_service --help``."""

from results_service.cli import main

main()
