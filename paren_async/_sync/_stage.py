"""One chunk of the walk's NDJSON into temp tables, by DuckDB's readers.

Each chunk is read twice, both times by DuckDB in parallel: as JSON into typed columns
(``read_json`` with ``JSON_COLUMNS``), and as text, one line per record, with the CSV reader
(``\\x01`` as delimiter and no quoting: valid JSON never holds a raw control character). Row i
of one read is line i of the other, so each record's parsed fields are paired with its exact
text, which is kept and hashed as sent (``md5`` of its UTF-8 bytes). The temp tables
are connection-local: they never touch the database file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from ._flatten import JSON_COLUMNS

if TYPE_CHECKING:
    import duckdb

__all__ = ["NEW", "StageError", "Staged", "parse", "scalar", "stage"]


class StageError(Exception):
    """The walk's records could not be read back consistently."""


def scalar(connection: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> int:
    row = connection.execute(sql, params).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _read_lines(path: Path) -> str:
    return (
        f"read_csv({_quoted(path)}, columns={{'raw': 'VARCHAR'}}, header=false, delim='\x01', "
        "quote='', escape='', auto_detect=false, new_line='\\n')"
    )


def _read_json(path: Path) -> str:
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in JSON_COLUMNS.items())
    return (
        f"read_json({_quoted(path)}, format='newline_delimited', columns={{{columns}}}, "
        "ignore_errors=true)"
    )


# Paren writes `id` first, so the id is usually a slice of the text; anything else (another key
# order, whitespace, escapes, a non-string id) is parsed. A line without an id is rejected.
_ID: Final = """
coalesce(nullif(regexp_extract(raw, '^[{]"id":"([^"\\\\]*)"', 1), ''),
         try(json_extract_string(raw, '$.id')))
"""

# An id seen earlier in the run (the collection moved during the walk) keeps its first record.
_INCOMING: Final = """
CREATE OR REPLACE TEMP TABLE sync_incoming AS
SELECT rowid AS line, id, hash FROM sync_lines
WHERE id IS NOT NULL AND id NOT IN (SELECT id FROM sync_seen)
"""
_DEDUPLICATE: Final = """
DELETE FROM sync_incoming WHERE line NOT IN (SELECT min(line) FROM sync_incoming GROUP BY id)
"""

#: The chunk's records, parsed and as text, for the lines in ``sync_delta`` (added or changed).
#: Row i of each read is line i of the chunk: DuckDB keeps insertion order.
NEW: Final = """
CREATE OR REPLACE TEMP VIEW sync_new AS
SELECT j.*, l.raw, l.hash
FROM sync_typed AS j JOIN sync_lines AS l ON j.rowid = l.rowid
WHERE j.rowid IN (SELECT i.line FROM sync_incoming AS i JOIN sync_delta AS d USING (id)
                  WHERE d.kind <> 'removed')
"""


class Staged:
    """Records, rejects and repeats over every chunk staged by a run."""

    def __init__(self) -> None:
        self.records = 0
        self.rejected = 0
        self.duplicates = 0


def stage(connection: duckdb.DuckDBPyConnection, chunk: Path, staged: Staged) -> None:
    """Load ``chunk``'s text (replacing the last chunk's): ``sync_lines(raw, hash, id)`` by line,
    ``sync_incoming(line, id, hash)`` for the ids new in this run, added to ``sync_seen(id)``.
    """
    connection.execute("CREATE TEMP TABLE IF NOT EXISTS sync_seen (id VARCHAR)")
    connection.execute(
        "CREATE OR REPLACE TEMP TABLE sync_lines AS "
        f"SELECT raw, md5(raw) AS hash, {_ID} AS id FROM {_read_lines(chunk)}"
    )
    records = scalar(connection, "SELECT count(*) FROM sync_lines")
    with_id = scalar(connection, "SELECT count(*) FROM sync_lines WHERE id IS NOT NULL")
    connection.execute(_INCOMING)
    fresh = scalar(connection, "SELECT count(*) FROM sync_incoming")
    unique = scalar(connection, "SELECT count(DISTINCT id) FROM sync_incoming")
    if unique != fresh:
        connection.execute(_DEDUPLICATE)
    connection.execute("INSERT INTO sync_seen SELECT id FROM sync_incoming")
    staged.records += records
    staged.rejected += records - with_id
    staged.duplicates += with_id - unique


def parse(connection: duckdb.DuckDBPyConnection, chunk: Path) -> None:
    """Parse ``chunk`` into ``sync_typed``: only for chunks holding new or changed records."""
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE sync_typed AS SELECT * FROM {_read_json(chunk)}"
    )
    typed = scalar(connection, "SELECT count(*) FROM sync_typed")
    lines = scalar(connection, "SELECT count(*) FROM sync_lines")
    if typed != lines:  # never seen: the client hands over valid JSON only
        raise StageError(f"DuckDB read {typed} JSON records from {lines} lines of {chunk}")
