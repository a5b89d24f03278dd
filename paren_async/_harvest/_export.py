"""Turn a finished journal (raw NDJSON) into the requested output format, streaming in batches.

The journal stays the single source of truth: exporting is a pure function of its bytes, so an
export interrupted by a crash is simply done again. Output goes to a temporary file, is fsynced,
and only then renamed over ``--out``.

Each record is flattened on its own (``_rows.flatten``). One the typed models refuse is written,
exactly as it was received, to the rejects file and counted: it never stops the export, and
resuming cannot get stuck on it.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Final, Literal

from ._columns import ARROW_TYPES
from ._ids import record_key
from ._rows import Family, RowError, Value, columns, flatten

__all__ = ["FORMATS", "ExportStopped", "Format", "Rejects", "export", "parquet_missing"]

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


class Rejects:
    """Records that could not become rows: written raw, one per line, to ``path``; counted.

    The file is created at the first reject only; ``examples`` keeps the first few reasons.
    """

    EXAMPLES: Final = 3

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.examples: list[str] = []
        self._file: BinaryIO | None = None

    def add(self, line_number: int, line: bytes, reason: str) -> None:
        if self._file is None:
            self._file = open(self.path, "wb")  # noqa: SIM115 - closed by close()
        self._file.write(line if line.endswith(b"\n") else line + b"\n")
        self.count += 1
        if len(self.examples) < self.EXAMPLES:
            key = record_key(line.rstrip(b"\r\n"))
            shown = key.decode(errors="replace") if key is not None else "no id"
            self.examples.append(f"line {line_number} ({shown}): {reason}")

    def close(self) -> None:
        """Close the file, fsynced; call it whatever happened."""
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.flush()
                os.fsync(file.fileno())
            finally:
                file.close()


def _batches(
    journal: Path, family: Family, stop: Callable[[], bool], rejects: Rejects
) -> Iterator[list[tuple[Value, ...]]]:
    batch: list[tuple[Value, ...]] = []
    with open(journal, "rb") as file:
        for number, line in enumerate(file, 1):
            try:
                batch.append(flatten(line, family))
            except RowError as exc:
                rejects.add(number, line, str(exc))
                continue
            if len(batch) >= BATCH:
                if stop():
                    raise ExportStopped
                yield batch
                batch = []
    if batch:
        yield batch


def export(
    journal: Path,
    target: Path,
    fmt: Format,
    family: Family,
    stop: Callable[[], bool],
    rejects: Rejects,
) -> int:
    """Write ``journal`` as ``fmt`` to ``target`` (fsynced); returns the rows written.

    Records that cannot become rows go to ``rejects`` (closed on return, fsynced). ``stop`` is
    polled between batches: when it turns true, ``ExportStopped`` is raised.
    """
    try:
        if fmt == "csv":
            return _export_csv(journal, target, family, stop, rejects)
        if fmt == "parquet":
            return _export_parquet(journal, target, family, stop, rejects)
        raise ValueError(f"no export for {fmt!r}")
    finally:
        rejects.close()


def _iso(value: Value) -> Value:
    if not isinstance(value, datetime):
        return value
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _export_csv(
    journal: Path, target: Path, family: Family, stop: Callable[[], bool], rejects: Rejects
) -> int:
    cols = columns(family)
    stamps = [i for i, column in enumerate(cols) if column.kind == "timestamp"]
    count = 0
    with open(target, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow([column.name for column in cols])
        for batch in _batches(journal, family, stop, rejects):
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


def _export_parquet(
    journal: Path, target: Path, family: Family, stop: Callable[[], bool], rejects: Rejects
) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = columns(family)
    schema = pa.schema(
        [
            pa.field(
                column.name,
                pa.timestamp("us", tz="UTC")
                if column.kind == "timestamp"
                else pa.type_for_alias(ARROW_TYPES[column.kind]),
            )
            for column in cols
        ]
    )
    count = 0
    with open(target, "wb") as file:
        writer: Any = pq.ParquetWriter(file, schema)
        try:
            for batch in _batches(journal, family, stop, rejects):
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
