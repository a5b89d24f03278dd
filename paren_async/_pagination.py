"""The offset walk: an ordered, bounded window of fetches over two callables it is given.

``fetch(PageRequest) -> Response`` does the network part (retried by the request layer) and a
pure ``decode(response, request) -> Page`` turns a body into records. A response is decoded only
when its page reaches the head of the window, so few decoded pages are alive at once and each
decodes into cache-hot memory. A fetch task that is done is a freed slot.

Paren pages carry no total and no next link. The walk starts with one page; each page that comes
back as big as expected lets one more page be in flight (slow start, as TCP does), up to
``concurrency``. So a small walk costs about what it needs, a failing walk one request, and the
pages speculated past the end are fewer than ``concurrency``. A page that comes back short is the
end or a server capping pages: the pages speculated past it are cancelled and the next is
fetched alone to tell which. The end is a page that brings nothing new.

Why plain asyncio tasks owned by the stream rather than an anyio task group: an ``async for``
consumer suspends between pages and may abandon the walk at any point (``break``, an exception,
cancellation, garbage collection), and a task group must be exited by the task that entered it.
So the stream is the structured owner: every fetch it starts is consumed in order or cancelled by
``close()``. The iterators ``async for`` uses are separate small objects, so dropping one after
``break`` closes the walk at once even while the caller keeps a reference to the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Generic, Literal, TypeVar

import anyio
import msgspec

from ._drift import MAX_REREADS, Stitcher
from ._events import (
    CURRENT_WALK,
    BadRecordEvent,
    DriftEvent,
    Events,
    PageEvent,
    RetryEvent,
    WalkEvent,
)
from ._exceptions import PaginationError, ParenError, RecordError, ResumePoint, TimeoutError
from ._http import Response
from ._statistics import WalkStatistics
from .models import BadRecord, Page

__all__ = ["PageRequest", "PageStream", "WalkSpec"]

T = TypeVar("T")

#: Pages in a row holding only records already yielded before the walk gives up: heavy drift
#: can repeat a few pages running; a server ignoring offset repeats forever.
STALL_LIMIT: Final = 10
#: Ids of the last records yielded that a ``ResumePoint`` carries.
RESUME_IDS: Final = 8
#: A body this small cannot hold a full page: peeked at when it arrives, to stop speculating
#: past an empty page before it reaches the head.
_SMALL_BODY: Final = 2048
_walk_ids = itertools.count(1)
_COUNTS: Final = (
    "records", "pages", "requests", "drift_events", "duplicates_dropped", "records_recovered",
    "unrecovered_drift", "bad_records",
)  # fmt: skip

Fetch = Callable[["PageRequest"], Awaitable[Response]]
Decode = Callable[[Response, "PageRequest"], Page[T]]
BadRecords = Literal["skip", "raise"]


@dataclass(frozen=True, slots=True)
class PageRequest:
    offset: int
    limit: int
    #: Leading records expected to repeat what was already yielded (the drift check).
    overlap: int = 0


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


@dataclass(slots=True)
class _Slot:
    request: PageRequest
    #: Records the page is expected to hold; fewer means the end, or a server capping pages.
    assumed: int
    task: asyncio.Task[Response]
    empty: bool = field(default=False)


class PageStream(Generic[T]):
    """Pages of one walk in offset order, with at most ``concurrency`` requests in flight.

    Each page yielded holds only records not yielded before (``items``), and those of its records
    the typed model could not take (``rejected``, under the default ``bad_records="skip"``).
    ``resume`` is where a new walk would continue; ``statistics()`` is this walk's account.
    Use it with ``async for``, or ``async with`` to close it early; ``close()`` cancels every
    fetch at once without waiting for them.
    """

    def __init__(
        self,
        fetch: Fetch,
        decode: Decode[T],
        spec: WalkSpec,
        *,
        record_id: Callable[[T], object],
        cheap_ids: bool = True,
        url: Callable[[PageRequest], str] = lambda request: "",
        path: str = "",
        events: Events | None = None,
        retry_delay: Callable[[ParenError, int], float | None] = lambda error, attempt: None,
    ) -> None:
        self._fetch = fetch
        self._decode = decode
        self._spec = spec
        self._record_id = record_id
        self._cheap_ids = cheap_ids
        self._url = url
        self._path = path
        self._events = events or Events()
        self._retry_delay = retry_delay
        self._id = next(_walk_ids)
        self._context: contextvars.Context | None = None
        self._window: deque[_Slot] = deque()
        self._extra: set[asyncio.Task[Response]] = set()
        self._stitcher = Stitcher(spec.resume.last_ids if spec.resume else ())
        self._overlap = 1 if spec.drift_check and spec.page_size >= 2 else 0
        self._next: PageRequest | None = self._first_request()
        self._ramp = 1
        #: Records per page the server really gives, once a short page has shown it.
        self._cap: int | None = None
        self._end_at: int | None = None
        self._last_received = 0
        self._stalled = 0
        self._position = spec.resume.offset if spec.resume else spec.offset
        self._tail: tuple[Sequence[object], ...] = (
            (tuple(spec.resume.last_ids),) if spec.resume else ()
        )
        self._counts = dict.fromkeys(_COUNTS, 0)
        self._previous: tuple[int, object] | None = None
        self._repeats = 0
        #: The page an items iterator is handing out, and what it has left of it.
        self.partial: tuple[Page[T], Any] | None = None
        self._closed_by: ParenError | None = None
        self._head: PageRequest | None = None
        self._started: float | None = None
        self._state: Literal["new", "running", "done", "closed"] = "new"
        self._deadline = None if spec.deadline is None else time.monotonic() + spec.deadline

    def _first_request(self) -> PageRequest | None:
        spec = self._spec
        if spec.max_items == 0:
            return None
        if spec.resume is None or not spec.resume.last_ids:
            limit = (
                spec.page_size if spec.max_items is None else min(spec.page_size, spec.max_items)
            )
            return PageRequest(spec.resume.offset if spec.resume else spec.offset, limit)
        # Re-read half a page before the point: removals or inserts there while the walk was
        # stopped shift its last record either way, and the stitcher finds it in this page.
        reach = min(spec.resume.offset, spec.page_size // 2)
        return PageRequest(spec.resume.offset - reach, spec.page_size, reach)

    @property
    def first_request(self) -> PageRequest | None:
        """The request the walk starts with; None when ``max_items=0`` asks for nothing."""
        return self._first_request()

    async def fetch_one(self, request: PageRequest) -> Page[T]:
        """One page as the server sent it, outside any walk (``await pager``)."""
        self._context = self._context or contextvars.copy_context()
        try:
            return await self._fetch_extra(request)
        except ParenError as error:
            error.resume = error.resume or ResumePoint(request.offset)
            raise

    # -- what the walk tells --

    @property
    def resume(self) -> ResumePoint:
        """Where a new walk continues with nothing lost or repeated (``locations(resume=...)``)."""
        position, tail = self._position, self._tail
        if self.partial is not None:  # items handed out one by one: count only those taken
            page, left = self.partial
            remaining = left.__length_hint__()
            if remaining:
                taken = len(page.items) - remaining
                position = page.offset + taken
                tail = (*tail[:-1], _LazyIds(page.items[:taken], self._entry_id))
        ids = [record_id for ids in tail for record_id in ids][-RESUME_IDS:]
        return ResumePoint(position, tuple(ids))

    @property
    def resume_offset(self) -> int:
        """The offset just after the last record yielded."""
        return self._position

    def statistics(self) -> WalkStatistics:
        """This walk's account so far (``complete`` once it has ended with nothing skipped)."""
        counts = self._counts
        complete = (
            self._state == "done" and not counts["unrecovered_drift"] and not counts["bad_records"]
        )
        return WalkStatistics(**counts, complete=complete)

    # -- lifecycle --

    def close(self, reason: ParenError | None = None) -> None:
        """Cancel every fetch in flight and end the walk. Idempotent; does not wait.

        ``reason`` is what a consumer waiting on the walk gets instead of a stray cancellation
        (the client passes ``ClientClosedError`` when it closes).
        """
        if reason is not None and self._closed_by is None and self._state != "done":
            self._closed_by = reason
        self._next = None
        self._cancel_window()
        for task in self._extra:
            task.cancel()
        self._extra.clear()
        self._finish(None, ended=False)

    def _finish(self, error: BaseException | None, *, ended: bool) -> None:
        if self._state == "running":
            self._state = "done" if ended else "closed"
            self._events.emit(WalkEvent(self._path, self._id, self.statistics(), error))
        elif self._state == "new":
            self._state = "closed"

    def _cancel_window(self) -> None:
        while self._window:
            self._window.pop().task.cancel()

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> PageStream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # e.g. the event loop is already closed
            self.close()

    def __aiter__(self) -> _PageIterator[T]:
        return _PageIterator(self)

    async def __anext__(self) -> Page[T]:
        return await self.next_page()

    # -- iteration --

    async def next_page(self) -> Page[T]:
        """The next page with new records; ``StopAsyncIteration`` at the end."""
        if self._state == "new":
            self._start()
        elif self._state != "running":
            if self._closed_by is not None:
                raise self._closed_by
            raise StopAsyncIteration
        while True:
            if not self._window:
                self._fill()
                if not self._window:
                    self._done()
            try:
                page = await self._advance()
            except BaseException as exc:
                if isinstance(exc, ParenError):
                    self._annotate(exc)
                self._finish(exc, ended=False)
                self.close()
                raise
            if page.items or page.rejected:
                self._counts["pages"] += 1
                self._events.emit(
                    PageEvent(
                        self._path,
                        page.offset,
                        len(page.items),
                        time.monotonic() - (self._started or 0.0),
                        self._id,
                    )
                )
                return page

    def _start(self) -> None:
        self._state = "running"
        self._started = time.monotonic()
        self._context = contextvars.copy_context()
        self._context.run(CURRENT_WALK.set, self._id)
        self._events.emit(WalkEvent(self._path, self._id))

    def _done(self) -> None:
        self._finish(None, ended=True)
        raise StopAsyncIteration

    def _annotate(self, error: ParenError) -> None:
        if error.resume is None:
            error.resume = self.resume
        if error.url is None and self._head is not None:
            error.method, error.url = "GET", self._url(self._head)

    # -- the window --

    def _spawn(self, request: PageRequest) -> asyncio.Task[Response]:
        assert self._context is not None
        self._counts["requests"] += 1
        loop = asyncio.get_running_loop()
        return self._context.run(loop.create_task, self._fetch(request))  # type: ignore[arg-type]

    def _fill(self) -> None:
        """Start fetches up to the ramp, never past a known end or ``max_items``."""
        allowed = min(self._ramp, self._spec.concurrency)
        while self._next is not None and len(self._window) < allowed:
            request = self._next
            if self._end_at is not None and request.offset >= self._end_at:
                self._next = None  # a page at or before this offset came back empty
                return
            if self._spec.max_items is not None:
                remaining = (
                    self._spec.max_items
                    - self._counts["records"]
                    - sum(slot.assumed - slot.request.overlap for slot in self._window)
                )
                if remaining <= 0:
                    return
                request = PageRequest(
                    request.offset, min(request.limit, remaining + request.overlap), request.overlap
                )
            assumed = request.limit if self._cap is None else min(request.limit, self._cap)
            slot = _Slot(request, assumed, self._spawn(request))
            slot.task.add_done_callback(functools.partial(self._on_done, slot))
            self._window.append(slot)
            self._next = self._after(request, assumed)

    def _after(self, request: PageRequest, received: int) -> PageRequest:
        overlap = self._overlap if self._cap is None or self._cap > self._overlap else 0
        return PageRequest(request.offset + received - overlap, self._spec.page_size, overlap)

    def _on_done(self, slot: _Slot, _: object) -> None:
        task = slot.task
        if task.cancelled():
            return
        if task.exception() is not None:  # .exception() also marks the failure as retrieved
            # The walk will stop at this page: stop spending on the pages after it now.
            self._next = None
            after = itertools.dropwhile(lambda other: other is not slot, list(self._window))
            for other in itertools.islice(after, 1, None):
                other.task.cancel()
            return
        response = task.result()
        if len(response.body) < _SMALL_BODY and _is_empty(response):
            slot.empty = True
            if self._end_at is None or slot.request.offset < self._end_at:
                self._end_at = slot.request.offset

    async def _advance(self) -> Page[T]:
        slot = self._window[0]
        request = self._head = slot.request
        page = await self._page(slot)
        self._window.popleft()
        ids, entries = self._order(page)
        received = len(entries)
        self._check_repeat(request, ids, received)
        full = received == slot.assumed
        if not full:
            # The end, or a server capping pages: pages speculated past this one start at the
            # wrong offsets. The next page is fetched alone to tell which.
            self._cancel_window()
            self._ramp = 1
            self._next = self._next_after_short(request, received)
        start = self._stitcher.place(ids, checked=request.overlap > 0)
        recovered: list[Any] = []
        if start is None:
            recovered = await self._recover(request, ids)
            start = self._stitcher.place(ids, checked=True) or 0
        elif start > request.overlap:
            self._drift(request.offset, duplicates=start - request.overlap, recovered=0)
        self._stitcher.accept(ids)
        if received:
            self._last_received = received
        fresh: Sequence[Any] = [*recovered, *entries[start:]] if recovered else entries[start:]
        self._check_progress(request, received, fresh)
        mixed = bool(page.rejected) or any(isinstance(e, BadRecord) for e in recovered)
        result = self._yield(request, start, len(recovered), fresh, page, mixed)
        if full:
            self._ramp += 1
            self._fill()
        return result

    def _check_repeat(self, request: PageRequest, ids: Sequence[object], received: int) -> None:
        """A server ignoring offset sends the same full page for every offset: stop it early."""
        previous, self._previous = self._previous, (request.offset, ids[0] if ids else None)
        if previous is None or received < request.limit or previous[0] >= request.offset:
            return
        self._repeats = self._repeats + 1 if previous[1] == ids[0] else 0
        # One-record pages repeat legitimately after a single insert; a run of them does not.
        if self._repeats >= (1 if received > 1 else 3):
            raise PaginationError(
                f"the server returned the same page for offset {request.offset} as for offset "
                f"{previous[0]}: it seems to ignore the offset parameter"
            )

    def _next_after_short(self, request: PageRequest, received: int) -> PageRequest | None:
        if received > request.limit or (self._cap is not None and received > self._cap):
            self._cap = None  # the server gives more again
            return self._after(request, received)
        if received == 0:
            return None
        if received > request.overlap:
            self._cap = received
            return self._after(request, received)
        # Only the overlap came back: the end, unless the server caps pages at that size.
        if self._last_received > request.overlap:
            return None
        self._cap = received
        return PageRequest(request.offset + received, self._spec.page_size, 0)

    async def _page(self, slot: _Slot) -> Page[T]:
        """The head page decoded; a garbled body or an error stated in a 200 is fetched again."""
        for attempt in itertools.count(1):
            response = await self._wait(slot.task)
            try:
                page = self._decode(response, slot.request)
            except ParenError as error:
                delay = self._retry_delay(error, attempt)
                if delay is None or attempt >= self._spec.attempts:
                    error.attempts = max(error.attempts, attempt)
                    raise
                self._events.emit(
                    RetryEvent("GET", self._url(slot.request), attempt, slot.request.offset,
                               delay, error)
                )  # fmt: skip
                await anyio.sleep(delay)
                slot.task = self._spawn(slot.request)
                continue
            if len(page.items) + len(page.rejected) > slot.request.limit:
                page = _clip(page, slot.request.limit)  # a surplus would repeat in the next page
            return page
        raise AssertionError("unreachable")  # pragma: no cover

    async def _wait(self, task: asyncio.Task[Response]) -> Response:
        try:
            if self._deadline is None:
                return await task
            with anyio.move_on_after(self._deadline - time.monotonic()):
                return await task
        except asyncio.CancelledError:
            # The fetch, not this task, was cancelled: by the client closing under the walk.
            if self._closed_by is not None and not _cancelling():
                raise self._closed_by from None
            raise
        raise TimeoutError(f"the walk's deadline of {self._spec.deadline:g}s has passed")

    async def _fetch_extra(self, request: PageRequest) -> Page[T]:
        """A fetch outside the window (a drift re-read), taking the head's freed slot."""
        task = self._spawn(request)
        self._extra.add(task)
        try:
            return await self._page(_Slot(request, request.limit, task))
        finally:
            self._extra.discard(task)

    def _order(self, page: Page[T]) -> tuple[Sequence[object], Sequence[Any]]:
        """The page's ids and entries in server order, bad records in their places."""
        entries: Sequence[Any] = page.items
        if page.rejected:
            merged: list[Any] = list(page.items)
            for bad in page.rejected:
                merged.insert(bad.offset - page.offset, bad)
            entries = merged
        if self._cheap_ids and not page.rejected:
            return tuple(map(self._record_id, page.items)), entries
        return _LazyIds(entries, self._entry_id), entries

    def _entry_id(self, entry: Any) -> object:
        return entry.id if isinstance(entry, BadRecord) else self._record_id(entry)

    # -- drift --

    async def _recover(self, request: PageRequest, page_ids: Sequence[object]) -> list[Any]:
        """Re-read before the page until the gap from the last record yielded is closed."""
        first = page_ids[0] if page_ids else None
        offset, limit = self._stitcher.reread(request.offset, self._spec.page_size - 1)
        found: list[Any] = []
        complete = False
        for _ in range(MAX_REREADS):
            read = await self._fetch_extra(PageRequest(offset, limit))
            read_ids, entries = self._order(read)
            recovery = self._stitcher.recover(offset, read_ids, first)
            found += [entries[i] for i in recovery.skipped]
            self._stitcher.accept([read_ids[i] for i in recovery.skipped])
            if recovery.closed:
                complete = recovery.anchored
                break
            offset, limit = recovery.next_offset, self._spec.page_size
        self._drift(request.offset, 0, sum(not isinstance(e, BadRecord) for e in found), complete)
        return found

    def _drift(self, offset: int, duplicates: int, recovered: int, complete: bool = True) -> None:
        counts = self._counts
        counts["drift_events"] += 1
        counts["duplicates_dropped"] += duplicates
        counts["records_recovered"] += recovered
        counts["unrecovered_drift"] += not complete
        self._events.emit(DriftEvent(self._path, offset, duplicates, recovered, complete, self._id))

    def _check_progress(self, request: PageRequest, received: int, fresh: Sequence[Any]) -> None:
        if fresh or received <= request.overlap:
            self._stalled = 0
            return
        self._stalled += 1
        if self._stalled >= STALL_LIMIT:
            raise PaginationError(
                f"{STALL_LIMIT} pages in a row up to offset {request.offset} held only records "
                "already yielded: the server does not seem to honour offset"
            )

    # -- what a page yields --

    def _yield(
        self,
        request: PageRequest,
        start: int,
        recovered: int,
        fresh: Sequence[Any],
        page: Page[T],
        mixed: bool,
    ) -> Page[T]:
        counts = self._counts
        if self._spec.max_items is not None:
            room = self._spec.max_items - counts["records"]
            kept = 0
            for index, entry in enumerate(fresh):
                kept += not isinstance(entry, BadRecord)
                if kept > room:
                    fresh = fresh[:index]
                    break
            if kept >= room:
                self._next = None
                self._cancel_window()
        if mixed:
            items = tuple(e for e in fresh if not isinstance(e, BadRecord))
            rejected = tuple(e for e in fresh if isinstance(e, BadRecord))
        else:
            items, rejected = tuple(fresh), ()
        self._position = request.offset + start + max(0, len(fresh) - recovered)
        if fresh:
            self._tail = (*self._tail[-1:], _LazyIds(fresh, self._entry_id))
        counts["records"] += len(items)
        for bad in rejected:
            counts["bad_records"] += 1
            if self._spec.bad_records == "raise":
                raise RecordError(
                    f"record {bad.id!r} at offset {bad.offset} cannot be decoded: {bad.reason}",
                    record=bad,
                    method="GET",
                    url=self._url(request),
                )
            self._events.emit(BadRecordEvent(self._path, bad, self._id))
        return Page(
            offset=self._position - len(fresh),
            limit=request.limit,
            items=items,
            duration=page.duration,
            timestamp=page.timestamp,
            rejected=rejected,
        )


class _PageIterator(Generic[T]):
    """What ``async for page in stream`` uses: dropping it (after ``break``) closes the walk."""

    __slots__ = ("_stream",)

    def __init__(self, stream: PageStream[T]) -> None:
        self._stream = stream

    def __aiter__(self) -> _PageIterator[T]:
        return self

    async def __anext__(self) -> Page[T]:
        return await self._stream.next_page()

    def __del__(self) -> None:
        self._stream.close()


class _LazyIds(Sequence[object]):
    """The ids of a page's records, each computed when asked for (raw records must be parsed)."""

    __slots__ = ("_entries", "_record_id")

    def __init__(self, entries: Sequence[Any], record_id: Callable[[Any], object]) -> None:
        self._entries = entries
        self._record_id = record_id

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return _LazyIds(self._entries[index], self._record_id)
        return self._record_id(self._entries[index])


def _cancelling() -> int:
    """Cancellations requested of the current task (Python 3.11+; 0 where unknown)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return cancelling() if cancelling is not None else 0


class _Count(msgspec.Struct, gc=False):
    data: list[msgspec.Raw] | None = None


_COUNT: Final = msgspec.json.Decoder(_Count)


def _is_empty(response: Response) -> bool:
    if not 200 <= response.status < 300:
        return False
    try:
        return _COUNT.decode(response.body).data == []
    except (msgspec.DecodeError, RecursionError):
        return False


def _clip(page: Page[T], limit: int) -> Page[T]:
    end = page.offset + limit
    items = page.items[: limit - sum(bad.offset < end for bad in page.rejected)]
    rejected = tuple(bad for bad in page.rejected if bad.offset < end)
    return msgspec.structs.replace(page, items=items, rejected=rejected)
