"""One sync as one DuckDB transaction, applied chunk by chunk while the walk goes on.

``begin()`` opens the transaction; each ``add(chunk)`` stages a chunk of the walk, classifies
its records against ``locations`` by content hash, writes their ``changes`` rows and replaces
their rows; ``finish()`` records removals (a complete walk only), the ``runs`` row, and commits.
Into a database without locations (a first sync) there is nothing to compare with: each chunk
is a bulk insert whose only change rows are ``added``, and there is nothing to remove.
Until the commit nothing is visible to other connections, and a process killed at any moment
leaves the previous state: DuckDB drops an uncommitted transaction when it reopens the file. The
next run then starts from that state as if the killed one never happened.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ._diff import DIFF
from ._flatten import FLATTEN, ROWS, deduplicate
from ._schema import create_tables
from ._stage import NEW, NEW_ALL, Staged, scalar, stage

if TYPE_CHECKING:
    import duckdb

__all__ = ["Counts", "Run", "ScopeError", "Transaction"]


class ScopeError(Exception):
    """The database holds the state of another endpoint or other filters."""


@dataclass(frozen=True, slots=True)
class Run:
    """What a run walks: the endpoint and its filters, and when it started."""

    endpoint: str
    filters: dict[str, str]
    started_at: datetime

    @property
    def filters_json(self) -> str:
        return json.dumps(self.filters, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Counts:
    """What a run found, as recorded in its ``runs`` row."""

    run_id: int
    records: int
    added: int
    changed: int
    removed: int
    status_changes: int
    price_changes: int
    changes: int
    refreshed: int
    rejected: int
    duplicates: int


# New or changed records of the chunk: the content hash decides, not `last_updated`.
_KINDS: Final = """
CREATE OR REPLACE TEMP TABLE sync_kinds AS
SELECT n.id, CASE WHEN o.id IS NULL THEN 'added' ELSE 'changed' END AS kind
FROM sync_incoming AS n LEFT JOIN (SELECT id, hash FROM locations) AS o ON n.id = o.id
WHERE o.id IS NULL OR n.hash <> o.hash
"""

# After a complete walk: what it did not see is gone.
_REMOVED: Final = """
CREATE OR REPLACE TEMP TABLE sync_kinds AS
SELECT id, 'removed' AS kind FROM locations WHERE id NOT IN (SELECT id FROM sync_seen)
"""

_DELTA: Final = """
CREATE OR REPLACE TEMP TABLE sync_delta AS
SELECT k.id, k.kind, l.raw AS old_raw, l.current_pricing AS old_pricing, l.first_seen
FROM sync_kinds AS k LEFT JOIN locations AS l ON l.id = k.id AND k.kind <> 'added'
"""

# Into an empty database: every new id of the chunk is an addition.
_ADDED: Final = """
CREATE OR REPLACE TEMP TABLE sync_delta AS
SELECT id, 'added' AS kind, NULL::VARCHAR AS old_raw, NULL::VARCHAR AS old_pricing,
       NULL::TIMESTAMPTZ AS first_seen
FROM sync_incoming
"""

_GONE: Final = "(SELECT id FROM sync_delta WHERE kind <> 'added')"
# Deletes of changed and removed rows, then inserts of the new ones: a removal step runs the
# deletes alone (_APPLY[:3]).
_APPLY: Final = (
    f"DELETE FROM locations WHERE id IN {_GONE}",
    f"DELETE FROM evses WHERE location_id IN {_GONE}",
    f"DELETE FROM connectors WHERE location_id IN {_GONE}",
    f"""INSERT INTO locations BY NAME
        SELECT r.*, coalesce(d.first_seen, $at) AS first_seen, $at AS last_changed
        FROM ({ROWS}) AS r JOIN sync_delta AS d USING (id)""",
    "INSERT INTO evses BY NAME SELECT * FROM sync_evses",
    "INSERT INTO connectors BY NAME SELECT * FROM sync_connectors",
)

_TALLY: Final = """
SELECT count(*) FILTER (WHERE evse_id IS NULL AND change = 'added'),
       count(*) FILTER (WHERE evse_id IS NULL AND change = 'removed'),
       count(DISTINCT location_id)
           FILTER (WHERE NOT (evse_id IS NULL AND change IN ('added', 'removed'))),
       count(*) FILTER (WHERE change = 'status'),
       count(*) FILTER (WHERE change = 'price'),
       count(*)
FROM changes WHERE run_id = $run
"""

_RUN: Final = """
INSERT INTO runs VALUES ($run, $start, $end, $endpoint, $filters, $records, $added, $changed,
    $removed, $status, $price, $changes, $rejected, $duplicates, $drift, $complete, $error)
"""


class Transaction:
    """One run's transaction on ``connection``; its methods run one at a time, in order."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, run: Run) -> None:
        self._connection = connection
        self._run = run
        self._staged = Staged()
        self._touched = 0
        self.run_id = 0
        #: The database held no location when the run began: every record is an addition.
        self.bulk = False

    def begin(self) -> None:
        """Open the transaction; raises ``ScopeError`` if the database is another's."""
        connection = self._connection
        connection.execute("DROP TABLE IF EXISTS sync_seen")
        connection.begin()
        create_tables(connection)
        row = connection.execute(
            "SELECT endpoint, filters FROM runs ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        run = self._run
        if row is not None and (row[0], row[1]) != (run.endpoint, run.filters_json):
            raise ScopeError(
                f"this database holds {row[0]} locations with filters {row[1]}, not "
                f"{run.endpoint} with filters {run.filters_json}: sync into another file"
            )
        self.run_id = scalar(connection, "SELECT coalesce(max(run_id), 0) + 1 FROM runs")
        self.bulk = not scalar(connection, "SELECT count(*) FROM locations")

    def add(self, chunk: Path) -> None:
        """Apply one chunk of the walk: additions and changes, never removals.

        Every run adds at least one chunk, if empty, before ``finish()``.
        """
        connection = self._connection
        stage(connection, chunk, self._staged, parse=self.bulk)
        if self.bulk:
            # Nothing to compare with (ids repeated within the run are already dropped by
            # ``stage``): every record is added, and its only change row is ``added``.
            if scalar(connection, "SELECT count(*) FROM sync_incoming"):
                self._execute(_ADDED, NEW_ALL, *FLATTEN, DIFF[0], *_APPLY[3:])
            chunk.unlink()
            return
        connection.execute(_KINDS)
        if scalar(connection, "SELECT count(*) FROM sync_kinds"):  # else nothing to parse
            changed = scalar(connection, "SELECT count(*) FROM sync_kinds WHERE kind = 'changed'")
            self._touched += changed
            self._execute(_DELTA, NEW, *FLATTEN, DIFF[0])
            if changed:  # diffs and deletes scan whole tables: only when there is something
                self._execute(*DIFF[1:], *_APPLY[:3])
            self._execute(*_APPLY[3:])
        chunk.unlink()  # its records are in the transaction now

    def _execute(self, *statements: str) -> None:
        connection = self._connection
        params = {"run": self.run_id, "at": self._run.started_at}
        for sql in statements:
            used = {key: value for key, value in params.items() if f"${key}" in sql}
            connection.execute(sql, used or None)
            for table in ("sync_evse_rows", "sync_connectors"):
                if f"TABLE {table} AS" in sql:
                    count, delete = deduplicate(table)
                    if scalar(connection, count):
                        connection.execute(delete)

    def finish(
        self, *, complete: bool, unrecovered_drift: int, error: str | None, ended_at: datetime
    ) -> Counts:
        """Record removals if ``complete``, then the run; commit. Returns the run's counts."""
        connection = self._connection
        # Into an empty database, every location there was seen by this walk: none removed.
        if complete and not self.bulk:
            self._execute(_REMOVED, _DELTA, DIFF[0], *_APPLY[:3])
        tally = connection.execute(_TALLY, {"run": self.run_id}).fetchone()
        assert tally is not None
        added, removed, changed, status, price, changes = (int(x) for x in tally)
        staged = self._staged
        counts = Counts(
            run_id=self.run_id,
            records=staged.records,
            added=added,
            changed=changed,
            removed=removed,
            status_changes=status,
            price_changes=price,
            changes=changes,
            refreshed=self._touched - changed,
            rejected=staged.rejected,
            duplicates=staged.duplicates,
        )
        run = self._run
        connection.execute(
            _RUN,
            {
                "run": self.run_id,
                "start": run.started_at,
                "end": ended_at,
                "endpoint": run.endpoint,
                "filters": run.filters_json,
                "records": staged.records,
                "added": added,
                "changed": changed,
                "removed": removed,
                "status": status,
                "price": price,
                "changes": changes,
                "rejected": staged.rejected,
                "duplicates": staged.duplicates,
                "drift": unrecovered_drift,
                "complete": complete,
                "error": error,
            },
        )
        connection.commit()
        return counts

    def rollback(self) -> None:
        """Abandon the run: the database keeps its previous state."""
        self._connection.rollback()
