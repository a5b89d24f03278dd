"""The offset walk: a pure next-page rule and an ordered, bounded window of concurrent fetches.

Paren pages carry no total and no next link: a walk ends at the first page shorter than the
``limit`` it asked for. The first page is fetched alone; only when it comes back full does the
walk fan out to ``concurrency`` pages in flight, so a failing or one-page walk costs one request.

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
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, TypeVar

import msgspec

from ._exceptions import PaginationError, ParenError
from .models import Page

__all__ = ["PageRequest", "PageStream", "Pager", "first_page", "next_page"]

T = TypeVar("T")
X = TypeVar("X")


@dataclass(frozen=True, slots=True)
class PageRequest:
    offset: int
    limit: int


def first_page(offset: int, page_size: int, max_items: int | None) -> PageRequest | None:
    """The first page of a walk, or None when ``max_items=0`` asks for nothing."""
    if max_items == 0:
        return None
    return PageRequest(offset, page_size if max_items is None else min(page_size, max_items))


def next_page(
    previous: PageRequest, received: int, *, start: int, page_size: int, max_items: int | None
) -> PageRequest | None:
    """The page after ``previous``, given how many records it returned; None when the walk ends.

    A short page (fewer records than asked, zero included) is the end of the collection. With
    ``max_items`` the last page asks for exactly what remains, so no record is fetched in vain.
    """
    if received < previous.limit:
        return None
    offset = previous.offset + previous.limit
    if max_items is None:
        return PageRequest(offset, page_size)
    remaining = start + max_items - offset
    return PageRequest(offset, min(page_size, remaining)) if remaining > 0 else None


FetchPage = Callable[[PageRequest], Coroutine[Any, Any, Page[X]]]


@dataclass(frozen=True, slots=True)
class WalkSpec:
    """What to walk: where it starts, how big its pages are, and how far it may run ahead."""

    offset: int
    page_size: int
    max_items: int | None
    concurrency: int

    def first(self) -> PageRequest | None:
        return first_page(self.offset, self.page_size, self.max_items)

    def after(self, previous: PageRequest, received: int) -> PageRequest | None:
        return next_page(
            previous,
            received,
            start=self.offset,
            page_size=self.page_size,
            max_items=self.max_items,
        )


class PageStream(Generic[X]):
    """Pages of one walk in offset order, with at most ``concurrency`` fetches in flight.

    Memory is bounded by the window: pages that completed early wait in it until their turn, and
    the window refills only as the consumer takes pages. ``close()`` cancels every fetch at once
    without waiting for them; it runs on ``break`` (via garbage collection or the ``async with``
    form), on any error, and when the client closes.
    """

    def __init__(
        self,
        fetch: FetchPage[X],
        spec: WalkSpec,
        *,
        record_id: Callable[[X], object],
    ) -> None:
        self._fetch = fetch
        self._spec = spec
        self._record_id = record_id
        self._window: deque[tuple[PageRequest, asyncio.Task[Page[X]]]] = deque()
        self._next: PageRequest | None = spec.first()
        self._fanned_out = False
        self._previous_first_id: object = None

    # -- lifecycle --

    def close(self) -> None:
        """Cancel every fetch in flight and end the walk. Idempotent; does not wait."""
        self._next = None
        while self._window:
            _, task = self._window.pop()
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
        with contextlib.suppress(RuntimeError):  # the event loop may already be closed
            self.close()

    # -- iteration --

    def __aiter__(self) -> PageStream[X]:
        return self

    async def __anext__(self) -> Page[X]:
        if not self._window:
            self._fill(1)
            if not self._window:
                raise StopAsyncIteration
        request, task = self._window[0]
        try:
            page = await task
            self._window.popleft()
            page = self._accept(request, page)
        except BaseException as exc:
            self.close()
            if isinstance(exc, ParenError) and exc.resume_offset is None:
                exc.resume_offset = request.offset
            raise
        if len(page.items) < request.limit:
            self.close()  # the end: fetches speculated past it are wasted
        else:
            self._fanned_out = True
            self._fill(self._spec.concurrency)
        return page

    def _accept(self, request: PageRequest, page: Page[X]) -> Page[X]:
        if len(page.items) > request.limit:
            # The next page starts at offset + limit, so the surplus would be yielded twice.
            page = msgspec.structs.replace(page, items=page.items[: request.limit])
        if page.items:
            first_id = self._record_id(page.items[0])
            if first_id == self._previous_first_id:
                raise PaginationError(
                    f"the server returned the same page for offsets before and at {page.offset} "
                    "(first record id repeated): it seems to ignore the offset parameter"
                )
            self._previous_first_id = first_id
        return page

    def _fill(self, size: int) -> None:
        loop = asyncio.get_running_loop()
        while self._next is not None and len(self._window) < size:
            request = self._next
            task = loop.create_task(self._fetch(request))
            task.add_done_callback(self._on_fetch_done)
            self._window.append((request, task))
            # Speculate that every page in flight comes back full; a short one cancels the rest.
            self._next = self._spec.after(request, request.limit)

    def _on_fetch_done(self, task: asyncio.Task[Page[X]]) -> None:
        if task.cancelled() or task.exception() is None:  # .exception() marks it retrieved
            return
        # The walk will stop at this page: stop spending on the pages after it now.
        self._next = None
        failed = False
        for _, other in self._window:
            if failed:
                other.cancel()
            failed = failed or other is task


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
        on_open: Callable[[PageStream[Any]], None],
    ) -> None:
        self._fetch = fetch
        self._fetch_raw = fetch_raw
        self._record_id = record_id
        self._raw_record_id = raw_record_id
        self._spec = spec
        self._on_open = on_open

    def __repr__(self) -> str:
        s = self._spec
        return (
            f"<Pager offset={s.offset} page_size={s.page_size} max_items={s.max_items} "
            f"concurrency={s.concurrency}>"
        )

    def pages(self) -> PageStream[T]:
        """Pages in offset order; also an async context manager that closes the walk."""
        stream = PageStream(self._fetch, self._spec, record_id=self._record_id)
        self._on_open(stream)
        return stream

    def raw_pages(self) -> PageStream[bytes]:
        """Pages whose items are each record's bytes exactly as sent, never decoded."""
        stream = PageStream(_as_bytes(self._fetch_raw), self._spec, record_id=self._raw_id)
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
        return await self._fetch(request)


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
