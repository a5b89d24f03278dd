"""What a walk has yielded, with no I/O: its account, its resume point, and the cut of each page."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any, Final, TypeVar

import msgspec

from ._decoding import RAW
from ._exceptions import ResumePoint
from ._http import Response
from ._statistics import WalkStatistics
from .models import BadRecord, Page

T = TypeVar("T")
RESUME_IDS: Final = 8  # the last ids yielded that a ResumePoint carries


class LazyIds(Sequence[object]):
    """The ids of a page's records, each computed when asked for (raw records must be parsed)."""

    def __init__(self, entries: Sequence[Any], record_id: Callable[[Any], object]) -> None:
        self._entries, self._record_id = entries, record_id

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return LazyIds(self._entries[index], self._record_id)
        return self._record_id(self._entries[index])


def entry_id(record_id: Callable[[Any], object], entry: Any) -> object:
    return entry.id if isinstance(entry, BadRecord) else record_id(entry)


class Ledger:
    """Counts, position and the last ids yielded. It holds nothing of the walk's, so a pager can
    keep it after the walk is dropped (and its fetches cancelled)."""

    def __init__(self, start: int, resume: ResumePoint | None, entry_id: Callable[[Any], object]):
        self.counts = {f.name: 0 for f in fields(WalkStatistics) if f.name != "complete"}
        self.position = resume.offset if resume else start
        self._tail: tuple[Sequence[object], ...] = (tuple(resume.last_ids),) if resume else ()
        self._entry_id = entry_id
        #: The page an items iterator is handing out, and the iterator over what is left of it.
        self.partial: tuple[Page[Any], Any] | None = None
        self.ended = False  # the walk reached its end (not a break, an error or a close)

    def drift(self, duplicates: int, recovered: int, complete: bool) -> None:
        self.counts["drift_events"] += 1
        self.counts["duplicates_dropped"] += duplicates
        self.counts["records_recovered"] += recovered
        self.counts["unrecovered_drift"] += not complete

    def statistics(self) -> WalkStatistics:
        counts = self.counts
        complete = self.ended and not counts["unrecovered_drift"] and not counts["bad_records"]
        return WalkStatistics(**counts, complete=complete)

    @property
    def resume(self) -> ResumePoint:
        position, tail = self.position, self._tail
        if self.partial is not None:  # records handed out one by one: count only those taken
            page, left = self.partial
            if remaining := left.__length_hint__():
                position = page.offset + len(page.items) - remaining
                tail = (*tail[:-1], LazyIds(page.items[:-remaining], self._entry_id))
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
            room = max_items - self.counts["records"]
            good = [i for i, entry in enumerate(fresh) if not isinstance(entry, BadRecord)]
            full = len(good) >= room
            if len(good) > room:
                fresh = fresh[: good[room]]
        items: tuple[Any, ...] = tuple(fresh)
        rejected: tuple[BadRecord, ...] = ()
        unchanged: tuple[Any, ...] = ()
        if page.unchanged:  # a 304: the fresh entries are ids of records not sent again
            items, unchanged = (), items
        elif mixed:
            rejected = tuple(e for e in items if isinstance(e, BadRecord))
            items = tuple(e for e in items if not isinstance(e, BadRecord))
        self.position = begin + max(0, len(fresh) - recovered)
        if fresh:  # ids, not records: records kept a page longer cost as much as their decoding
            self._tail = (*self._tail[-1:], fresh_ids[: len(fresh)])
        self.counts["records"] += len(items) + len(unchanged)
        self.counts["bad_records"] += len(rejected)
        offset = self.position - len(fresh)
        cut = msgspec.structs.replace(
            page, offset=offset, items=items, rejected=rejected, unchanged=unchanged
        )
        return cut, full


def order(
    page: Page[Any], record_id: Callable[[Any], object], cheap_ids: bool
) -> tuple[Sequence[object], Sequence[Any]]:
    """The page's ids and entries in server order, bad records in their places (an unchanged
    page's entries are its ids)."""
    if page.unchanged:
        return page.unchanged, page.unchanged
    if not page.rejected:
        ids = tuple(map(record_id, page.items)) if cheap_ids else LazyIds(page.items, record_id)
        return ids, page.items
    entries: list[Any] = list(page.items)
    for bad in page.rejected:
        entries.insert(bad.offset - page.offset, bad)
    return LazyIds(entries, functools.partial(entry_id, record_id)), entries


def clip(page: Page[T], limit: int) -> Page[T]:
    """At most ``limit`` records: a surplus would repeat in the next page."""
    end = page.offset + limit
    items = page.items[: limit - sum(bad.offset < end for bad in page.rejected)]
    rejected = tuple(bad for bad in page.rejected if bad.offset < end)
    return msgspec.structs.replace(page, items=items, rejected=rejected)


def is_empty(response: Response) -> bool:
    """Whether a (small) 2xx body is a page with no records; False when unsure."""
    try:
        return 200 <= response.status < 300 and RAW.page.decode(response.body).data == ()
    except (msgspec.DecodeError, RecursionError):
        return False
