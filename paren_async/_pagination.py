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
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, TypeVar

import anyio
import msgspec

from ._drift import fresh_start, recover_skipped
from ._exceptions import PaginationError, ParenError, TimeoutError
from ._observe import WalkObserver
from .models import Page

__all__ = ["PageRequest", "PageStream", "Pager", "first_page", "next_page"]

T = TypeVar("T")
X = TypeVar("X")


@dataclass(frozen=True, slots=True)
class PageRequest:
    offset: int
    limit: int
    #: Leading records expected to repeat the previous page's last one (the drift check).
    overlap: int = 0


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


class PageStream(Generic[X]):
    """Pages of one walk in offset order, with at most ``concurrency`` fetches in flight.

    Memory is bounded by the window: pages that completed early wait in it until their turn, and
    the window refills only as the consumer takes pages. ``close()`` cancels every fetch at once
    without waiting for them; it runs on ``break`` (via garbage collection or the ``async with``
    form), on any error, and when the client closes.

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
    ) -> None:
        self._fetch = fetch
        self._spec = spec
        self._record_id = record_id
        self._observer = observer
        self._window: deque[tuple[PageRequest, int, asyncio.Task[Page[X]]]] = deque()
        self._next: PageRequest | None = spec.first()
        #: Records per page the server really gives, once a short page has shown it.
        self._cap: int | None = None
        self._previous: tuple[X, ...] = ()
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
                self._fill(1)
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
        page = await self._await_head(task)
        self._window.popleft()
        items = page.items[: request.limit]  # a surplus would be yielded again by the next page
        if len(items) < assumed:
            # The end, or a server capping pages below `limit`: the pages speculated past this
            # one start at the wrong offsets. The next page is fetched alone to tell which.
            self._cancel_window()
            if len(items) > request.overlap:
                self._cap = len(items)
            self._next = self._spec.after(request, len(items))
        else:
            self._fill(self._spec.concurrency)
        fresh = await self._reconcile(request, items)
        self._previous = items or self._previous
        self._position = request.offset + len(items) if items else self._position
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

    def _fill(self, size: int) -> None:
        with self._observer.activate():
            self._spawn(size)

    def _spawn(self, size: int) -> None:
        loop = asyncio.get_running_loop()
        while self._next is not None and len(self._window) < size:
            request = self._next
            assumed = request.limit if self._cap is None else min(request.limit, self._cap)
            task = loop.create_task(self._fetch(request))
            task.add_done_callback(self._on_fetch_done)
            self._window.append((request, assumed, task))
            # Speculate that every page in flight comes back as big as the last ones did.
            self._next = self._spec.after(request, assumed)

    def _on_fetch_done(self, task: asyncio.Task[Page[X]]) -> None:
        if task.cancelled() or task.exception() is None:  # .exception() marks it retrieved
            return
        # The walk will stop at this page: stop spending on the pages after it now.
        self._next = None
        failed = False
        for _, _, other in self._window:
            if failed:
                other.cancel()
            failed = failed or other is task

    # -- drift --

    async def _reconcile(self, request: PageRequest, items: tuple[X, ...]) -> tuple[X, ...]:
        """The records of a page not yet yielded, repairing drift against the previous page."""
        if not items or not self._previous:
            return items
        first = self._record_id(items[0])
        if first == self._record_id(self._previous[0]) and len(self._previous) > 1:
            raise PaginationError(
                f"the server returned the same page for offset {request.offset} as for the "
                "page before it: it seems to ignore the offset parameter"
            )
        if request.overlap == 0:
            return items
        last = self._record_id(self._previous[-1])
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
        recovery = recover_skipped(
            [self._record_id(item) for item in reread.items],
            page_first,
            {self._record_id(item) for item in self._previous},
        )
        self._observer.counters.record_drift(
            request.offset, recovered=len(recovery.skipped), complete=recovery.complete
        )
        return tuple(reread.items[i] for i in recovery.skipped)


class Pager(Generic[T]):
    """One walk over an endpoint, in every form a caller may want.

    ``async for item in pager``: records, in order. ``await pager``: the first ``Page`` only.
    ``pager.pages()``: ``Page`` objects. ``pager.collect()``: a list. ``pager.raw()``: each record's
    JSON bytes exactly as the server sent them (``raw_pages()`` for pages of them).
    Each form starts a fresh walk.
    """

    def __init__(
        self,
        *,
        fetch: FetchPage[T],
        fetch_raw: FetchPage[msgspec.Raw],
        record_id: Callable[[T], object],
        raw_record_id: Callable[[msgspec.Raw], object],
        spec: WalkSpec,
        observe: Callable[[], WalkObserver],
        on_open: Callable[[PageStream[Any]], None],
    ) -> None:
        self._fetch = fetch
        self._fetch_raw = fetch_raw
        self._record_id = record_id
        self._raw_record_id = raw_record_id
        self._spec = spec
        self._observe = observe
        self._on_open = on_open

    def __repr__(self) -> str:
        s = self._spec
        return (
            f"<Pager offset={s.offset} page_size={s.page_size} max_items={s.max_items} "
            f"concurrency={s.concurrency}>"
        )

    def pages(self) -> PageStream[T]:
        """Pages in offset order; also an async context manager that closes the walk."""
        stream = PageStream(
            self._fetch, self._spec, record_id=self._record_id, observer=self._observe()
        )
        self._on_open(stream)
        return stream

    def raw_pages(self) -> PageStream[bytes]:
        """Pages whose items are each record's bytes exactly as sent, never decoded."""
        stream = PageStream(
            _as_bytes(self._fetch_raw), self._spec, record_id=self._raw_id, observer=self._observe()
        )
        self._on_open(stream)
        return stream

    def _raw_id(self, record: bytes) -> object:
        return self._raw_record_id(msgspec.Raw(record))

    def __aiter__(self) -> AsyncIterator[T]:
        return _items(self.pages())

    def raw(self) -> AsyncIterator[bytes]:
        """Each record's JSON bytes exactly as the server sent them."""
        return _items(self.raw_pages())

    async def collect(self) -> list[T]:
        """Every record of the walk in a list. For big walks prefer streaming (``async for``)."""
        items: list[T] = []
        async with self.pages() as pages:
            async for page in pages:
                items.extend(page.items)
        return items

    def __await__(self) -> Generator[object, None, Page[T]]:
        return self._first().__await__()

    async def _first(self) -> Page[T]:
        request = self._spec.first()
        if request is None:
            return Page(offset=self._spec.offset, limit=0, items=())
        page = await self._fetch(request)
        if len(page.items) > request.limit:  # as in a walk: never more than was asked for
            page = msgspec.structs.replace(page, items=page.items[: request.limit])
        return page


def _as_bytes(fetch: FetchPage[msgspec.Raw]) -> FetchPage[bytes]:
    async def fetch_bytes(request: PageRequest) -> Page[bytes]:
        page = await fetch(request)
        return Page(
            offset=page.offset,
            limit=page.limit,
            items=tuple(bytes(raw) for raw in page.items),
            duration=page.duration,
            timestamp=page.timestamp,
        )

    return fetch_bytes


async def _items(stream: PageStream[X]) -> AsyncIterator[X]:
    # Not inside any task group or cancel scope, so finalising this generator from another task
    # (after `break`) is safe; `finally` closes the window there.
    try:
        async for page in stream:
            for item in page.items:
                yield item
    finally:
        stream.close()
