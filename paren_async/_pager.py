"""``Pager``: one walk over an endpoint, offered in every form a caller may want."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import replace
from typing import Any, Generic, TypeVar

from ._exceptions import ResumePoint
from ._pagination import Decode, PageStream, WalkSpec
from ._statistics import WalkStatistics
from .models import Page

__all__ = ["Pager"]

T = TypeVar("T")
X = TypeVar("X")


class Pager(Generic[T]):
    """One walk over an endpoint, in every form a caller may want.

    ``async for item in pager``: records, in order. ``await pager``: the first ``Page`` only.
    ``pager.pages()``: ``Page`` objects. ``pager.collect()``: a list. ``pager.raw()``: each record's
    JSON bytes exactly as the server sent them (``raw_pages()`` for pages of them).
    Each form starts a fresh walk; ``statistics()`` and ``resume`` describe the latest one.
    """

    def __init__(
        self,
        spec: WalkSpec,
        decode: Decode[T],
        decode_raw: Decode[bytes],
        open_stream: Callable[[Decode[Any], WalkSpec, bool], PageStream[Any]],
    ) -> None:
        self._spec = spec
        self._decode = decode
        self._decode_raw = decode_raw
        self._open = open_stream
        self._latest: PageStream[Any] | None = None

    def __repr__(self) -> str:
        s = self._spec
        return (
            f"<Pager offset={s.offset} page_size={s.page_size} max_items={s.max_items} "
            f"concurrency={s.concurrency}>"
        )

    def pages(self) -> PageStream[T]:
        """Pages in offset order; also an async context manager that closes the walk."""
        self._latest = stream = self._open(self._decode, self._spec, True)
        return stream

    def raw_pages(self) -> PageStream[bytes]:
        """Pages whose items are each record's bytes exactly as sent, never decoded."""
        self._latest = stream = self._open(self._decode_raw, self._spec, False)
        return stream

    def __aiter__(self) -> _Items[T]:
        return _Items(self.pages())

    def raw(self) -> _Items[bytes]:
        """Each record's JSON bytes exactly as the server sent them."""
        return _Items(self.raw_pages())

    async def collect(self) -> list[T]:
        """Every record of the walk in a list. For big walks prefer streaming (``async for``)."""
        items: list[T] = []
        async with self.pages() as pages:
            async for page in pages:
                items.extend(page.items)
        return items

    def statistics(self) -> WalkStatistics:
        """The account of the latest walk started from this pager (empty before any)."""
        return WalkStatistics() if self._latest is None else self._latest.statistics()

    @property
    def resume(self) -> ResumePoint | None:
        """Where the latest walk would continue (``locations(resume=...)``), None before any."""
        return None if self._latest is None else self._latest.resume

    def __await__(self) -> Generator[object, None, Page[T]]:
        return self._first().__await__()

    async def _first(self) -> Page[T]:
        """The first page as the server sent it: one request, no walk."""
        spec = replace(self._spec, concurrency=1)
        stream = self._open(self._decode, spec, True)
        request = stream.first_request
        if request is None:
            return Page(offset=spec.offset, limit=0, items=())
        return await stream.fetch_one(request)


class _Items(Generic[X]):
    """Records of a walk, one by one. Dropping it (after ``break``) closes the walk at once."""

    __slots__ = ("_items", "_stream")

    def __init__(self, stream: PageStream[X]) -> None:
        self._stream = stream
        self._items: Iterator[X] = iter(())

    def __aiter__(self) -> _Items[X]:
        return self

    async def __anext__(self) -> X:
        for item in self._items:
            return item
        # The exhausted iterator has let go of the last page: its records are freed before the
        # next page is decoded, while their memory is still cache-hot.
        page = await self._stream.next_page()
        self._items = iter(page.items)
        self._stream.partial = (page, self._items)
        for item in self._items:
            return item
        return await self.__anext__()  # a page of rejected records only

    async def aclose(self) -> None:
        self._stream.close()

    def __del__(self) -> None:
        self._stream.close()
