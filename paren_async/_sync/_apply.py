"""One sync's set work in DuckDB, in one transaction: stage, classify, diff, apply, record the run.

Staging reads the walk's NDJSON with DuckDB's CSV reader as one text column per line (``\\x01``
as delimiter and no quoting: valid JSON never holds a raw control character), so each record's
text is kept exactly as the server sent it and hashed as such (``md5`` of its UTF-8 bytes). The
staged tables are connection-local temp tables: they never touch the database file.

Everything that changes the database file runs between ``BEGIN`` and ``COMMIT``: a process killed
at any moment leaves the previous state (DuckDB's write-ahead log drops an uncommitted
transaction), and the next run starts from it as if the killed one never happened.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ._diff import DIFF
from ._flatten import FLATTEN
from ._schema import create_tables

if TYPE_CHECKING:
    import duckdb

__all__ = ["Counts", "Run", "ScopeError", "apply"]


class ScopeError(Exception):
    """The database holds the state of another endpoint or other filters."""


@dataclass(frozen=True, slots=True)
class Run:
    """What a run walked: the endpoint, its filters and whether the walk saw everything."""

    endpoint: str
    filters: dict[str, str]
    started_at: datetime
    complete: bool
    unrecovered_drift: int = 0
    error: str | None = None

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


def _lines(path: Path) -> str:
    quoted = str(path).replace("'", "''")
    return (
        f"read_csv('{quoted}', columns={{'raw': 'VARCHAR'}}, header=false, delim='\x01', "
        "quote='', escape='', auto_detect=false, new_line='\\n')"
    )


_INCOMING: Final = """
CREATE OR REPLACE TEMP TABLE sync_incoming AS
SELECT id, raw, md5(raw) AS hash
FROM (SELECT rowid AS line, raw, try(json_extract_string(raw, '$.id')) AS id FROM sync_lines)
WHERE id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY id ORDER BY line) = 1
"""

# Removals only when the walk saw the whole collection ($complete): a partial walk's missing
# records may simply not have been reached.
_KINDS: Final = """
CREATE OR REPLACE TEMP TABLE sync_kinds AS
SELECT coalesce(n.id, o.id) AS id,
       CASE WHEN o.id IS NULL THEN 'added' WHEN n.id IS NULL THEN 'removed' ELSE 'changed' END
           AS kind,
       n.raw AS new_raw, n.hash AS new_hash
FROM sync_incoming AS n FULL JOIN (SELECT id, hash FROM locations) AS o ON n.id = o.id
WHERE o.id IS NULL OR (n.id IS NULL AND $complete) OR n.hash <> o.hash
"""

_DELTA: Final = """
CREATE OR REPLACE TEMP TABLE sync_delta AS
SELECT k.id, k.kind, k.new_raw, k.new_hash, l.raw AS old_raw, l.first_seen
FROM sync_kinds AS k LEFT JOIN locations AS l ON l.id = k.id AND k.kind <> 'added'
"""

_NEW: Final = """
CREATE OR REPLACE TEMP VIEW sync_new AS
SELECT id, new_raw AS raw, new_hash AS hash FROM sync_delta WHERE kind <> 'removed'
"""

_APPLY: Final = (
    "DELETE FROM locations WHERE id IN (SELECT id FROM sync_delta WHERE kind <> 'added')",
    """INSERT INTO locations BY NAME
       SELECT r.*, coalesce(d.first_seen, $at) AS first_seen, $at AS last_changed
       FROM sync_rows AS r JOIN sync_delta AS d USING (id)""",
    "DELETE FROM evses WHERE location_id IN (SELECT id FROM sync_delta WHERE kind <> 'added')",
    "INSERT INTO evses BY NAME SELECT * FROM sync_evses",
    "DELETE FROM connectors WHERE location_id IN "
    "(SELECT id FROM sync_delta WHERE kind <> 'added')",
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


def _scalar(connection: duckdb.DuckDBPyConnection, sql: str, **params: object) -> int:
    row = connection.execute(sql, params or None).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def stage(connection: duckdb.DuckDBPyConnection, lines: Path) -> tuple[int, int, int]:
    """Load the walk's NDJSON into temp tables: ``(records, rejected, duplicates)``.

    A line without a string-or-scalar ``id`` (or that is not JSON) is rejected; a repeated id
    keeps its first record.
    """
    connection.execute(f"CREATE OR REPLACE TEMP TABLE sync_lines AS SELECT raw FROM {_lines(lines)}")
    connection.execute(_INCOMING)
    records = _scalar(connection, "SELECT count(*) FROM sync_lines")
    with_id = _scalar(
        connection,
        "SELECT count(*) FROM sync_lines WHERE try(json_extract_string(raw, '$.id')) IS NOT NULL",
    )
    kept = _scalar(connection, "SELECT count(*) FROM sync_incoming")
    return records, records - with_id, with_id - kept


def check_scope(connection: duckdb.DuckDBPyConnection, run: Run) -> None:
    """Refuse to mix endpoints or filters in one database: removals would be wrong."""
    row = connection.execute(
        "SELECT endpoint, filters FROM runs ORDER BY run_id DESC LIMIT 1"
    ).fetchone()
    if row is not None and (row[0], row[1]) != (run.endpoint, run.filters_json):
        raise ScopeError(
            f"this database holds {row[0]} locations with filters {row[1]}, not {run.endpoint} "
            f"with filters {run.filters_json}: sync into another file"
        )


def apply(
    connection: duckdb.DuckDBPyConnection, lines: Path, run: Run, *, ended_at: datetime
) -> Counts:
    """Stage ``lines`` and apply them to the database in one transaction; returns the counts.

    Raises ``ScopeError`` (nothing changed) when the database belongs to another endpoint or
    filters, and ``duckdb.Error`` on database failures (nothing changed either).
    """
    records, rejected, duplicates = stage(connection, lines)
    connection.begin()
    try:
        create_tables(connection)
        check_scope(connection, run)
        run_id = _scalar(connection, "SELECT coalesce(max(run_id), 0) + 1 FROM runs")
        at = run.started_at
        connection.execute(_KINDS, {"complete": run.complete})
        for sql in (_DELTA, _NEW, *FLATTEN):
            connection.execute(sql)
        for sql in DIFF:
            params = {k: v for k, v in {"run": run_id, "at": at}.items() if f"${k}" in sql}
            connection.execute(sql, params or None)
        for sql in _APPLY:
            connection.execute(sql, {"at": at} if "$at" in sql else None)
        tally = connection.execute(_TALLY, {"run": run_id}).fetchone()
        assert tally is not None
        added, removed, changed, status, price, changes = (int(x) for x in tally)
        touched = _scalar(connection, "SELECT count(*) FROM sync_delta WHERE kind = 'changed'")
        counts = Counts(
            run_id=run_id,
            records=records,
            added=added,
            changed=changed,
            removed=removed,
            status_changes=status,
            price_changes=price,
            changes=changes,
            refreshed=touched - changed,
            rejected=rejected,
            duplicates=duplicates,
        )
        connection.execute(
            "INSERT INTO runs VALUES ($run, $start, $end, $endpoint, $filters, $records, $added,"
            " $changed, $removed, $status, $price, $changes, $rejected, $duplicates, $drift,"
            " $complete, $error)",
            {
                "run": run_id,
                "start": at,
                "end": ended_at,
                "endpoint": run.endpoint,
                "filters": run.filters_json,
                "records": records,
                "added": added,
                "changed": changed,
                "removed": removed,
                "status": status,
                "price": price,
                "changes": changes,
                "rejected": rejected,
                "duplicates": duplicates,
                "drift": run.unrecovered_drift,
                "complete": run.complete,
                "error": run.error,
            },
        )
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return counts
