"""Pure paging rules: ``Plan`` decides which page to ask for next, ``Guard`` stops a walk on a
server that ignores ``offset``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

from ._config import check_concurrency, check_non_negative, check_page_size
from ._exceptions import PaginationError, ResumePoint, UsageError
from ._validators import PageValidators

#: Pages in a row of records already yielded before giving up: drift repeats a few pages
#: running, a server ignoring offset repeats forever.
STALL_LIMIT: Final = 10
BadRecords = Literal["skip", "raise"]


@dataclass(frozen=True, slots=True)
class PageRequest:
    """``overlap``: leading records expected to repeat what was yielded (the drift check).
    ``confirm``: asked after a short page; only the overlap back is then the end. ``probe``: asked
    without overlap after a page of only its overlap; empty is the end, else a cap of one record.
    ``reread``: a drift re-read, whose records must come back whole (never conditional)."""

    offset: int
    limit: int
    overlap: int = 0
    confirm: bool = False
    probe: bool = False
    reread: bool = False


@dataclass(frozen=True, slots=True)
class WalkSpec:
    """What to walk. ``attempts``: fetches of a page whose body is garbled (or states a 5xx);
    ``validators``: conditional requests for a raw walk."""

    offset: int = 0
    page_size: int = 100
    max_items: int | None = None
    concurrency: int = 8
    drift_check: bool = True
    deadline: float | None = None
    resume: ResumePoint | None = None
    bad_records: BadRecords = "skip"
    attempts: int = 4
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

    def _reach(self, resume: ResumePoint) -> int:
        """Records re-read before a resume point: half a page, as records removed or inserted
        there while the walk was stopped shift its last record yielded either way."""
        return min(resume.offset, self.page_size // 2)

    def last_ids_by(self) -> int:
        """The offset a resume point's last ids end before, even after ``_reach`` inserts while
        stopped; -1 for a walk not resumed."""
        resume = self.resume
        return -1 if resume is None else resume.offset + self._reach(resume) - len(resume.last_ids)

    def first(self) -> PageRequest | None:
        """The request a walk starts with; None when ``max_items=0`` asks for nothing."""
        if self.max_items == 0:
            return None
        if self.resume and self.resume.last_ids:
            reach = self._reach(self.resume)
            return PageRequest(self.resume.offset - reach, self.page_size, reach)
        limit = self.page_size if self.max_items is None else min(self.page_size, self.max_items)
        return PageRequest(self.resume.offset if self.resume else self.offset, limit)


class Plan:
    """The next page to ask for and how many may be in flight: ``ramp``, doubled after each page
    as big as expected; after a short page, the next alone, to tell the end from a ``cap`` (the
    records per page the server really gives). Nothing is asked at or past ``end_at``."""

    def __init__(self, spec: WalkSpec) -> None:
        self.spec = spec
        self.next: PageRequest | None = spec.first()
        self._overlap = 1 if spec.drift_check and spec.page_size >= 2 else 0
        self.ramp = 1
        self.cap: int | None = None
        self.end_at: float = float("inf")

    def assumed(self, request: PageRequest) -> int:
        return request.limit if self.cap is None else min(request.limit, self.cap)

    def take(self, expected_yield: int, yielded: int) -> PageRequest | None:
        """The next request to start, sized to ``max_items``; None when none should start."""
        request = self.next
        if request is None or request.offset >= self.end_at:
            self.next = None
            return None
        if self.spec.max_items is not None:
            remaining = self.spec.max_items - yielded - expected_yield
            if remaining <= 0:
                return None
            request = replace(request, limit=min(request.limit, remaining + request.overlap))
        self.next = self._after(request, self.assumed(request))
        return request

    def _after(self, request: PageRequest, received: int) -> PageRequest:
        overlap = self._overlap if self.cap is None or self.cap > self._overlap else 0
        return PageRequest(request.offset + received - overlap, self.spec.page_size, overlap)

    def came_back(self, request: PageRequest, assumed: int, received: int) -> bool:
        """Learn from a page at the head; False when it was short: drop the pages past it."""
        if received == assumed:
            self.ramp *= 2
            return True
        self.ramp = 1
        if self.cap is not None and received > self.cap:  # the server gives more again
            self.cap = None
            self.next = self._after(request, received)
        elif received > request.overlap:  # the end or a cap: the next page, alone, tells
            self.cap = received
            self.next = replace(self._after(request, received), confirm=True)
        elif received == 0 or request.confirm:
            self.next = None
        else:  # only the overlap after a full page: the end, or a cap lowered to one record
            self.next = PageRequest(request.offset + received, self.spec.page_size, 0, probe=True)
        return False

    def empty_at(self, offset: int) -> None:
        self.end_at = min(self.end_at, offset)


class Guard:
    """Stops a walk on a server that does not honour ``offset``, before it loops forever."""

    def __init__(self) -> None:
        self._previous: tuple[int, object] | None = None
        self._repeats = self._stalled = 0

    def check(self, request: PageRequest, ids: Sequence[object], fresh: int) -> None:
        received, first = len(ids), ids[0] if ids else None
        previous, self._previous = self._previous, (request.offset, first)
        if previous and received >= request.limit and previous[0] < request.offset:
            self._repeats = self._repeats + 1 if previous[1] == first else 0
            # A burst of page_size - 1 inserts repeats a page once; ignoring offset, forever.
            if self._repeats >= (2 if received > 1 else 3):
                raise PaginationError(
                    f"the server returned the same page for offset {request.offset} as for "
                    f"offset {previous[0]}: it seems to ignore the offset parameter"
                )
        self._stalled = 0 if fresh or received <= request.overlap else self._stalled + 1
        if self._stalled >= STALL_LIMIT:
            raise PaginationError(
                f"{STALL_LIMIT} pages in a row up to offset {request.offset} held only records "
                "already yielded: the server does not seem to honour offset"
            )
