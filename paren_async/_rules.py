"""Pure paging rules: which page to ask for next, and when a server is not paging at all.

``Plan`` decides the next ``PageRequest`` from what pages brought back: the first page alone; then
slow start, twice as many pages in flight after each page that came back as big as expected, up
to ``concurrency``; after a short page, the next one alone to tell the end from a server
capping pages; the end at a page that brings nothing new. ``Guard`` stops a walk on a server
that ignores ``offset``. No I/O here: ``PageStream`` feeds them and does the fetching.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from ._config import check_concurrency, check_non_negative, check_page_size
from ._exceptions import PaginationError, ResumePoint, UsageError
from ._validators import PageValidators

__all__ = ["STALL_LIMIT", "Guard", "PageRequest", "Plan", "WalkSpec"]

#: Pages in a row holding only records already yielded before the walk gives up: heavy drift
#: can repeat a few pages running; a server ignoring offset repeats forever.
STALL_LIMIT: Final = 10
BadRecords = Literal["skip", "raise"]


@dataclass(frozen=True, slots=True)
class PageRequest:
    offset: int
    limit: int
    #: Leading records expected to repeat what was already yielded (the drift check).
    overlap: int = 0
    #: Asked right after a short page that brought new records: the server just gave that many,
    #: so if only the overlap comes back, that is the end.
    confirm: bool = False
    #: Asked without an overlap, right after a page that brought only its overlap: empty is the
    #: end, anything else is a server capping pages at one record (checked against what was seen).
    probe: bool = False
    #: A drift re-read: never conditional (its records must come back whole).
    reread: bool = False


@dataclass(frozen=True, slots=True)
class WalkSpec:
    """What to walk: where it starts, how big its pages are, and how far it may run ahead."""

    offset: int = 0
    page_size: int = 100
    max_items: int | None = None
    concurrency: int = 8
    #: Overlap pages by one record to detect and repair drift (needs pages of 2 or more).
    drift_check: bool = True
    #: Seconds the whole walk may take, or None.
    deadline: float | None = None
    resume: ResumePoint | None = None
    bad_records: BadRecords = "skip"
    #: Fetches of one page whose body is garbled (or states a 5xx) before giving up.
    attempts: int = 4
    #: Conditional requests for the pages the last walk saw a validator for (raw walks).
    validators: PageValidators | None = None

    @classmethod
    def checked(
        cls, *, offset: int, page_size: int, max_items: int | None, concurrency: int,
        drift_check: bool, deadline: float | None, resume: ResumePoint | None,
        bad_records: BadRecords, attempts: int,
    ) -> WalkSpec:  # fmt: skip
        """The spec of a walk from a caller's options, each checked (``UsageError``)."""
        if deadline is not None and (
            isinstance(deadline, bool) or not isinstance(deadline, (int, float)) or not deadline > 0
        ):
            raise UsageError(f"deadline must be a positive number of seconds, got {deadline!r}")
        if resume is not None:
            if not isinstance(resume, ResumePoint):
                raise UsageError(f"resume must be a ResumePoint, got {type(resume).__name__}")
            check_non_negative("resume.offset", resume.offset)
            if offset:
                raise UsageError("pass offset= or resume=, not both: a resume point has its own")
        if bad_records not in ("skip", "raise"):
            raise UsageError(f"bad_records must be 'skip' or 'raise', got {bad_records!r}")
        return cls(
            offset=check_non_negative("offset", offset) or 0,
            page_size=check_page_size(page_size),
            max_items=check_non_negative("max_items", max_items),
            concurrency=check_concurrency(concurrency),
            drift_check=bool(drift_check),
            deadline=deadline,
            resume=resume,
            bad_records=bad_records,
            attempts=attempts,
        )

    def first(self) -> PageRequest | None:
        """The request a walk starts with; None when ``max_items=0`` asks for nothing."""
        if self.max_items == 0:
            return None
        if self.resume is None or not self.resume.last_ids:
            limit = (
                self.page_size if self.max_items is None else min(self.page_size, self.max_items)
            )
            return PageRequest(self.resume.offset if self.resume else self.offset, limit)
        # Re-read half a page before the point: removals or inserts there while the walk was
        # stopped shift its last record either way, and the stitcher finds it in this page.
        reach = min(self.resume.offset, self.page_size // 2)
        return PageRequest(self.resume.offset - reach, self.page_size, reach)


class Plan:
    """The next page to ask for, the records it should hold, and how many may be in flight."""

    def __init__(self, spec: WalkSpec) -> None:
        self.spec = spec
        self.next: PageRequest | None = spec.first()
        self._overlap = 1 if spec.drift_check and spec.page_size >= 2 else 0
        #: Pages allowed in the window: twice as many after each page that came back as expected.
        self.ramp = 1
        #: Records per page the server really gives, once a short page has shown it.
        self.cap: int | None = None
        #: An offset at which a page came back empty: nothing is asked for at or past it.
        self.end_at: int | None = None

    def assumed(self, request: PageRequest) -> int:
        return request.limit if self.cap is None else min(request.limit, self.cap)

    def take(self, expected_yield: int, yielded: int) -> PageRequest | None:
        """The next request to start, sized to ``max_items``; None when none should start."""
        request = self.next
        if request is None:
            return None
        if self.end_at is not None and request.offset >= self.end_at:
            self.next = None
            return None
        if self.spec.max_items is not None:
            remaining = self.spec.max_items - yielded - expected_yield
            if remaining <= 0:
                return None
            limit = min(request.limit, remaining + request.overlap)
            request = PageRequest(
                request.offset, limit, request.overlap, request.confirm, request.probe
            )
        self.next = self._after(request, self.assumed(request))
        return request

    def _after(self, request: PageRequest, received: int) -> PageRequest:
        overlap = self._overlap if self.cap is None or self.cap > self._overlap else 0
        return PageRequest(request.offset + received - overlap, self.spec.page_size, overlap)

    def came_back(self, request: PageRequest, assumed: int, received: int) -> bool:
        """Learn from a page at the head; True when it was as big as expected (the window may
        grow), False when the pages speculated past it must be dropped."""
        if received == assumed:
            self.ramp *= 2
            return True
        self.ramp = 1
        self.next = self._after_short(request, received)
        return False

    def _after_short(self, request: PageRequest, received: int) -> PageRequest | None:
        if self.cap is not None and received > self.cap:
            self.cap = None  # the server gives more again
            return self._after(request, received)
        if received == 0:
            return None
        if received > request.overlap:
            # The end or a cap: the next page tells, with its overlap (removals in between are
            # repaired as anywhere); only the overlap back is then the end.
            self.cap = received
            after = self._after(request, received)
            return PageRequest(after.offset, after.limit, after.overlap, confirm=True)
        if request.confirm:
            return None
        # Only the overlap after a full page: the end, or a cap lowered to one record.
        return PageRequest(request.offset + received, self.spec.page_size, 0, probe=True)

    def empty_at(self, offset: int) -> None:
        if self.end_at is None or offset < self.end_at:
            self.end_at = offset


class Guard:
    """Stops a walk on a server that does not honour ``offset``, before it loops forever."""

    def __init__(self) -> None:
        self._previous: tuple[int, object] | None = None
        self._repeats = 0
        self._stalled = 0

    def check(self, request: PageRequest, ids: Sequence[object], fresh: int) -> None:
        received = len(ids)
        previous, self._previous = self._previous, (request.offset, ids[0] if ids else None)
        if previous is not None and received >= request.limit and previous[0] < request.offset:
            self._repeats = self._repeats + 1 if previous[1] == ids[0] else 0
            # A burst of page_size - 1 inserts repeats one page once; a server ignoring offset
            # repeats it forever.
            if self._repeats >= (2 if received > 1 else 3):
                raise PaginationError(
                    f"the server returned the same page for offset {request.offset} as for "
                    f"offset {previous[0]}: it seems to ignore the offset parameter"
                )
        # Drift can make one page all repeats; a run of them means the server is not paging.
        self._stalled = 0 if fresh or received <= request.overlap else self._stalled + 1
        if self._stalled >= STALL_LIMIT:
            raise PaginationError(
                f"{STALL_LIMIT} pages in a row up to offset {request.offset} held only records "
                "already yielded: the server does not seem to honour offset"
            )
