"""Offset drift: pure rules for stitching pages of a collection that changes during a walk.

Every page after the first asks for one record of overlap with the page before it. If nothing
moved, the page's first record is the previous page's last one. If records were inserted before
the cursor, the previous last record appears further into the page: the records before it were
already yielded and are dropped. If records were removed before the cursor, the previous last
record is missing from the page: the walk re-reads the previous page's span, and every record
there that neither of the last two pages held was skipped and is recovered (two pages, because
inserts since may have pushed records of the page before into the span).

Only the last two pages are kept, so memory stays bounded whatever the walk's size.
The recovery reaches back ``page_size - 1`` records: more removals than that between the fetches
of two neighbouring pages (which happen milliseconds apart) are reported, not recovered.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

__all__ = ["Recovery", "fresh_start", "recover_skipped"]


def fresh_start(page_ids: Sequence[object], previous_last: object) -> int | None:
    """Index of the page's first record not yet yielded; None when records were skipped.

    ``fresh_start(ids, last) - 1`` records at the head of the page repeat what was yielded: one is
    the planned overlap, the rest are duplicates caused by insertions before the cursor.
    """
    try:
        return page_ids.index(previous_last) + 1
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Recovery:
    #: Indexes, in the re-read, of the records the walk skipped, in server order.
    skipped: tuple[int, ...]
    #: True when the re-read reached back into records already yielded, so nothing else is missing.
    complete: bool


def recover_skipped(
    reread_ids: Sequence[object], page_first: object, previous_ids: Collection[object]
) -> Recovery:
    """Which records of a re-read window (the records just before a page) were never yielded.

    They are those before the page's first record that the previous page did not hold.
    """
    stop = reread_ids.index(page_first) if page_first in reread_ids else len(reread_ids)
    skipped = tuple(i for i in range(stop) if reread_ids[i] not in previous_ids)
    complete = stop > 0 and reread_ids[0] in previous_ids
    return Recovery(skipped, complete)
