"""Record identity for de-duplication, read from a record's raw JSON without decoding it.

A harvest keeps every id it has written, so a record repeated by offset drift (or by a resumed
walk starting where the collection has since shifted) is written once. Paren writes ``id`` first,
so the common case is a slice of the bytes after ``{"id":"``; anything else (other key order,
whitespace, escapes, a non-string id) goes through a one-field msgspec decoder. Both give the
same key for the same id: the UTF-8 bytes of the id string.

Memory: about 100 bytes per id (a small bytes object plus its set slot), ~100 MB per million
records; the ids are all a harvest keeps in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import BinaryIO, Final

import msgspec

__all__ = ["IdSet", "record_key"]

_PREFIX: Final = b'{"id":"'
_QUOTE: Final = 0x22
_NOT_STRING: Final = b"\x00"  # prefixes a non-string id's JSON, so 7 and "7" stay distinct


class _IdOnly(msgspec.Struct, gc=False):
    id: object = None


_DECODE_ID: Final = msgspec.json.Decoder(_IdOnly).decode
_ENCODE: Final = msgspec.json.encode


def record_key(record: bytes) -> bytes | None:
    """The de-duplication key of one record's JSON, or None when it has no usable id."""
    if record.startswith(_PREFIX):
        end = record.find(_QUOTE, 7)
        key = record[7:end]
        if end > 0 and b"\\" not in key:
            return key
    return _slow_key(record)


def _slow_key(record: bytes) -> bytes | None:
    try:
        value = _DECODE_ID(record).id
    except msgspec.DecodeError:
        return None
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode()
    return _NOT_STRING + _ENCODE(value)


class IdSet:
    """The ids written so far; ``fresh()`` filters a page down to records not seen before."""

    __slots__ = ("_seen", "duplicates")

    def __init__(self) -> None:
        self._seen: set[bytes] = set()
        #: Records dropped by ``fresh()`` because their id was already written.
        self.duplicates = 0

    def __len__(self) -> int:
        return len(self._seen)

    def known(self, record: bytes) -> bool:
        """Whether ``record``'s id was written already (a record without an id never was)."""
        key = record_key(record)
        return key is not None and key in self._seen

    def fresh(self, records: Sequence[bytes]) -> list[bytes]:
        """The records whose id is new, in order; records without an id are always kept."""
        # The common page, whole: every record starts with its id, no id is escaped or repeated.
        # Set operations on the page's keys cost far less than a Python step per record.
        keys = [r[7 : r.find(_QUOTE, 7)] if r.startswith(_PREFIX) else None for r in records]
        batch = set(keys)
        if (
            len(batch) == len(keys)
            and None not in batch
            and self._seen.isdisjoint(batch)
            and b"\\" not in b"".join(keys)  # type: ignore[arg-type]  # None excluded above
        ):
            self._seen |= batch  # type: ignore[arg-type]
            return list(records)
        return self._fresh_one_by_one(records)

    def _fresh_one_by_one(self, records: Sequence[bytes]) -> list[bytes]:
        seen = self._seen
        kept: list[bytes] = []
        for record in records:
            key = record_key(record)
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            kept.append(record)
        self.duplicates += len(records) - len(kept)
        return kept

    def load(self, lines: Iterable[bytes]) -> int:
        """Remember the ids of already-written records (one per line); returns how many lines."""
        count = 0
        add = self._seen.add
        for line in lines:
            key = record_key(line.rstrip(b"\r\n"))
            if key is not None:
                add(key)
            count += 1
        return count

    def load_file(self, file: BinaryIO, size: int) -> int:
        """``load()`` the first ``size`` bytes of an NDJSON file (which end with a newline)."""
        file.seek(0)
        remaining = size
        count = 0
        tail = b""
        while remaining > 0:
            chunk = file.read(min(remaining, 1 << 22))
            if not chunk:
                break
            remaining -= len(chunk)
            lines = (tail + chunk).split(b"\n")
            tail = lines.pop()
            count += self.load(lines)
        if tail:
            count += self.load((tail,))
        return count
