"""Offset drift: where each page's new records start, as an I/O-free object fed with ids.

Every page after the first asks for one record of overlap with what was already yielded. If
nothing moved, the page starts with the anchor (the last record yielded). If records were inserted
before the cursor, the anchor appears further into the page and the repeats before it are
dropped. If records were removed before the cursor, nothing of the page was seen before and the
records between the anchor and the page may have been skipped: the walk re-reads the span just
before the page, and ``recover`` says which records there were never yielded and whether the gap
up to the page is closed. When the collection moves again between the page and a re-read, the
gap stays open and the next re-read starts at the last record now known, up to
``MAX_REREADS`` times; a gap still open then is reported (``complete=False``), never hidden.

Only the ids of the last few pages are kept, so memory stays bounded whatever the walk's size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

__all__ = ["MAX_REREADS", "Recovery", "Stitcher"]

_NONE: Final = object()  # no record yielded yet (an id may be None itself)

#: Re-reads spent closing one gap before it is reported as unrecovered.
MAX_REREADS: Final = 4


@dataclass(frozen=True, slots=True)
class Recovery:
    """What a re-read showed: records never yielded, and whether the gap is closed."""

    #: Indexes, in the re-read, of the records the walk skipped, in server order.
    skipped: tuple[int, ...]
    #: The re-read reached the page (or the end): nothing else can be missing in between.
    closed: bool
    #: The re-read found a record already yielded, so it knows where the gap starts.
    anchored: bool
    #: Where the next re-read starts when the gap is not closed.
    next_offset: int = 0


class Stitcher:
    """Feeds on the ids of each page in order; tells where that page's new records start.

    ``last_ids`` are the ids of the last records yielded by an earlier walk being resumed.
    """

    def __init__(self, last_ids: Sequence[object] = ()) -> None:
        self._recent: deque[Sequence[object]] = deque(maxlen=8)
        self._seen: set[object] | None = None
        #: The last record yielded, in server order: the next page should start with it.
        self.anchor: object = _NONE
        #: A resumed walk's last ids, remembered (and every page checked against them) until
        #: its last record is met: records inserted before it while stopped come first.
        self._resumed: frozenset[object] = frozenset(last_ids)
        self._resume_at: object = last_ids[-1] if last_ids else _NONE
        if last_ids:
            self.accept(tuple(last_ids))

    def seen(self) -> set[object]:
        if self._seen is None:
            self._seen = {record_id for ids in self._recent for record_id in ids}
            self._seen |= self._resumed
        return self._seen

    def accept(self, ids: Sequence[object], fresh_from: int = 0) -> None:
        """The page (or re-read) with these ids was consumed: all of it is now behind the cursor.

        The anchor moves only when the page yielded something (``fresh_from < len(ids)``): after
        a page of repeats the last record yielded is still the one before them.
        """
        if ids:
            self._recent.append(ids)
            self._seen = None
            if fresh_from < len(ids):
                self.anchor = ids[-1]

    def place(self, ids: Sequence[object], *, checked: bool, probe: bool = False) -> int | None:
        """Index of the page's first record not yet yielded; None when records may be skipped.

        ``checked``: the page was asked with an overlap, so it must start inside what was seen.
        ``probe``: asked without an overlap to tell the end from a cap: repeats are dropped, but a
        page that shares nothing with what was seen is taken as it is.
        """
        if self.anchor is _NONE:
            return 0
        if self._resume_at is not _NONE:
            if self._resume_at in ids:
                self._resume_at, self._resumed = _NONE, frozenset()
            checked = True
        elif ids and ids[0] == self.anchor:
            return 1  # the common case, one comparison
        if not checked and not probe:
            return 0
        seen = self.seen()
        for index in range(len(ids) - 1, -1, -1):
            if ids[index] in seen:
                return index + 1
        return None if checked else 0

    @staticmethod
    def reread(page_offset: int, span: int) -> tuple[int, int]:
        """``(offset, limit)`` of the re-read before a page: ``span`` records back, and the page's
        first position, so that the re-read overlaps both what was yielded and the page."""
        start = max(0, page_offset - span)
        return start, page_offset - start + 1

    def recover(
        self,
        read_offset: int,
        read_ids: Sequence[object],
        page_first: object | None,
        *,
        read_short: bool = True,
    ) -> Recovery:
        """Which records of a re-read were never yielded, up to the page's first record.

        ``page_first`` is None when the page came back empty: the gap then runs to the end, which
        only a re-read that came back short (``read_short``) has reached.
        """
        seen = self.seen()
        last_seen = next((i for i in range(len(read_ids) - 1, -1, -1) if read_ids[i] in seen), -1)
        stop = len(read_ids)
        if page_first is not None:
            stop = next(
                (i for i in range(last_seen + 1, len(read_ids)) if read_ids[i] == page_first), stop
            )
        skipped = tuple(i for i in range(last_seen + 1, stop) if read_ids[i] not in seen)
        closed = (page_first is None and read_short) or stop < len(read_ids) or last_seen < 0
        last_known = skipped[-1] if skipped else last_seen
        return Recovery(skipped, closed, last_seen >= 0, read_offset + max(last_known, 0))
