"""Helpers the course notebooks call, so that no logic lives only in a notebook.

Each notebook starts what it needs through :class:`~session_sharing_demo.course.environment.Course`
and stops it in its last cell. One module per notebook topic sits beside ``environment``.
"""
