"""Turn a finished journal (raw NDJSON) into the requested output format, streaming in batches.

The journal stays the single source of truth: exporting is a pure function of its bytes, so an
export interrupted by a crash is simply done again. Output goes to a temporary file, is fsynced,
and only then renamed over ``--out``.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

from ._rows import Family, Value, columns, decoder_for, row

__all__ = ["FORMATS", "ExportStopped", "Format", "export", "parquet_missing"]

Format = Literal["ndjson", "csv", "parquet"]
FORMATS: Final[tuple[Format, ...]] = ("ndjson", "csv", "parquet")
BATCH: Final = 20_000

PARQUET_MISSING: Final = (
    "Parquet output needs pyarrow: pip install 'paren-async[parquet]' (or choose --format csv)"
)


class ExportStopped(Exception):
    """The export was asked to stop (SIGINT/SIGTERM); the journal is intact."""


def parquet_missing() -> str | None:
    """The message to show when pyarrow cannot be imported, else None."""
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return PARQUET_MISSING
    return None


def _batches(
    journal: Path, family: Family, stop: Callable[[], bool]
) -> Iterator[list[tuple[Value, ...]]]:
    decode = decoder_for(family)
    batch: list[tuple[Value, ...]] = []
    with open(journal, "rb") as file:
        for line in file:
            batch.append(row(decode(line)))
            if len(batch) >= BATCH:
                if stop():
                    raise ExportStopped
                yield batch
                batch = []
    if batch:
        yield batch


def export(
    journal: Path, target: Path, fmt: Format, family: Family, stop: Callable[[], bool]
) -> int:
    """Write ``journal`` as ``fmt`` to ``target`` (fsynced); returns the rows written.

    ``stop`` is polled between batches: when it turns true, ``ExportStopped`` is raised.
    """
    if fmt == "csv":
        return _export_csv(journal, target, family, stop)
    if fmt == "parquet":
        return _export_parquet(journal, target, family, stop)
    raise ValueError(f"no export for {fmt!r}")


def _iso(value: Value) -> Value:
    if not isinstance(value, datetime):
        return value
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _export_csv(journal: Path, target: Path, family: Family, stop: Callable[[], bool]) -> int:
    cols = columns(family)
    stamps = [i for i, column in enumerate(cols) if column.kind == "timestamp"]
    count = 0
    with open(target, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow([column.name for column in cols])
        for batch in _batches(journal, family, stop):
            if stamps:
                for i, values in enumerate(batch):
                    cells = list(values)
                    for j in stamps:
                        cells[j] = _iso(cells[j])
                    batch[i] = tuple(cells)
            writer.writerows(batch)
            count += len(batch)
        file.flush()
        os.fsync(file.fileno())
    return count


_ARROW_TYPES: Final = {"string": "string", "float": "float64", "int": "int32"}


def _export_parquet(journal: Path, target: Path, family: Family, stop: Callable[[], bool]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = columns(family)
    schema = pa.schema(
        [
            pa.field(
                column.name,
                pa.timestamp("us", tz="UTC")
                if column.kind == "timestamp"
                else pa.type_for_alias(_ARROW_TYPES[column.kind]),
            )
            for column in cols
        ]
    )
    count = 0
    with open(target, "wb") as file:
        writer: Any = pq.ParquetWriter(file, schema)
        try:
            for batch in _batches(journal, family, stop):
                arrays = [
                    pa.array(list(values), type=field.type)
                    for values, field in zip(zip(*batch, strict=True), schema, strict=True)
                ]
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
                count += len(batch)
            if count == 0:
                writer.write_table(schema.empty_table())
        finally:
            writer.close()
        file.flush()
        os.fsync(file.fileno())
    return count
