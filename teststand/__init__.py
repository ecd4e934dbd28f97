"""TestStand session sharing: the code modules TestStand's Python adapter calls, the sequence they
belong to (``SessionSharing.sequence.json``) and a headless runner of that sequence.

- ``teststand_json_logger.py``, ``teststand_nidcpower.py``, ``teststand_nidmm.py``: the Setup and
  Cleanup code modules, one uniquely named file per instrument type because TestStand resolves a
  Python module by its file name. They are thin; the logic lives in
  :mod:`teststand.session_lifecycle`.
- :mod:`teststand.sequence`: loads and validates the sequence description that both the README
  and the runner read, so the documented sequence and the one that runs cannot drift.
- :mod:`teststand.runner` and ``python -m teststand``: run that sequence without TestStand.
"""
