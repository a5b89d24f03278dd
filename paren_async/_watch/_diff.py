"""One cycle's comparison: each page's records against the state, then removals at the end.

The state is updated record by record as pages arrive, so what a cycle saw stays known even if
the walk fails later; only removals wait for the end of a complete walk.
"""

from __future__ import annotations

import logging
from datetime import datetime

import msgspec

from paren_async.models import Page

from ._events import (
    EvseStatusChanged,
    LocationAdded,
    LocationChanged,
    LocationRemoved,
    PriceChanged,
    WatchEvent,
)
from ._record import BadRecord, Observation, decode_pricing, observe, record_id
from ._state import Entry, WatchState, evse_pairs, small_state

__all__ = ["CycleDiff"]

logger = logging.getLogger("paren_async.watch")


class CycleDiff:
    """Compare one walk, page by page, with what ``state`` knew; update ``state`` as it goes."""

    def __init__(self, state: WatchState, cycle: int, *, announce_new: bool) -> None:
        self._state = state
        self._entries = state.entries
        self.cycle = cycle
        self._announce_new = announce_new
        # This cycle's distinct prices: equal prices end up as one object in the state.
        self._prices: dict[bytes, bytes] = {}
        self.records = 0
        self.changes = 0
        self.removed = 0
        self.deferred = 0
        self.bad_records = 0
        #: Bad records whose id could not be read either: they may be known locations.
        self.unidentified = 0
        self.last_seen_at: datetime | None = None

    def page(self, page: Page[bytes]) -> list[WatchEvent]:
        """The events of one page, in record order."""
        events: list[WatchEvent] = []
        at = page.timestamp
        if at is not None:
            self.last_seen_at = at
        for location_id in page.unchanged:  # a 304: exactly as last cycle, no event
            self.records += 1
            entry = self._entries.get(location_id)
            if entry is not None:
                entry.seen = self.cycle
                entry.missed = False
        for index, raw in enumerate(page.items):
            self.records += 1
            try:
                self._record(raw, at, events)
            except BadRecord as exc:
                self._bad(raw, page.offset + index, exc)
        self.changes += len(events)
        return events

    def removals(self, *, drifted: bool) -> list[WatchEvent]:
        """After a complete walk: the known locations this cycle did not see are gone.

        When the collection drifted during the walk (even if the walk repaired it), offset
        pagination may still have slipped past a record unnoticed, so a location it missed is
        only marked, and removed when the next complete cycle misses it too.
        """
        cycle = self.cycle
        gone: list[str] = []
        for location_id, entry in self._entries.items():
            if entry.seen == cycle:
                continue
            if drifted and not entry.missed:
                entry.missed = True
                self.deferred += 1
            else:
                gone.append(location_id)
        events: list[WatchEvent] = []
        for location_id in gone:
            entry = self._entries.pop(location_id)
            events.append(
                LocationRemoved(
                    cycle=cycle,
                    observed_at=self.last_seen_at,
                    location_id=location_id,
                    last_known=small_state(entry),
                )
            )
        self.removed = len(events)
        self.changes += len(events)
        return events

    # -- one record --

    def _intern(self, pricing: bytes | None, entry: Entry | None) -> bytes | None:
        if pricing is None:
            return None
        shared = self._prices.get(pricing)
        if shared is None:
            # Keep the object the state already holds when the price did not change.
            shared = entry.pricing if entry and entry.pricing == pricing else pricing
            self._prices[shared] = shared
        return shared

    def _record(self, raw: bytes, at: datetime | None, events: list[WatchEvent]) -> None:
        seen = observe(raw)
        entry = self._entries.get(seen.id)
        pricing = self._intern(seen.pricing, entry)
        if entry is None:
            self._added(seen, pricing, raw, at, events)
            return
        cycle = self.cycle
        # Decided before anything is changed, so that a bad price leaves the entry as it was.
        price_event = None
        if pricing != entry.pricing:
            price_event = PriceChanged(
                cycle=cycle,
                observed_at=at,
                location_id=seen.id,
                before=decode_pricing(entry.pricing),
                after=decode_pricing(pricing),
            )
            entry.pricing = pricing
        entry.seen = cycle
        entry.missed = False
        if seen.evses != entry.evses:
            before = dict(evse_pairs(entry.evses))
            after = dict(evse_pairs(seen.evses))
            # EVSEs still there first, then the ones gone; None stands for "not there".
            for evse_id in {**after, **before}:
                old, new = before.get(evse_id), after.get(evse_id)
                if old != new:
                    events.append(
                        EvseStatusChanged(
                            cycle=cycle,
                            observed_at=at,
                            location_id=seen.id,
                            evse_id=evse_id,
                            before=old,
                            after=new,
                        )
                    )
            entry.evses = seen.evses
        if price_event is not None:
            events.append(price_event)
        if seen.digest != entry.digest:
            entry.digest = seen.digest
            events.append(
                LocationChanged(
                    cycle=cycle,
                    observed_at=at,
                    location_id=seen.id,
                    content_hash=f"{seen.digest:016x}",
                    record=msgspec.Raw(raw),
                )
            )

    def _added(
        self,
        seen: Observation,
        pricing: bytes | None,
        raw: bytes,
        at: datetime | None,
        events: list[WatchEvent],
    ) -> None:
        typed = decode_pricing(pricing)  # a bad price refuses the record before it is stored
        entry = Entry(seen.digest, seen.evses, pricing, self.cycle)
        self._entries[seen.id] = entry
        if self._announce_new:
            state = small_state(entry, typed)
            events.append(
                LocationAdded(
                    cycle=self.cycle,
                    observed_at=at,
                    location_id=seen.id,
                    state=state,
                    record=msgspec.Raw(raw),
                )
            )

    def _bad(self, raw: bytes, offset: int, error: BadRecord) -> None:
        self.bad_records += 1
        location_id = record_id(raw)
        if location_id is None:
            self.unidentified += 1
        else:
            entry = self._entries.get(location_id)
            if entry is not None:  # present, just unreadable: keeps its previous state
                entry.seen = self.cycle
                entry.missed = False
        logger.warning(
            "watch cycle %d: record %s at offset %d cannot be read (%s); it keeps its previous "
            "state: %.200r",
            self.cycle,
            location_id or "without a readable id",
            offset,
            error,
            raw,
        )
