"""``watch_realtime``: Realtime walks on a schedule, compared cycle by cycle into events.

One cycle is one complete walk (``client.realtime_locations(**filters).raw_pages()``), so a
cycle costs exactly the requests of a single walk. Events of a page are yielded as soon as the
page has been compared, while the walk goes on (its window of fetches is bounded, and it is
closed by ``break``, cancellation, an error or the client's ``aclose()``). The next cycle starts
``interval`` seconds after the previous one started, or at once when the walk took longer: never
two walks at the same time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, Literal, cast

from paren_async._exceptions import (
    ClientClosedError,
    DecodeError,
    PaginationError,
    RateLimitError,
    ServerError,
    TransportError,
    UsageError,
)
from paren_async._validators import PageValidators

from ._complete import WalkCheck
from ._diff import CycleDiff
from ._events import CycleEnded, WatchEvent
from ._state import WatchState

__all__ = ["FirstCycle", "watch_realtime"]

logger = logging.getLogger("paren_async.watch")

FirstCycle = Literal["snapshot", "silent"]

#: Failures that end one cycle but not the watch: the next cycle may well succeed. Anything
#: else (credentials refused, a 400 for bad filters, a closed client...) ends the watch.
_CYCLE_ERRORS = (TransportError, ServerError, RateLimitError, DecodeError, PaginationError)
#: How often a watch waiting for its next cycle checks whether the client was closed.
_CLOSED_POLL = 0.25

if TYPE_CHECKING:
    from paren_async._client import ParenClient
    from paren_async._pager import Pager
    from paren_async.models import RealtimeLocation

Filters = dict[str, "str | int | float | bool | None"]

#: Walk options that would make a "complete" walk see only part of the collection, so that the
#: rest would be reported removed: refused. (``page_size``, ``concurrency``, ``deadline`` pass.)
_PARTIAL_WALK = ("offset", "max_items", "drift_check")


def watch_realtime(
    client: ParenClient,
    *,
    interval: float = 60.0,
    first_cycle: FirstCycle = "snapshot",
    resume: WatchState | None = None,
    **filters: str | int | float | bool | None,
) -> AsyncGenerator[WatchEvent, None]:
    """Watch the Realtime API: an async iterator of change events, one walk per cycle.

    Each cycle walks every location matching ``filters`` (query parameters, as for
    ``realtime_locations``) and compares it with what the previous cycles saw: ``LocationAdded``,
    ``EvseStatusChanged``, ``PriceChanged``, ``LocationChanged``, then ``LocationRemoved`` and one
    ``CycleEnded`` per cycle. ``interval``: seconds from the start of one cycle to the start of
    the next (default 60; a longer walk starts the next at once). ``first_cycle``: ``"snapshot"``
    (default) reports every location of the first cycle as ``LocationAdded``; ``"silent"``
    reports nothing until the first complete cycle has set the baseline. ``resume``: a
    ``WatchState`` to continue (with the same filters); it is updated in place, page by page
    before the page's events are yielded, so save it at a ``CycleEnded`` event.

    A cycle whose walk fails (retries exhausted, a broken page...) reports what it saw and ends
    with ``CycleEnded(complete=False, error=...)``; locations it did not reach are not removed.
    Removals are decided only by a complete cycle without unrecovered drift (and a location
    missed by a walk the collection drifted under is removed when the next complete cycle misses
    it too: ``CycleEnded.deferred``). ``page_size``, ``concurrency`` and ``deadline`` are passed
    to each walk; ``offset``, ``max_items`` and ``drift_check`` are refused. Errors that no
    later cycle can fix end the iteration: ``AuthenticationError``, ``BadRequestError``,
    ``NotFoundError``, ``RedirectError``. Closing the client ends it quietly.
    Raises ``UsageError`` at once for a bad ``interval``, ``first_cycle`` or filter, a closed
    client, missing credentials, or a ``resume`` state of other filters.
    """
    if isinstance(interval, bool) or not isinstance(interval, (int, float)):
        raise UsageError(f"interval must be a number of seconds, got {type(interval).__name__}")
    if not (math.isfinite(interval) and interval >= 0):
        raise UsageError(f"interval must be a finite number of seconds >= 0, got {interval!r}")
    if first_cycle not in ("snapshot", "silent"):
        raise UsageError(f'first_cycle must be "snapshot" or "silent", got {first_cycle!r}')
    refused = sorted(set(filters) & set(_PARTIAL_WALK))
    if refused:
        raise UsageError(f"a watch walks the whole collection: {', '.join(refused)} not allowed")
    _pager(client, filters)  # refuses bad filters, no credentials, a closed client
    state = WatchState(filters) if resume is None else resume
    state.check_filters(filters)
    return _watch(client, float(interval), first_cycle == "snapshot", state, filters)


def _pager(client: ParenClient, filters: Filters) -> Pager[RealtimeLocation]:
    # Filters and walk options share the keyword namespace of realtime_locations().
    return client.realtime_locations(**cast("dict[str, Any]", filters))


def _closed(client: ParenClient, filters: Filters) -> bool:
    # No public "closed" flag: making a pager (not a walk) is free and refuses a closed client.
    try:
        _pager(client, filters)
    except ClientClosedError:
        return True
    return False


async def _wait_until(deadline: float, client: ParenClient, filters: Filters) -> bool:
    """Sleep until ``deadline`` (monotonic); False as soon as the client is closed."""
    while True:
        if _closed(client, filters):
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return True
        await asyncio.sleep(min(remaining, _CLOSED_POLL))


def _closed_under_us(client: ParenClient, filters: Filters) -> bool:
    """A walk cancelled by ``client.aclose()``, not this task being cancelled."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)  # Python 3.11+
    return cancelling is not None and cancelling() == 0 and _closed(client, filters)


async def _watch(
    client: ParenClient,
    interval: float,
    snapshot: bool,
    state: WatchState,
    filters: Filters,
) -> AsyncGenerator[WatchEvent, None]:
    next_start: float | None = None
    # Conditional requests where the server sends validators (Paren documents none): a page
    # answered 304 is exactly as last cycle, so it costs no body and yields no event.
    validators = PageValidators()
    while True:
        if next_start is not None and not await _wait_until(next_start, client, filters):
            return
        started = time.monotonic()
        next_start = started + interval
        state.cycle += 1
        diff = CycleDiff(state, state.cycle, announce_new=snapshot or state.baseline)
        error: str | None = None
        try:
            walk = _pager(client, filters).raw_pages(validators=validators)
        except ClientClosedError:
            return
        check = WalkCheck(walk)
        try:
            async with walk:
                async for page in walk:
                    for event in diff.page(page):
                        yield event
        except ClientClosedError:
            return
        except asyncio.CancelledError:
            if _closed_under_us(client, filters):
                return
            raise
        except _CYCLE_ERRORS as exc:
            error = f"{type(exc).__name__}: {exc}"
            logger.warning("watch cycle %d failed, nothing removed: %s", state.cycle, error)
        duration = time.monotonic() - started
        if error is None and not check.complete():
            error = "drift during the walk went unrecovered: removals not decided"
        if error is None and diff.unidentified:
            error = f"{diff.unidentified} record(s) without a readable id: removals not decided"
        complete = error is None
        if complete:
            for event in diff.removals(drifted=check.drifted()):
                yield event
            state.baseline = True
        yield CycleEnded(
            cycle=diff.cycle,
            observed_at=diff.last_seen_at,
            complete=complete,
            records=diff.records,
            changes=diff.changes,
            removed=diff.removed,
            deferred=diff.deferred,
            bad_records=diff.bad_records,
            locations=len(state),
            duration=round(duration, 6),
            error=error,
        )
