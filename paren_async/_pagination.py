"""The offset walk: an ordered, bounded window of fetches over two callables it is given.

``fetch(PageRequest) -> Response`` is the network part; a pure ``decode(response, request)``
runs only when a page reaches the head of the window, so it decodes into cache-hot memory. A
finished fetch task is a freed slot. ``Plan`` picks pages, ``Stitcher`` finds new records,
``Ledger`` keeps the account.

Plain tasks owned by the stream, not a task group: a consumer may abandon the walk at any
suspension (``break``, an exception, garbage collection), and a task group must be exited by the
task that entered it. Every fetch started is consumed in order or cancelled by ``close()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import itertools
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, Literal, TypeVar

import anyio

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
from ._exceptions import ParenError, RecordError, ResumePoint, TimeoutError
from ._http import Response
from ._iterators import PageIterator
from ._ledger import Ledger, clip, entry_id, is_empty, order
from ._rules import BadRecords, Guard, PageRequest, Plan, WalkSpec
from ._statistics import WalkStatistics
from .models import BadRecord, Page

__all__ = ["BadRecords", "Decode", "Fetch", "PageRequest", "PageStream", "WalkSpec"]

T = TypeVar("T")

#: A body this small cannot hold a full page: peeked at on arrival to stop speculating early.
_SMALL_BODY: Final = 2048
_walk_ids = itertools.count(1)

Fetch = Callable[[PageRequest], Awaitable[Response]]
Decode = Callable[[Response, PageRequest], Page[T]]


@dataclass(slots=True)
class _Slot:
    request: PageRequest
    assumed: int  # records expected; fewer means the end, or a server capping pages
    task: asyncio.Task[Response]


class PageStream(Generic[T]):
    """Pages of one walk in offset order, at most ``concurrency`` requests in flight.

    A page yielded holds only records not yielded before (``items``) and the records the model
    could not take (``rejected``, under ``bad_records="skip"``). Use it with ``async for``, or
    ``async with`` to close it early; ``close()`` cancels every fetch without waiting.
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
        self._last_ids_by = spec.last_ids_by()
        self._stitcher = Stitcher(spec.resume.last_ids if spec.resume else ())
        self._plan = Plan(spec)
        self._guard = Guard()
        self._entry_id = functools.partial(entry_id, record_id)  # not a method: see Ledger
        self.ledger = Ledger(spec.offset, spec.resume, self._entry_id)
        self._counts = self.ledger.counts
        self._closed_by: ParenError | None = None
        self._head: PageRequest | None = None
        self._started: float | None = None
        self._state: Literal["new", "running", "done", "closed"] = "new"
        self._deadline = None if spec.deadline is None else time.monotonic() + spec.deadline

    async def fetch_one(self, request: PageRequest) -> Page[T]:
        """One page as the server sent it, outside a walk (``await pager``)."""
        self._context = contextvars.copy_context()
        try:
            return await self._fetch_extra(request)
        except ParenError as error:
            error.resume = error.resume or ResumePoint(request.offset)
            raise

    @property
    def resume(self) -> ResumePoint:
        """Where a new walk continues with nothing lost or repeated (``locations(resume=...)``)."""
        return self.ledger.resume

    @property
    def resume_offset(self) -> int:
        """``resume.offset``: the offset just after the last record yielded."""
        return self.ledger.resume.offset

    def statistics(self) -> WalkStatistics:
        """This walk's account so far (``complete`` once it has ended with nothing skipped)."""
        return self.ledger.statistics()

    def close(self, reason: ParenError | None = None) -> None:
        """Cancel every fetch and end the walk; idempotent, does not wait. A consumer waiting on
        the walk gets ``reason`` (``ClientClosedError`` from the client) instead of a stray
        cancellation."""
        if reason is not None and self._closed_by is None and self._state != "done":
            self._closed_by = reason
        self._plan.next = None
        self._cancel_window()
        for task in self._extra:
            task.cancel()
        self._extra.clear()
        self._finish(None, ended=False)

    def _finish(self, error: BaseException | None, *, ended: bool) -> None:
        if self._state == "running":
            self._state = "done" if ended else "closed"
            self.ledger.ended = ended
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

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # e.g. the event loop is already closed
            self.close()

    def __aiter__(self) -> PageIterator[T]:
        return PageIterator(self)

    async def __anext__(self) -> Page[T]:
        return await self.next_page()

    async def next_page(self) -> Page[T]:
        """The next page with new records; ``StopAsyncIteration`` at the end."""
        if self._state == "new":
            self._start()
        self._check_running()
        while True:
            if not self._window:
                self._fill()
                if not self._window:
                    self._finish(None, ended=True)
                    raise StopAsyncIteration
            try:
                page = await self._advance()
            except BaseException as exc:
                if isinstance(exc, ParenError):
                    self._annotate(exc)
                self._finish(exc, ended=False)
                self.close()
                raise
            if page.items or page.rejected or page.unchanged:
                self._counts["pages"] += 1
                elapsed = time.monotonic() - (self._started or 0.0)
                event = PageEvent(self._path, page.offset, len(page.items), elapsed, self._id)
                self._events.emit(event)
                return page

    def _start(self) -> None:
        self._state = "running"
        self._started = time.monotonic()
        self._context = contextvars.copy_context()
        self._context.run(CURRENT_WALK.set, self._id)
        self._events.emit(WalkEvent(self._path, self._id))

    def _annotate(self, error: ParenError) -> None:
        if error.resume is None:
            error.resume = self.resume
        if error.url is None and self._head is not None:
            error.method, error.url = "GET", self._url(self._head)

    def _spawn(self, request: PageRequest) -> asyncio.Task[Response]:
        assert self._context is not None
        self._counts["requests"] += 1
        loop = asyncio.get_running_loop()
        return self._context.run(loop.create_task, self._fetch(request))  # type: ignore[arg-type]

    def _fill(self) -> None:
        plan, bounded = self._plan, self._spec.max_items is not None
        while len(self._window) < min(plan.ramp, self._spec.concurrency):
            expected = sum(s.assumed - s.request.overlap for s in self._window) if bounded else 0
            request = plan.take(expected, self._counts["records"])
            if request is None:
                return
            slot = _Slot(request, plan.assumed(request), self._spawn(request))
            # A weak reference: a task must not keep an abandoned walk alive until it finishes.
            slot.task.add_done_callback(functools.partial(_on_done, weakref.ref(self), slot))
            self._window.append(slot)

    def on_done(self, slot: _Slot) -> None:
        task = slot.task
        if task.cancelled():
            return
        if task.exception() is not None:  # also marks it retrieved; the walk stops at this page
            self._plan.next = None
            after = itertools.dropwhile(lambda other: other is not slot, list(self._window))
            for other in itertools.islice(after, 1, None):
                other.task.cancel()
            return
        response = task.result()
        if len(response.body) < _SMALL_BODY and is_empty(response):
            self._plan.empty_at(slot.request.offset)

    async def _advance(self) -> Page[T]:
        slot = self._window[0]
        request = self._head = slot.request
        page = await self._page(slot)
        self._check_running()  # closed while the page arrived (aclose from another task)
        self._window.popleft()
        ids, entries = order(page, self._record_id, self._cheap_ids)
        full = self._plan.came_back(request, slot.assumed, len(entries))
        if not full:  # the end or a cap: pages speculated past it start at wrong offsets
            self._cancel_window()
        before = request.offset + len(ids) <= self._last_ids_by  # see Stitcher.hold
        held = before and self._stitcher.hold(ids, entries)
        if held:
            start: int | None = len(ids)
        else:
            start = self._stitcher.place(ids, checked=request.overlap > 0, probe=request.probe)
        recovered: list[Any] = []
        if start is None and (recovered := self._stitcher.release()):  # its last ids are gone
            self._drift(request.offset, 0, len(recovered), complete=False)
            start = self._stitcher.place(ids, checked=True) or 0
        elif start is None:
            recovered = await self._recover(request, ids)
            self._check_running()
            start = self._stitcher.place(ids, checked=True) or 0
        elif start > request.overlap and not before:  # the re-read before a point is no drift
            self._drift(request.offset, duplicates=start - request.overlap, recovered=0)
        if not held:
            self._stitcher.accept(ids, start)
        if (validators := self._spec.validators) is not None:  # clean pages may be 304s later
            validators.settle(self._url(request), not recovered and start <= request.overlap)
        fresh: Sequence[Any] = entries[start:]
        fresh_ids: Sequence[object] = ids[start:]
        if recovered:
            fresh = [*recovered, *fresh]
            fresh_ids = [*map(self._entry_id, recovered), *fresh_ids]
        self._guard.check(request, ids, len(fresh) or before)  # pages before a point: no stall
        mixed = bool(page.rejected) or any(isinstance(e, BadRecord) for e in recovered)
        if mixed and self._spec.bad_records == "raise":
            self._raise_bad(fresh, request)  # before the page is counted: resume re-reads it
        result, reached = self.ledger.cut(
            page, fresh, fresh_ids, begin=request.offset + start, recovered=len(recovered),
            mixed=mixed, max_items=self._spec.max_items,
        )  # fmt: skip
        if reached:
            self._plan.next = None
            self._cancel_window()
        for bad in result.rejected:
            self._events.emit(BadRecordEvent(self._path, bad, self._id))
        if full:
            self._fill()
        return result

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
                page = clip(page, slot.request.limit)
            return page
        raise AssertionError("unreachable")  # pragma: no cover

    async def _wait(self, task: asyncio.Task[Response]) -> Response:
        try:
            if self._deadline is None:
                return await task
            with anyio.move_on_after(self._deadline - time.monotonic()):
                return await task
        except asyncio.CancelledError:
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

    async def _recover(self, request: PageRequest, page_ids: Sequence[object]) -> list[Any]:
        """Re-read before the page until the gap from the last record yielded is closed."""
        first = page_ids[0] if page_ids else None
        offset, limit = self._stitcher.reread(request.offset, self._spec.page_size - 1)
        found: list[Any] = []
        complete = False
        for _ in range(MAX_REREADS):
            read = await self._fetch_extra(PageRequest(offset, limit, reread=True))
            read_ids, entries = order(read, self._record_id, self._cheap_ids)
            short = len(read_ids) < limit
            recovery = self._stitcher.recover(offset, read_ids, first, read_short=short)
            found += [entries[i] for i in recovery.skipped]
            self._stitcher.accept([read_ids[i] for i in recovery.skipped])
            if recovery.closed:
                complete = recovery.anchored
                break
            offset, limit = recovery.next_offset, self._spec.page_size
        self._drift(request.offset, 0, sum(not isinstance(e, BadRecord) for e in found), complete)
        return found

    def _drift(self, offset: int, duplicates: int, recovered: int, complete: bool = True) -> None:
        self.ledger.drift(duplicates, recovered, complete)
        self._events.emit(DriftEvent(self._path, offset, duplicates, recovered, complete, self._id))

    def _raise_bad(self, fresh: Sequence[Any], request: PageRequest) -> None:
        bad = next((entry for entry in fresh if isinstance(entry, BadRecord)), None)
        if bad is not None:
            raise RecordError(
                f"record {bad.id!r} at offset {bad.offset} cannot be decoded: {bad.reason}",
                record=bad, method="GET", url=self._url(request),
            )  # fmt: skip

    def _check_running(self) -> None:
        if self._state != "running":
            raise self._closed_by or StopAsyncIteration


def _on_done(walk: weakref.ref[PageStream[Any]], slot: _Slot, _: object) -> None:
    stream = walk()
    if stream is not None:
        stream.on_done(slot)


def _cancelling() -> int:
    """Cancellations requested of the current task (Python 3.11+; 0 where unknown)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return cancelling() if cancelling is not None else 0
