"""The change stream: Realtime walks on a schedule, compared into typed events (extension ring).

Built on the public client only (``realtime_locations(...).raw_pages()``, ``statistics()``).
"""

from ._events import (
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
from ._loop import FirstCycle, watch_realtime
from ._state import WatchState

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
