"""Client of the Results Database Service, for measurement plug-ins, TestStand modules and scripts.

- :class:`ResultsDatabaseClient`: a client session (context manager) honouring NI's five
  ``SessionInitializationBehavior`` values; ``record_result``, ``record_results``,
  ``read_results``, ``commit``, ``commit_if_created`` (what a plug-in step calls), ``rollback``.
- :class:`ResultsDatabaseSessionConstructor` and :data:`RESULTS_DATABASE_INSTRUMENT_TYPE`: for
  ``reservation.initialize_session(ResultsDatabaseSessionConstructor(),
  RESULTS_DATABASE_INSTRUMENT_TYPE)``.
"""

from results_client.session import (
    ResultRow,
    ResultsDatabaseClient,
    ResultsDatabaseServiceNotFoundError,
    StoredResult,
    resolve_resource_name,
)
from results_client.session_constructor import (
    RESULTS_DATABASE_INSTRUMENT_TYPE,
    ResultsDatabaseSessionConstructor,
)

__all__ = [
    "RESULTS_DATABASE_INSTRUMENT_TYPE",
    "ResultRow",
    "ResultsDatabaseClient",
    "ResultsDatabaseServiceNotFoundError",
    "ResultsDatabaseSessionConstructor",
    "StoredResult",
    "resolve_resource_name",
]
