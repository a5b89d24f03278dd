"""One chunk of the walk's NDJSON into temp tables, by DuckDB's readers.

Each chunk is read once, as text, one line per record (hash, ``\\x01``, JSON: ``as_lines``),
with DuckDB's CSV reader (``\\x01`` as delimiter and no quoting: valid JSON never holds a raw
control character): the exact text is kept with its content hash. Only the lines that are new
or changed are then parsed, once each, by ``json_transform`` into typed columns
(``JSON_STRUCTURE``). The temp tables are connection-local: they never touch the database file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from ._flatten import JSON_COLUMNS, JSON_STRUCTURE

if TYPE_CHECKING:
    import duckdb

__all__ = ["NEW", "NEW_ALL", "Staged", "scalar", "stage"]


def scalar(connection: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> int:
    row = connection.execute(sql, params).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _counts(connection: duckdb.DuckDBPyConnection, sql: str) -> tuple[int, int]:
    row = connection.execute(sql).fetchone()
    assert row is not None  # an aggregate without GROUP BY has one row
    return int(row[0]), int(row[1])


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _read_lines(path: Path) -> str:
    return (
        f"read_csv({_quoted(path)}, columns={{'hash': 'VARCHAR', 'raw': 'VARCHAR'}}, header=false, "
        "delim='\x01', "
        "quote='', escape='', auto_detect=false, new_line='\\n')"
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

# A line that is not JSON at all (never sent by the client, which checks pages) gets NULL fields.
_FIELDS: Final = ", ".join(f"doc.{name} AS {name}" for name in JSON_COLUMNS)
_PARSE: Final = f"try(json_transform(raw, '{JSON_STRUCTURE}'))"

#: The chunk's records to (re)write, parsed, with their text: the lines in ``sync_delta`` (added
#: or changed), each parsed once.
NEW: Final = f"""
CREATE OR REPLACE TEMP TABLE sync_new AS
SELECT {_FIELDS}, raw, hash
FROM (
    SELECT {_PARSE} AS doc, l.raw, l.hash
    FROM sync_lines AS l
    WHERE l.rowid IN (SELECT i.line FROM sync_incoming AS i JOIN sync_delta AS d USING (id)
                      WHERE d.kind <> 'removed')
)
"""

#: ``NEW`` when every record of the chunk is to be written (a bulk load, after ``stage`` with
#: ``parse``): a view of the lines parsed as they were read, copying nothing.
NEW_ALL: Final = f"""
CREATE OR REPLACE TEMP VIEW sync_new AS
SELECT {_FIELDS}, raw, hash FROM sync_lines
WHERE rowid IN (SELECT line FROM sync_incoming)
"""


class Staged:
    """Records, rejects and repeats over every chunk staged by a run."""

    def __init__(self) -> None:
        self.records = 0
        self.rejected = 0
        self.duplicates = 0


def stage(
    connection: duckdb.DuckDBPyConnection, chunk: Path, staged: Staged, *, parse: bool = False
) -> None:
    """Load ``chunk``'s text (replacing the last chunk's): ``sync_lines(raw, hash, id)`` by line,
    ``sync_incoming(line, id, hash)`` for the ids new in this run, added to ``sync_seen(id)``.

    ``parse``: also parse every line as it is read (``sync_lines.doc``), for ``NEW_ALL``.
    """
    connection.execute("CREATE TEMP TABLE IF NOT EXISTS sync_seen (id VARCHAR)")
    doc = f", {_PARSE} AS doc" if parse else ""
    connection.execute(
        "CREATE OR REPLACE TEMP TABLE sync_lines AS "
        f"SELECT raw, hash, {_ID} AS id{doc} FROM {_read_lines(chunk)}"
    )
    records, with_id = _counts(connection, "SELECT count(*), count(id) FROM sync_lines")
    connection.execute(_INCOMING)
    fresh, unique = _counts(connection, "SELECT count(*), count(DISTINCT id) FROM sync_incoming")
    if unique != fresh:
        connection.execute(_DEDUPLICATE)
    connection.execute("INSERT INTO sync_seen SELECT id FROM sync_incoming")
    staged.records += records
    staged.rejected += records - with_id
    staged.duplicates += with_id - unique
