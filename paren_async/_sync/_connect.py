"""The sync's connection to its DuckDB file, attached with row groups sized for a sync.

DuckDB writes the full row groups of a transaction's bulk inserts to the file ahead of the
commit (unreferenced until the commit: a killed run leaves only free blocks, which DuckDB reuses).
With its default row group (122,880 rows) a first sync of 100,000 locations fills none, so all
of ``locations`` (the raw JSON is most of it) was compressed and written at the commit, after
the walk. Row groups of ``ROW_GROUP_SIZE`` rows are written as the chunks are applied, while the
walk goes on, and leave little for the commit.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import duckdb

__all__ = ["ALIAS", "ROW_GROUP_SIZE", "connect"]

#: Rows per row group of what a sync writes: a multiple of DuckDB's vector size (2,048).
ROW_GROUP_SIZE: Final = 20_480
#: The name the database file is attached under (and made the default catalog).
ALIAS: Final = "paren_sync"


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection whose default catalog is the DuckDB file at ``path`` (created if missing).

    Raises ``duckdb.Error`` if the file is locked by another process or is not a DuckDB file.
    """
    import duckdb

    connection = duckdb.connect()
    quoted = "'" + str(path).replace("'", "''") + "'"
    try:
        try:
            connection.execute(f"ATTACH {quoted} AS {ALIAS} (ROW_GROUP_SIZE {ROW_GROUP_SIZE})")
        except (
            duckdb.BinderException,
            duckdb.InvalidInputException,
            duckdb.NotImplementedException,
        ):
            # A DuckDB without the option, or a storage version that cannot hold it: DuckDB's
            # row groups are only slower for a first sync, never wrong.
            connection.execute(f"ATTACH {quoted} AS {ALIAS}")
        connection.execute(f"USE {ALIAS}")
    except BaseException:
        connection.close()
        raise
    return connection
