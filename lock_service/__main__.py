"""Run the Hardware Lock Service: ``python -m lock_service --help``."""

from lock_service.cli import main

main()
