"""``Pager``: one walk over an endpoint, offered in every form a caller may want."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator
from typing import Any, Generic, TypeVar

import msgspec

from ._observe import WalkObserver
from ._pagination import FetchPage, PageRequest, PageStream, WalkSpec
from .models import Page

__all__ = ["Pager"]

T = TypeVar("T")
X = TypeVar("X")


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
            _as_bytes(self._fetch_raw),
            self._spec,
            record_id=self._raw_id,
            observer=self._observe(),
            cheap_ids=False,
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
            # Free the page's records before the next page is decoded, while their memory is
            # still cache-hot (the caller may keep the last one).
            del page
    finally:
        stream.close()
