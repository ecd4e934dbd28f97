"""Measurement plug-ins that share one log file through the JSON Logger Service.

- :mod:`measurements.nidcpower_with_logger`: sources and measures a DC voltage with NI-DCPower.
- :mod:`measurements.nidmm_with_logger`: measures with NI-DMM.

Each is hosted with NI's ``MeasurementService`` (``python -m measurements.<name>``), reserves its
instrument pins, the pin map's logger pin and (when given) its results database pin, appends one
record per measurement to the log file the pin map names and records its readings in the
database. :mod:`measurements.failures` turns reservation and session errors into clear statuses.
:mod:`measurements.client` calls any plug-in through the measurement v2 API as InstrumentStudio
does. Their ``.measui`` files are written by the development tool ``tools/generate_measui.py``.
See ``measurements/README.md``.
"""
