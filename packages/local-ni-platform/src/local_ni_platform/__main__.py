"""``python -m local_ni_platform``: run the local NI platform (see ``cli.py``)."""

from local_ni_platform.cli import main

if __name__ == "__main__":
    main(prog_name="python -m local_ni_platform")
