"""Live status changes from the Realtime API, as typed events.

    from paren_async.watch import EvseStatusChanged, watch_realtime

    async with ParenClient() as client:
        async for event in watch_realtime(client, interval=60, state="NY"):
            if isinstance(event, EvseStatusChanged) and event.after == "AVAILABLE":
                ...

See ``watch_realtime`` for cycles, completeness and removals, and the README's "Watching live
status" section.
"""

from ._watch._events import (
    CycleEnded,
    EvseState,
    EvseStatusChanged,
    LocationAdded,
    LocationChanged,
    LocationRemoved,
    LocationState,
    PriceChanged,
    WatchEvent,
)
from ._watch._loop import FirstCycle, watch_realtime
from ._watch._state import WatchState

__all__ = [
    "CycleEnded",
    "EvseState",
    "EvseStatusChanged",
    "FirstCycle",
    "LocationAdded",
    "LocationChanged",
    "LocationRemoved",
    "LocationState",
    "PriceChanged",
    "WatchEvent",
    "WatchState",
    "watch_realtime",
]
