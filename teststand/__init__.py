"""TestStand session sharing: the code modules TestStand's Python adapter calls, the sequence they
belong to (``SessionSharing.sequence.json``) and a headless runner of that sequence.

- ``teststand_json_logger.py``, ``teststand_results_database.py``, ``teststand_nidcpower.py``,
  ``teststand_nidmm.py``: the Setup and Cleanup code modules, one uniquely named file per
  instrument type because TestStand resolves a Python module by its file name. Each reads top to
  bottom as the pattern (reserve, initialize, register; reserve, unregister, attach and close);
  :mod:`teststand.errors` holds what they share.
- :mod:`teststand.sequence`: loads and validates the sequence description that both the README
  and the runner read, so the documented sequence and the one that runs cannot drift.
- :mod:`teststand.runner` and ``python -m teststand``: run that sequence without TestStand.
"""
