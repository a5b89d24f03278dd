"""What a watch reports: one frozen msgspec Struct per kind of change, tagged for JSON.

Every event carries ``cycle`` (1 for the first walk of a fresh watch, counting on across a
resumed state) and ``observed_at``: the ``timestamp`` of the response envelope the change was
seen in (``Page.timestamp``; ``None`` when the server sent none). ``msgspec.json.encode(event)``
gives one JSON object whose ``"event"`` key names the kind (``"location_added"``...).
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import msgspec

from paren_async.models import CurrentPricing

__all__ = [
    "CycleEnded",
    "EvseState",
    "EvseStatusChanged",
    "LocationAdded",
    "LocationChanged",
    "LocationRemoved",
    "LocationState",
    "PriceChanged",
    "WatchEvent",
]


class _Base(msgspec.Struct, frozen=True, kw_only=True, tag_field="event"):
    cycle: int
    observed_at: datetime | None


class EvseState(msgspec.Struct, frozen=True, gc=False):
    """One EVSE as last seen: its ``id`` and ``status`` (stripped; ``None`` when absent)."""

    id: str
    status: str | None


class LocationState(msgspec.Struct, frozen=True, kw_only=True):
    """The small state a watch keeps per location, as of the cycle it was last seen in.

    ``evses``: each EVSE's id and status, in server order (an EVSE without an id is named by its
    position, ``"#0"``, ``"#1"``...). ``current_pricing``: the typed
    ``charging_pool.current_pricing`` (``None`` when absent or null). ``content_hash``: 16 hex
    digits of BLAKE2b over the record's bytes with ``last_updated`` and ``status`` values and
    ``current_pricing`` left out, so it changes only for what ``LocationChanged`` reports.
    """

    evses: tuple[EvseState, ...]
    current_pricing: CurrentPricing | None
    content_hash: str


class LocationAdded(_Base, frozen=True, tag="location_added"):
    """A location not known before (on the first cycle only with ``first_cycle="snapshot"``).

    ``record`` is the location's JSON exactly as the server sent it (``msgspec.Raw``: decode it
    with ``msgspec.json.decode(event.record, type=RealtimeLocation)`` if needed).
    """

    location_id: str
    state: LocationState
    record: msgspec.Raw


class LocationRemoved(_Base, frozen=True, tag="location_removed"):
    """A known location absent from a complete cycle; ``last_known`` is its last small state.

    The whole record is not kept between cycles (memory stays flat at 100,000 locations), so
    ``last_known`` holds what a watch remembers: EVSE statuses, current pricing, content hash.
    ``observed_at`` is the timestamp of the cycle's last response.
    """

    location_id: str
    last_known: LocationState


class EvseStatusChanged(_Base, frozen=True, tag="evse_status_changed"):
    """An EVSE's status differs from the previous observation of its location.

    An EVSE that appeared has ``before=None``; one that disappeared has ``after=None`` (its
    location also gets ``LocationChanged``, since the set of EVSEs is part of the content).
    """

    location_id: str
    evse_id: str
    before: str | None
    after: str | None


class PriceChanged(_Base, frozen=True, tag="price_changed"):
    """``charging_pool.current_pricing`` differs from the previous observation (``None``: none)."""

    location_id: str
    before: CurrentPricing | None
    after: CurrentPricing | None


class LocationChanged(_Base, frozen=True, tag="location_changed"):
    """Anything else in the record changed (the content hash differs); ``record`` as sent."""

    location_id: str
    content_hash: str
    record: msgspec.Raw


class CycleEnded(_Base, frozen=True, tag="cycle_ended"):
    """The end of one walk, complete or not: a heartbeat even when nothing changed.

    ``complete``: the walk reached the end, no drift went unrecovered and every record had a
    readable id, so removals were decided; otherwise ``error`` says why (the walk's exception as
    ``"Type: message"``, or the reason removals were not decided). ``records``: records seen;
    ``changes``: events emitted by this cycle (not counting this one); ``removed``: of which
    ``LocationRemoved``; ``deferred``: known locations this walk missed while the collection
    drifted under it, removed only if the next complete cycle misses them too;
    ``bad_records``: records that could not be read (each kept its previous state);
    ``locations``: locations known after the cycle; ``duration``: seconds of the walk.
    """

    complete: bool
    records: int
    changes: int
    removed: int
    deferred: int
    bad_records: int
    locations: int
    duration: float
    error: str | None = None


#: Every event a watch yields; ``msgspec.json.decode(line, type=WatchEvent)`` reads one back.
WatchEvent: TypeAlias = (
    LocationAdded
    | LocationRemoved
    | EvseStatusChanged
    | PriceChanged
    | LocationChanged
    | CycleEnded
)
