"""What a walk has yielded so far: its account, its resume point, and the cut of each page.

Pure bookkeeping, no I/O: ``PageStream`` feeds it the records each page brings and reads back
the page to yield, the walk's ``WalkStatistics`` and its ``ResumePoint``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

import msgspec

from ._exceptions import ResumePoint
from ._http import Response
from ._statistics import WalkStatistics
from .models import BadRecord, Page

__all__ = ["RESUME_IDS", "LazyIds", "Ledger", "clip", "entry_id", "is_empty", "order"]

T = TypeVar("T")

#: Ids of the last records yielded that a ``ResumePoint`` carries.
RESUME_IDS: Final = 8
_COUNTS: Final = (
    "records", "pages", "requests", "drift_events", "duplicates_dropped", "records_recovered",
    "unrecovered_drift", "bad_records",
)  # fmt: skip


class LazyIds(Sequence[object]):
    """The ids of a page's records, each computed when asked for (raw records must be parsed)."""

    __slots__ = ("_entries", "_record_id")

    def __init__(self, entries: Sequence[Any], record_id: Callable[[Any], object]) -> None:
        self._entries = entries
        self._record_id = record_id

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return LazyIds(self._entries[index], self._record_id)
        return self._record_id(self._entries[index])


def entry_id(record_id: Callable[[Any], object], entry: Any) -> object:
    """The id of a record, or of a ``BadRecord`` standing in its place."""
    return entry.id if isinstance(entry, BadRecord) else record_id(entry)


class Ledger:
    """Counts, position and the last ids yielded; ``entry_id`` reads a record's (or a
    ``BadRecord``'s) id. It holds nothing of the walk's, so a pager can keep it after the walk
    is dropped (and its fetches cancelled)."""

    def __init__(self, start: int, resume: ResumePoint | None, entry_id: Callable[[Any], object]):
        self.counts = dict.fromkeys(_COUNTS, 0)
        self.position = resume.offset if resume else start
        self._tail: tuple[Sequence[object], ...] = (tuple(resume.last_ids),) if resume else ()
        self._entry_id = entry_id
        #: The page an items iterator is handing out, and the iterator over what is left of it.
        self.partial: tuple[Page[Any], Any] | None = None
        #: The walk reached its end (not a break, an error or a close).
        self.ended = False

    def drift(self, duplicates: int, recovered: int, complete: bool) -> None:
        counts = self.counts
        counts["drift_events"] += 1
        counts["duplicates_dropped"] += duplicates
        counts["records_recovered"] += recovered
        counts["unrecovered_drift"] += not complete

    def statistics(self) -> WalkStatistics:
        counts = self.counts
        complete = self.ended and not counts["unrecovered_drift"] and not counts["bad_records"]
        return WalkStatistics(**counts, complete=complete)

    @property
    def resume(self) -> ResumePoint:
        position, tail = self.position, self._tail
        if self.partial is not None:  # records handed out one by one: count only those taken
            page, left = self.partial
            remaining = left.__length_hint__()
            if remaining:
                taken = len(page.items) - remaining
                position = page.offset + taken
                tail = (*tail[:-1], LazyIds(page.items[:taken], self._entry_id))
        ids = [record_id for ids in tail for record_id in ids][-RESUME_IDS:]
        return ResumePoint(position, tuple(ids))

    def cut(
        self,
        page: Page[T],
        fresh: Sequence[Any],
        fresh_ids: Sequence[object],
        *,
        begin: int,
        recovered: int,
        mixed: bool,
        max_items: int | None,
    ) -> tuple[Page[T], bool]:
        """The page to yield from ``fresh`` (``recovered`` re-read records, then the page's own
        from offset ``begin``), and whether ``max_items`` is reached with it."""
        full = False
        if max_items is not None:
            room, kept = max_items - self.counts["records"], 0
            for index, entry in enumerate(fresh):
                kept += not isinstance(entry, BadRecord)
                if kept > room:
                    fresh = fresh[:index]
                    break
            full = kept >= room
        unchanged: tuple[Any, ...] = ()
        items: tuple[Any, ...]
        rejected: tuple[BadRecord, ...]
        if page.unchanged:  # a 304: the fresh entries are ids of records not sent again
            items, rejected, unchanged = (), (), tuple(fresh)
        elif mixed:
            items = tuple(e for e in fresh if not isinstance(e, BadRecord))
            rejected = tuple(e for e in fresh if isinstance(e, BadRecord))
        else:
            items, rejected = tuple(fresh), ()
        self.position = begin + max(0, len(fresh) - recovered)
        if fresh:
            # Ids, never records: records kept alive a page longer are freed from cold memory,
            # which costs about as much as decoding them did (benchmarks/PROFILE.md).
            self._tail = (*self._tail[-1:], fresh_ids[: len(fresh)])
        self.counts["records"] += len(items) + len(unchanged)
        self.counts["bad_records"] += len(rejected)
        cut: Page[T] = Page(
            offset=self.position - len(fresh),
            limit=page.limit,
            items=items,
            duration=page.duration,
            timestamp=page.timestamp,
            rejected=rejected,
            unchanged=unchanged,
        )
        return cut, full


def order(
    page: Page[Any], record_id: Callable[[Any], object], cheap_ids: bool
) -> tuple[Sequence[object], Sequence[Any]]:
    """The page's ids and entries in server order, bad records in their places (an unchanged
    page's entries are its ids)."""
    if page.unchanged:
        return page.unchanged, page.unchanged
    entries: Sequence[Any] = page.items
    if page.rejected:
        merged: list[Any] = list(page.items)
        for bad in page.rejected:
            merged.insert(bad.offset - page.offset, bad)
        entries = merged
    if cheap_ids and not page.rejected:
        return tuple(map(record_id, page.items)), entries
    return LazyIds(entries, functools.partial(entry_id, record_id)), entries


def clip(page: Page[T], limit: int) -> Page[T]:
    """At most ``limit`` records: a surplus would repeat in the next page."""
    end = page.offset + limit
    items = page.items[: limit - sum(bad.offset < end for bad in page.rejected)]
    rejected = tuple(bad for bad in page.rejected if bad.offset < end)
    return msgspec.structs.replace(page, items=items, rejected=rejected)


class _Count(msgspec.Struct, gc=False):
    data: list[msgspec.Raw] | None = None


_COUNT: Final = msgspec.json.Decoder(_Count)


def is_empty(response: Response) -> bool:
    """Whether a (small) 2xx body is a page with no records; False when unsure."""
    if not 200 <= response.status < 300:
        return False
    try:
        return _COUNT.decode(response.body).data == []
    except (msgspec.DecodeError, RecursionError):
        return False
