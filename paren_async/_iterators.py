"""What ``async for`` uses over a walk: small iterators that close the walk when dropped.

They are separate from the walk so that a caller keeping a reference to the stream or pager
still closes the walk by leaving the loop (``break``, an exception): the iterator is dropped
there, and its ``__del__`` cancels every fetch at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from ._pagination import PageStream
    from .models import Page

T = TypeVar("T")


class PageIterator(Generic[T]):
    __slots__ = ("stream",)

    def __init__(self, stream: PageStream[T]) -> None:
        self.stream = stream

    def __aiter__(self) -> PageIterator[T]:
        return self

    async def __anext__(self) -> Page[T]:
        return await self.stream.next_page()

    def __del__(self) -> None:
        self.stream.close()


class Items(Generic[T]):
    """Records of a walk, one by one."""

    __slots__ = ("_items", "stream")

    def __init__(self, stream: PageStream[T]) -> None:
        self.stream = stream
        self._items: Iterator[T] = iter(())

    def __aiter__(self) -> Items[T]:
        return self

    async def __anext__(self) -> T:
        for item in self._items:
            return item
        # Let go of the last page before the next is decoded: its records are freed while their
        # memory is still cache-hot (the exhausted iterator holds them no more).
        ledger = self.stream.ledger
        ledger.partial = None
        page = await self.stream.next_page()
        self._items = iter(page.items)
        ledger.partial = (page, self._items)
        for item in self._items:
            return item
        return await self.__anext__()  # a page of rejected records only

    async def aclose(self) -> None:
        self.stream.close()

    def __del__(self) -> None:
        self.stream.close()


class RawItems(Items[Any]):
    """Raw records one by one, each copied to its own ``bytes`` only as it is handed out: the copy
    lands in memory just freed by the previous one (cache-hot), and the page body is let go with
    its last record. Copying a whole page up front costs a third of a raw walk's CPU."""

    __slots__ = ()

    async def __anext__(self) -> bytes:
        for item in self._items:
            return bytes(item)
        return bytes(await Items.__anext__(self))


class Records:
    """What ``pager.raw()`` returns: ``async for`` over it takes a ``RawItems`` that closes the
    walk when dropped, even while the caller keeps this object."""

    __slots__ = ("_items", "_stream")

    def __init__(self, stream: PageStream[Any]) -> None:
        self._stream = stream
        self._items: RawItems | None = None

    def __aiter__(self) -> RawItems:
        return RawItems(self._stream)

    async def __anext__(self) -> bytes:  # used as an iterator itself: it owns one
        if self._items is None:
            self._items = RawItems(self._stream)
        return await self._items.__anext__()

    async def aclose(self) -> None:
        self._stream.close()
