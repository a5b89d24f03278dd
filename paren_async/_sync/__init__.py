"""``paren-async sync``: an endpoint's locations into a DuckDB file, with a change history.

Private: the command line is its interface. It uses only the public client API; DuckDB does the
set work (its JSON functions over the walk's raw NDJSON, joins, one transaction per run).

- ``_walk``: the endpoint's raw records into scratch NDJSON; whether the walk was complete.
- ``_chunks``: those records as chunk files (md5 and JSON per line); ``_connect``: the file.
- ``_schema``: the tables; ``_flatten``: flat rows from raw JSON; ``_diff``: change rows.
- ``_apply``: the transaction that stages, diffs and applies a walk, and records the run.
- ``_outcome``: exit codes and summaries; ``_engine``: the sync that ties them together.
"""

from ._apply import Counts, Run, ScopeError, Transaction
from ._engine import SyncOptions, duckdb_missing, sync
from ._outcome import SyncOutcome
from ._schema import LOCATION_COLUMNS, TABLES
from ._walk import walk_complete

__all__ = [
    "LOCATION_COLUMNS",
    "TABLES",
    "Counts",
    "Run",
    "ScopeError",
    "SyncOptions",
    "SyncOutcome",
    "Transaction",
    "duckdb_missing",
    "sync",
    "walk_complete",
]
