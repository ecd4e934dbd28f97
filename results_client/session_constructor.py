"""A session constructor for ``reservation.initialize_session(s)`` in measurement plug-ins and
TestStand code modules. The reserved session's resource name is the database: an SQLite file's
path or a ``postgresql://`` URL.
"""

from __future__ import annotations

from results_client.session import ResultsDatabaseClient
from session_core.constructor import SessionConstructor

RESULTS_DATABASE_INSTRUMENT_TYPE = ResultsDatabaseClient.INSTRUMENT_TYPE_ID
"""The ``instrumentTypeId`` of the database's custom instrument in the pin map."""


class ResultsDatabaseSessionConstructor(SessionConstructor[ResultsDatabaseClient]):
    """Builds a :class:`ResultsDatabaseClient` for a reserved session.

    Example::

        with context.reserve_session(results_pin, timeout=10.0) as reservation:
            with reservation.initialize_session(
                ResultsDatabaseSessionConstructor(), RESULTS_DATABASE_INSTRUMENT_TYPE
            ) as session_info:
                database = session_info.session
                database.record_result("current", 0.001, unit="A")
                database.commit_if_created()  # run alone: this step owns the transaction
    """

    client_type = ResultsDatabaseClient
