"""Offset drift, from page ids alone (no I/O): where each page's new records start.

Each page after the first overlaps the last record yielded (the anchor). Inserts before the cursor
push it further into the page: the repeats before it are dropped. Removals leave the page sharing
nothing with what was seen: the span before it is re-read (``recover``), again from the last record
known if the collection moved meanwhile, at most ``MAX_REREADS`` times; a gap still open is then
reported, never hidden. Only the last few pages' ids are kept, so memory stays bounded.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

_NONE: Final = object()  # no record yielded yet (an id may be None itself)
MAX_REREADS: Final = 4


@dataclass(frozen=True, slots=True)
class Recovery:
    """A re-read's ``skipped`` records (their indexes); ``closed`` when it reached the page or the
    end; ``anchored`` when it met a record already yielded; ``next_offset``, the next re-read's."""

    skipped: tuple[int, ...]
    closed: bool
    anchored: bool
    next_offset: int


class Stitcher:
    """Fed each page's ids in order, tells where its new records start. ``last_ids``, a resumed
    walk's, are checked against every page until the last is met: inserts before it come first."""

    def __init__(self, last_ids: Sequence[object] = ()) -> None:
        self._recent: deque[Sequence[object]] = deque(maxlen=8)
        self.anchor: object = _NONE
        self._resumed: frozenset[object] = frozenset(last_ids)
        self._resume_at: object = last_ids[-1] if last_ids else _NONE
        self._held: list[tuple[object, Any]] = []
        self.accept(tuple(last_ids))

    def seen(self) -> set[object]:
        return {record_id for page in self._recent for record_id in page} | self._resumed

    def accept(self, ids: Sequence[object], fresh_from: int = 0) -> None:
        """These ids are behind the cursor; the anchor moves only if some of them were fresh."""
        if ids:
            self._recent.append(ids)
            if fresh_from < len(ids):
                self.anchor = ids[-1]

    def hold(self, ids: Sequence[object], entries: Sequence[Any]) -> bool:
        """Keep back a page that ends short of where a resumed walk's last ids can be and holds
        none of them (a server capping pages below the re-read before the point): the earlier
        walk yielded it, unless those ids are all gone (``release``). False: not such a page."""
        if self._resume_at is _NONE or not self._resumed.isdisjoint(ids):
            return False
        repeat = bool(self._held) and bool(ids) and self._held[-1][0] == ids[0]  # the overlap
        self._held += list(zip(ids, entries, strict=True))[repeat:]
        return True

    def release(self) -> list[Any]:
        """The records held back, once a page shows the resumed walk's last ids are gone."""
        held, self._held = self._held, []
        return [entry for _, entry in held]

    def place(self, ids: Sequence[object], *, checked: bool, probe: bool = False) -> int | None:
        """Index of the page's first record not yet yielded; None when records may be skipped
        (``checked``: asked with an overlap). A ``probe`` drops repeats, else is taken whole."""
        if self.anchor is _NONE:
            return 0
        if self._resume_at is not _NONE:
            return self._place_resumed(ids)
        if ids and ids[0] == self.anchor:
            return 1  # the common case, one comparison
        if not checked and not probe:
            return 0
        last = _last_in(ids, self.seen())
        return last + 1 if last >= 0 or not checked else None

    def _place_resumed(self, ids: Sequence[object]) -> int | None:
        """Every page is checked until the resume point's last id is met: after the last id seen
        all is new (records inserted before the point come first)."""
        last = _last_in(ids, self.seen())
        if self._resume_at in ids:  # met: the point's ids are forgotten from here on
            self._resume_at, self._resumed = _NONE, frozenset()
        if last < 0:
            return None
        self._held = []  # one of the point's ids was met: what was held is behind it
        return last + 1

    @staticmethod
    def reread(page_offset: int, span: int) -> tuple[int, int]:
        """``(offset, limit)`` of a re-read ``span`` records back, up to the page's first record."""
        start = max(0, page_offset - span)
        return start, page_offset - start + 1

    def recover(
        self, offset: int, ids: Sequence[object], page_first: object, *, read_short: bool = True
    ) -> Recovery:
        """Which records of a re-read were never yielded, up to the page's first record (None
        when the page was empty: then only a re-read that came back short reached the end)."""
        seen = self.seen()
        last_seen = _last_in(ids, seen)
        stop = len(ids)
        if page_first is not None:
            stop = next((i for i in range(last_seen + 1, len(ids)) if ids[i] == page_first), stop)
        skipped = tuple(i for i in range(last_seen + 1, stop) if ids[i] not in seen)
        closed = (page_first is None and read_short) or stop < len(ids) or last_seen < 0
        last_known = skipped[-1] if skipped else last_seen
        return Recovery(skipped, closed, last_seen >= 0, offset + max(last_known, 0))


def _last_in(ids: Sequence[object], seen: set[object]) -> int:
    return next((i for i in range(len(ids) - 1, -1, -1) if ids[i] in seen), -1)
