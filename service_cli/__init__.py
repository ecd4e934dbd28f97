"""What this project's programs share on their command lines: log files and serving until stopped.

Kept out of ``session_core`` so that a service built on the core needs neither click nor this
project's log folders.
"""
