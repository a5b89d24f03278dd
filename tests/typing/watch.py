"""Type-checked use of the change stream (mypy --strict; never run)."""

from __future__ import annotations

import contextlib
from datetime import datetime

from typing_extensions import assert_type

from paren_async import CurrentPricing, ParenClient
from paren_async.watch import (
    CycleEnded,
    EvseStatusChanged,
    LocationAdded,
    LocationRemoved,
    LocationState,
    PriceChanged,
    WatchEvent,
    WatchState,
    watch_realtime,
)


async def watch(client: ParenClient) -> None:
    state = WatchState.load("watch.state")
    events = watch_realtime(client, interval=30.0, first_cycle="silent", resume=state, state="NY")
    async with contextlib.aclosing(events):
        async for event in events:
            assert_type(event, WatchEvent)
            assert_type(event.cycle, int)
            assert_type(event.observed_at, datetime | None)
            if isinstance(event, EvseStatusChanged):
                assert_type(event.after, str | None)
            elif isinstance(event, PriceChanged):
                assert_type(event.before, CurrentPricing | None)
            elif isinstance(event, LocationAdded):
                assert_type(event.state, LocationState)
            elif isinstance(event, LocationRemoved):
                assert_type(event.last_known.content_hash, str)
            elif isinstance(event, CycleEnded) and event.complete:
                state.save("watch.state")
