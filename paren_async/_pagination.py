"""The offset walk: a pure next-page rule and an ordered, bounded window of concurrent fetches.

Paren pages carry no total and no next link: a walk ends at the first page that brings nothing
new. The first page is fetched alone; only when it comes back full does the walk fan out to
``concurrency`` pages in flight, so a failing walk costs one request. Pages overlap by one record
so that records inserted or removed during the walk are neither repeated nor skipped
(``_drift.py``).

Why the window owns plain asyncio tasks rather than an anyio task group: a task group must be
exited by the task that entered it, but an ``async for`` consumer suspends between pages and may
abandon the walk at any point (``break``, cancellation, garbage collection). A task group held
across those suspensions would be entered in one task and exited in another (the trio/anyio
rule: never yield inside a task group). So the window is the structured owner instead: every
fetch it starts is either consumed in order or cancelled by ``close()``, which ``break``,
cancellation, an error, the client's ``aclose()`` and garbage collection all reach.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Generic, TypeVar

import anyio

from ._drift import fresh_start, recover_skipped
from ._exceptions import PaginationError, ParenError, TimeoutError
from ._flow import Turn
from ._observe import WalkObserver
from .models import Page

__all__ = ["FetchPage", "PageRequest", "PageStream", "WalkSpec", "first_page", "next_page"]

X = TypeVar("X")

#: Pages in a row holding only records already yielded before the walk gives up. Heavy drift
#: at a moving tail can repeat a few pages running; a server ignoring offset repeats forever.
STALL_LIMIT = 10


@dataclass(frozen=True, slots=True)
class PageRequest:
    offset: int
    limit: int
    #: Leading records expected to repeat the previous page's last one (the drift check).
    overlap: int = 0
    turn: Turn | None = field(default=None, compare=False, repr=False)


def first_page(offset: int, page_size: int, max_items: int | None) -> PageRequest | None:
    """The first page of a walk, or None when ``max_items=0`` asks for nothing."""
    if max_items == 0:
        return None
    return PageRequest(offset, page_size if max_items is None else min(page_size, max_items))


def next_page(
    previous: PageRequest,
    received: int,
    *,
    start: int,
    page_size: int,
    max_items: int | None,
    overlap: int = 0,
) -> PageRequest | None:
    """The page after ``previous``, given how many records it returned; None when the walk ends.

    The walk ends at a page that brought nothing new (empty, or only its overlap). A page that is
    merely short does not end it: a server may cap pages below the ``limit`` asked, so the next
    page confirms the end. With ``max_items`` the last page asks for exactly what remains.
    """
    if received <= previous.overlap:
        return None
    seen_until = previous.offset + received
    limit = page_size
    if max_items is not None:
        remaining = start + max_items - seen_until
        if remaining <= 0:
            return None
        limit = min(page_size, remaining + overlap)
    return PageRequest(seen_until - overlap, limit, overlap)


FetchPage = Callable[[PageRequest], Coroutine[Any, Any, Page[X]]]


@dataclass(frozen=True, slots=True)
class WalkSpec:
    """What to walk: where it starts, how big its pages are, and how far it may run ahead."""

    offset: int
    page_size: int
    max_items: int | None
    concurrency: int
    #: Overlap pages by one record to detect and repair drift (needs pages of 2 or more).
    drift_check: bool = True
    #: Seconds the whole walk may take, or None.
    deadline: float | None = None

    @property
    def overlap(self) -> int:
        return 1 if self.drift_check and self.page_size >= 2 else 0

    def first(self) -> PageRequest | None:
        return first_page(self.offset, self.page_size, self.max_items)

    def after(self, previous: PageRequest, received: int) -> PageRequest | None:
        return next_page(
            previous,
            received,
            start=self.offset,
            page_size=self.page_size,
            max_items=self.max_items,
            overlap=self.overlap,
        )


class _LazyIds(Sequence[object]):
    """The ids of a page's records, each computed when asked for."""

    __slots__ = ("_items", "_record_id")

    def __init__(self, items: tuple[X, ...], record_id: Callable[[X], object]) -> None:
        self._items = items
        self._record_id = record_id

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> object:  # type: ignore[override]
        return self._record_id(self._items[index])


class PageStream(Generic[X]):
    """Pages of one walk in offset order, with at most ``concurrency`` fetches in flight.

    At most ``concurrency`` fetches are in flight. A fetch that completes starts the next one at
    once, so one slow page does not stall the others; pages that completed ahead of their turn
    wait in a reorder buffer of at most ``2 * concurrency`` pages, which bounds memory.
    ``close()`` cancels every fetch at once without waiting for them; it runs on ``break`` (via
    garbage collection or the ``async with`` form), on any error, and when the client closes.

    Each page yielded holds only records not yielded before, and ``page.next_offset`` is where a
    resumed walk would continue.
    """

    def __init__(
        self,
        fetch: FetchPage[X],
        spec: WalkSpec,
        *,
        record_id: Callable[[X], object],
        observer: WalkObserver,
        cheap_ids: bool = True,
    ) -> None:
        self._fetch = fetch
        self._spec = spec
        self._record_id = record_id
        #: Typed records give their id for an attribute read: keep ids, free the records. Raw
        #: records must be parsed for it: keep the bytes (one object each) and parse on demand.
        self._ids: Callable[[tuple[X, ...]], Sequence[object]] = (
            (lambda items: tuple(map(record_id, items)))
            if cheap_ids
            else (lambda items: _LazyIds(items, record_id))
        )
        self._observer = observer
        self._window: deque[tuple[PageRequest, int, asyncio.Task[Page[X]]]] = deque()
        #: Whether to keep `concurrency` fetches going: after a full page, until a short one.
        self._fanning_out = False
        self._next: PageRequest | None = spec.first()
        #: Records per page the server really gives, once a short page has shown it.
        self._cap: int | None = None
        # The last two pages as received: drift is repaired against them.
        # Their ids, not their records: records kept alive two pages longer are freed from cold
        # memory, which costs about as much as decoding them did (benchmarks/PROFILE.md).
        self._previous: Sequence[object] = ()
        self._earlier: Sequence[object] = ()
        self._previous_full = False
        #: Pages in a row that brought nothing new though they were not the end.
        self._stalled = 0
        self._position = spec.offset
        self._yielded = 0
        self._deadline = None if spec.deadline is None else time.monotonic() + spec.deadline

    @property
    def resume_offset(self) -> int:
        """The offset just after the last record yielded: where a new walk would continue."""
        return self._position

    # -- lifecycle --

    def close(self) -> None:
        """Cancel every fetch in flight and end the walk. Idempotent; does not wait."""
        self._next = None
        self._cancel_window()
        self._observer.finished(None, resume_offset=self._position)

    def _cancel_window(self) -> None:
        while self._window:
            _, _, task = self._window.pop()
            task.cancel()

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> PageStream[X]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # A consumer that breaks out of `async for` drops its last reference here.
        with contextlib.suppress(Exception):  # e.g. the event loop is already closed
            self.close()

    # -- iteration --

    def __aiter__(self) -> PageStream[X]:
        return self

    async def __anext__(self) -> Page[X]:
        self._observer.started()
        while True:
            if not self._window:
                self._fill()
                if not self._window:
                    self.close()
                    raise StopAsyncIteration
            try:
                page = await self._advance()
            except BaseException as exc:
                if isinstance(exc, ParenError) and exc.resume_offset is None:
                    exc.resume_offset = self._position
                self._observer.finished(exc, resume_offset=self._position)
                self.close()
                raise
            if page.items:
                self._observer.page(page.offset, len(page.items))
                return page

    async def _advance(self) -> Page[X]:
        request, assumed, task = self._window[0]
        if request.turn is not None:
            request.turn.event.set()
        page = await self._await_head(task)
        self._window.popleft()
        items = page.items[: request.limit]  # a surplus would be yielded again by the next page
        if len(items) < assumed:
            # The end, or a server capping pages below `limit`: the pages speculated past this
            # one start at the wrong offsets. The next page is fetched alone to tell which.
            self._cancel_window()
            self._fanning_out = False
            if len(items) > request.overlap:
                self._cap = len(items)
            self._next = self._spec.after(request, len(items))
        else:
            self._fanning_out = True
            self._fill()
        fresh = await self._reconcile(request, items)
        if items:
            self._earlier, self._previous = self._previous, self._ids(items)
            self._previous_full = len(items) >= request.limit
            self._position = request.offset + len(items)
        self._check_progress(request, items, fresh)
        if self._spec.max_items is not None:
            fresh = fresh[: self._spec.max_items - self._yielded]
        self._yielded += len(fresh)
        return Page(
            offset=self._position - len(fresh),
            limit=request.limit,
            items=fresh,
            duration=page.duration,
            timestamp=page.timestamp,
        )

    async def _await_head(self, task: asyncio.Task[Page[X]]) -> Page[X]:
        if self._deadline is None:
            return await task
        with anyio.move_on_after(self._deadline - time.monotonic()):
            return await task
        raise TimeoutError(f"the walk's deadline of {self._spec.deadline:g}s has passed")

    def _fill(self) -> None:
        """Start fetches up to the limits: one alone until a page came back full."""
        if self._fanning_out:
            in_flight, buffered = self._spec.concurrency, 2 * self._spec.concurrency
        else:
            in_flight, buffered = 1, 1
        with self._observer.activate():
            self._spawn(in_flight, buffered)

    def _spawn(self, in_flight: int, buffered: int) -> None:
        loop = asyncio.get_running_loop()
        running = sum(
            1
            for request, _, task in self._window
            if not task.done() and not (request.turn is not None and request.turn.received)
        )
        while self._next is not None and running < in_flight and len(self._window) < buffered:
            request = replace(self._next, turn=Turn(self._on_received))
            assumed = request.limit if self._cap is None else min(request.limit, self._cap)
            task = loop.create_task(self._fetch(request))
            task.add_done_callback(self._on_fetch_done)
            running += 1
            self._window.append((request, assumed, task))
            # Speculate that every page in flight comes back as big as the last ones did.
            self._next = self._spec.after(request, assumed)

    def _on_received(self) -> None:
        # A body arrived: its fetch slot is free for the next page, before it is decoded.
        if self._fanning_out:
            self._fill()

    def _on_fetch_done(self, task: asyncio.Task[Page[X]]) -> None:
        if task.cancelled():
            return
        if task.exception() is None:  # .exception() also marks a failure as retrieved
            # A full page keeps the fan-out going at once; a short one will stop it when its
            # turn comes, so nothing more is speculated past it.
            assumed = next((a for _, a, t in self._window if t is task), 0)
            if self._fanning_out and len(task.result().items) >= assumed:
                self._fill()
            return
        # The walk will stop at this page: stop spending on the pages after it now.
        self._next = None
        failed = False
        for _, _, other in self._window:
            if failed:
                other.cancel()
            failed = failed or other is task

    def _check_progress(
        self, request: PageRequest, items: tuple[X, ...], fresh: tuple[X, ...]
    ) -> None:
        # Drift can make one page all repeats; a run of them means the server is not paging.
        if fresh or len(items) <= request.overlap:
            self._stalled = 0
            return
        self._stalled += 1
        if self._stalled >= STALL_LIMIT:
            raise PaginationError(
                f"{STALL_LIMIT} pages in a row up to offset {request.offset} held only records "
                "already yielded: the server does not seem to honour offset"
            )

    # -- drift --

    async def _reconcile(self, request: PageRequest, items: tuple[X, ...]) -> tuple[X, ...]:
        """The records of a page not yet yielded, repairing drift against the previous page."""
        if not items or not self._previous:
            return items
        first = self._record_id(items[0])
        # A server ignoring offset repeats a full page. Short pages near the end may legitimately
        # start with the previous first record after an insert (left to _check_progress), and
        # so may a one-record page whose record is the overlap.
        suspicious = self._previous_full and (request.overlap == 0 or len(self._previous) > 1)
        if suspicious and first == self._previous[0]:
            raise PaginationError(
                f"the server returned the same page for offset {request.offset} as for the "
                "page before it: it seems to ignore the offset parameter"
            )
        if request.overlap == 0:
            return items
        last = self._previous[-1]
        if first == last:
            return items[1:]
        ids = [self._record_id(item) for item in items]
        start = fresh_start(ids, last)
        if start is not None:
            self._observer.counters.record_drift(request.offset, duplicates=start - 1)
            return items[start:]
        return await self._recover(request, first) + items

    async def _recover(self, request: PageRequest, page_first: object) -> tuple[X, ...]:
        """Re-read the previous page's span: what shifted into it was skipped by the walk."""
        span = len(self._previous)
        reread = await self._fetch(PageRequest(request.offset - span + 1, span))
        # Inserts since may also have pushed records of the page before into the span.
        seen = {*self._previous, *self._earlier}
        recovery = recover_skipped(
            [self._record_id(item) for item in reread.items], page_first, seen
        )
        self._observer.counters.record_drift(
            request.offset, recovered=len(recovery.skipped), complete=recovery.complete
        )
        return tuple(reread.items[i] for i in recovery.skipped)
