"""``Pager``: one walk over an endpoint, offered in every form a caller may want."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Generator
from dataclasses import replace
from typing import Any, Generic, TypeVar

import msgspec

from ._decoding import RAW, Codec, decode_page, raw_id
from ._exceptions import ResumePoint
from ._http import Request, Response
from ._iterators import Items, Records
from ._ledger import Ledger
from ._pagination import Decode, PageRequest, PageStream, WalkSpec
from ._statistics import WalkStatistics
from ._validators import PageValidators
from .models import Page

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
        request_for: Callable[[PageRequest], Request],
        codec: Codec[T],
        open_stream: Callable[[Decode[Any], WalkSpec, bool], PageStream[Any]],
        path: str,
    ) -> None:
        self._spec = spec
        self._request_for = request_for
        self._codec = codec
        self._open = open_stream  # (decode, spec, typed): typed records have an ``id`` attribute
        # The latest walk's ledger, not the walk: a pager kept must not keep a dropped walk's
        # fetches running.
        self._latest: Ledger | None = None
        #: The endpoint path this pager walks (``/metadata/v1/locations``...).
        self.path = path

    def __repr__(self) -> str:
        s = self._spec
        return (
            f"<Pager offset={s.offset} page_size={s.page_size} max_items={s.max_items} "
            f"concurrency={s.concurrency}>"
        )

    def _decode(self, response: Response, page: PageRequest, codec: Codec[X]) -> Page[X]:
        now, request = time.time(), self._request_for(page)
        return decode_page(request, response, codec, offset=page.offset, limit=page.limit, now=now)

    def _decode_raw(
        self, validators: PageValidators | None, response: Response, page: PageRequest
    ) -> Page[bytes]:
        if validators is None or page.reread:  # a re-read may use only some of its records
            return _as_bytes(self._decode(response, page, RAW))
        url = self._request_for(page).url
        if response.status == 304:
            ids = validators.ids(url)
            return Page(offset=page.offset, limit=page.limit, items=(), unchanged=ids)
        result = _as_bytes(self._decode(response, page, RAW))
        validators.remember(url, response.headers, lambda: [raw_id(r) for r in result.items])
        return result

    def _typed_stream(self, spec: WalkSpec) -> PageStream[T]:
        decode = functools.partial(self._decode, codec=self._codec)
        return self._open(decode, spec, self._codec is not RAW)

    def pages(self) -> PageStream[T]:
        """Pages in offset order; also an async context manager that closes the walk."""
        stream = self._typed_stream(self._spec)
        self._latest = stream.ledger
        return stream

    def raw_pages(self, *, validators: PageValidators | None = None) -> PageStream[bytes]:
        """Pages whose items are each record's bytes exactly as sent, never decoded.

        ``validators``: kept from walk to walk of the same endpoint and filters, it makes each
        page a conditional request when the server sent an ``ETag`` or ``Last-Modified`` for it
        last time; a page the server answers 304 carries only the ids of its records, in
        ``Page.unchanged``. Paren does not document validators: without them nothing changes.
        """
        decode = functools.partial(self._decode_raw, validators)
        stream = self._open(decode, replace(self._spec, validators=validators), False)
        self._latest = stream.ledger
        return stream

    def __aiter__(self) -> Items[T]:
        return Items(self.pages())

    def raw(self) -> Records:
        """Each record's JSON bytes exactly as the server sent them."""
        stream = self._open(functools.partial(self._decode, codec=RAW), self._spec, False)
        self._latest = stream.ledger
        return Records(stream)

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
        stream = self._typed_stream(spec)  # refuses a closed client, even for max_items=0
        request = spec.first()
        if request is None:
            return Page(offset=spec.offset, limit=0, items=())
        return await stream.fetch_one(request)


def _as_bytes(raw: Page[msgspec.Raw]) -> Page[bytes]:
    items = tuple(map(bytes, raw.items))
    return Page(
        offset=raw.offset,
        limit=raw.limit,
        items=items,
        duration=raw.duration,
        timestamp=raw.timestamp,
    )
