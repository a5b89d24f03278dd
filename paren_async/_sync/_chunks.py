"""The walk's records as a series of chunk files (hash and JSON per line), each handed over once
it is complete.

Chunks let the database apply a walk while it goes on: a latency-bound walk leaves the CPU idle,
and DuckDB (which releases the GIL) uses it. A chunk is scratch: ``INTO.sync.N.ndjson`` beside
the database, deleted once applied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from hashlib import md5
from pathlib import Path
from typing import BinaryIO, Final

__all__ = ["CHUNK_RECORDS", "Chunks", "as_lines"]

#: Records per chunk: big enough that DuckDB's per-statement costs are amortised, small enough
#: that the last chunk, applied after the walk, is quick.
CHUNK_RECORDS: Final = 10_000
#: A chunk of at least this many records is handed over early when the receiver is idle: the
#: database keeps pace with the walk, and what is left to apply when the walk ends is small.
CHUNK_MINIMUM: Final = 2_000


def as_lines(records: Sequence[bytes]) -> bytes:
    """Lines for ``records``: ``md5 hex digest``, ``\\x01``, the record as is, ``\\n``.

    The hash (of the bytes stored as ``raw``) is computed here, on the event loop that a walk
    leaves mostly idle, rather than in DuckDB, whose one thread is the busier. JSON strings
    cannot hold a raw line break, so a record holding one was pretty-printed and its line breaks
    are whitespace: they become spaces, keeping one record per line. The server's encoder
    settings are the same for every record, so the first and last stand for the page.
    """
    if records and any(b"\n" in r or b"\r" in r for r in (records[0], records[-1])):
        records = [r.replace(b"\r", b" ").replace(b"\n", b" ") for r in records]
    return b"".join([md5(r).hexdigest().encode() + b"\x01" + r + b"\n" for r in records])


class Chunks:
    """Writes pages of records to chunk files; ``ready(path)`` receives each complete one.

    ``close()`` hands over the last chunk, an empty one if nothing was written, so that the
    receiver always gets at least one. A chunk is handed over at ``size`` records, or at
    ``minimum`` if ``idle()`` says the receiver has nothing left to do.
    """

    def __init__(
        self,
        stem: Path,
        ready: Callable[[Path], None],
        *,
        size: int = CHUNK_RECORDS,
        minimum: int = CHUNK_MINIMUM,
        idle: Callable[[], bool] = lambda: False,
    ) -> None:
        self._stem = stem
        self._ready = ready
        self._size = size
        self._minimum = min(minimum, size)
        self._idle = idle
        self._index = 0
        self._count = 0
        self._file: BinaryIO | None = None
        self._path = stem
        self.records = 0

    def _open(self) -> BinaryIO:
        self._path = self._stem.with_name(f"{self._stem.name}.{self._index}.ndjson")
        self._index += 1
        self._count = 0
        self._file = self._path.open("wb")
        return self._file

    def write(self, records: Sequence[bytes]) -> None:
        file = self._file or self._open()
        file.write(as_lines(records))
        self._count += len(records)
        self.records += len(records)
        if self._count >= self._size or (self._count >= self._minimum and self._idle()):
            self._hand_over()

    def _hand_over(self) -> None:
        assert self._file is not None
        self._file.close()
        self._file = None
        self._ready(self._path)

    def close(self) -> None:
        """Hand over the last chunk (an empty one if none was handed over yet)."""
        if self._file is None and self._index == 0:
            self._open()
        if self._file is not None:
            self._hand_over()

    def discard(self) -> None:
        """Close without handing over; delete the chunk being written."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self._path.unlink(missing_ok=True)
