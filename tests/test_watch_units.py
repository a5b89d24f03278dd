"""The watch's pure parts: reading one record, comparing pages with the state, saving it."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import msgspec
import pytest

from paren_async import Page, UsageError
from paren_async._watch._diff import CycleDiff
from paren_async._watch._record import BadRecord, observe
from paren_async.watch import (
    EvseState,
    EvseStatusChanged,
    LocationAdded,
    LocationChanged,
    LocationRemoved,
    PriceChanged,
    WatchEvent,
    WatchState,
)

AT = datetime(2025, 5, 13, 20, 22, 24, 898517, tzinfo=timezone.utc)


def pricing(energy: float) -> dict[str, Any]:
    component = {"type": "ENERGY", "price": energy}
    return {"non-member": {"currency": "USD", "elements": [{"pricing_components": component}]}}


def record(
    location_id: str = "L1",
    statuses: tuple[str | None, ...] = ("AVAILABLE", "CHARGING"),
    price: float | None = 0.3,
    *,
    name: str = "Main St",
    stamp: str = "2025-05-13T20:00:00Z",
) -> bytes:
    evses = [
        {"id": f"{location_id}-E{i}", "status": status, "last_updated": stamp}
        for i, status in enumerate(statuses)
    ]
    document = {
        "id": location_id,
        "name": name,
        "last_updated": stamp,
        "charging_pool": {
            "last_updated": stamp,
            "current_pricing": None if price is None else pricing(price),
            "evses": evses,
        },
    }
    return json.dumps(document, indent=1).encode()


def page(*records: bytes, offset: int = 0) -> Page[bytes]:
    return Page(offset=offset, limit=100, items=records, timestamp=AT)


def cycle(state: WatchState, *records: bytes, complete: bool = True) -> list[WatchEvent]:
    state.cycle += 1
    diff = CycleDiff(state, state.cycle, announce_new=True)
    events = diff.page(page(*records))
    if complete:
        events += diff.removals(drifted=False)
    return events


class TestObserve:
    def test_heartbeats_statuses_and_prices_leave_the_content_hash_alone(self) -> None:
        """last_updated, EVSE statuses and current_pricing have their own events, not the hash."""
        base = observe(record())
        moved = observe(record(statuses=("OUTOFORDER", None), price=0.5, stamp="2026-01-01"))
        assert moved.digest == base.digest
        assert moved.evses != base.evses and moved.pricing != base.pricing

    def test_any_other_change_moves_the_content_hash(self) -> None:
        """A renamed location hashes differently."""
        assert observe(record(name="Elm St")).digest != observe(record()).digest

    def test_statuses_are_stripped(self) -> None:
        """A status with stray whitespace is the same status."""
        assert (
            observe(record(statuses=(" AVAILABLE ",))).evses
            == observe(record(statuses=("AVAILABLE",))).evses
        )

    @pytest.mark.parametrize(
        "raw",
        [
            pytest.param(b"{not json", id="not-json"),
            pytest.param(b'{"name": "no id"}', id="no-id"),
            pytest.param(b'{"id": "L1", "charging_pool": {"evses": [{"status": 5}]}}', id="num"),
            pytest.param(
                b'{"id": "L1", "charging_pool": {"evses": [{"id": "a\\u001eb"}]}}', id="ctl"
            ),
        ],
    )
    def test_unreadable_records_raise_bad_record(self, raw: bytes) -> None:
        """A record the watch cannot read is refused with BadRecord, not a library error."""
        with pytest.raises(BadRecord):
            observe(raw)


class TestCycleDiff:
    def test_changes_are_reported_per_kind(self) -> None:
        """Status, price, other content, additions and removals each get their event."""
        state = WatchState()
        first = cycle(state, record("L1"), record("L2"))
        assert [type(e) for e in first] == [LocationAdded, LocationAdded]
        assert first[0].state.evses == (  # type: ignore[union-attr]
            EvseState("L1-E0", "AVAILABLE"),
            EvseState("L1-E1", "CHARGING"),
        )
        events = cycle(
            state,
            record("L1", statuses=("AVAILABLE", "OUTOFORDER"), price=0.35, name="Elm St"),
            record("L3"),
        )
        status, price, changed, added, removed = events
        assert isinstance(status, EvseStatusChanged)
        assert (status.location_id, status.evse_id, status.before, status.after) == (
            "L1",
            "L1-E1",
            "CHARGING",
            "OUTOFORDER",
        )
        assert isinstance(price, PriceChanged) and price.before and price.after
        assert price.before.non_member and price.before.non_member.currency == "USD"
        assert price.after.non_member
        assert price.after.non_member.elements[0].pricing_components[0].price == 0.35
        assert isinstance(changed, LocationChanged) and changed.location_id == "L1"
        assert isinstance(added, LocationAdded) and added.location_id == "L3"
        assert isinstance(removed, LocationRemoved) and removed.location_id == "L2"
        assert removed.last_known.current_pricing == first[1].state.current_pricing  # type: ignore[union-attr]
        assert all(e.cycle == 2 and e.observed_at == AT for e in events)

    def test_evses_that_appear_or_disappear(self) -> None:
        """A new EVSE has before=None, a vanished one after=None."""
        state = WatchState()
        cycle(state, record(statuses=("AVAILABLE",)))
        grown = cycle(state, record(statuses=("AVAILABLE", "CHARGING")))
        assert [
            (e.evse_id, e.before, e.after) for e in grown if isinstance(e, EvseStatusChanged)
        ] == [("L1-E1", None, "CHARGING")]
        shrunk = cycle(state, record(statuses=()))
        assert {
            (e.evse_id, e.before, e.after) for e in shrunk if isinstance(e, EvseStatusChanged)
        } == {
            ("L1-E0", "AVAILABLE", None),
            ("L1-E1", "CHARGING", None),
        }

    def test_nothing_changed_nothing_reported(self) -> None:
        """A second identical cycle, heartbeats aside, reports nothing."""
        state = WatchState()
        cycle(state, record("L1"), record("L2"))
        assert cycle(state, record("L1", stamp="2030-01-01"), record("L2")) == []

    def test_a_bad_record_affects_only_itself(self) -> None:
        """A known location whose record turns unreadable keeps its state and is not removed; a
        bad price refuses that record only."""
        state = WatchState()
        cycle(state, record("L1"), record("L2"))
        broken = b'{"id": "L1", "charging_pool": {"evses": [{"status": 7}]}}'
        bad_price = record("L2", price=0.4).replace(b'"price": 0.4', b'"price": "cheap"')
        state.cycle += 1
        diff = CycleDiff(state, state.cycle, announce_new=True)
        events = diff.page(page(broken, bad_price, record("L3")))
        events += diff.removals(drifted=False)
        assert [type(e) for e in events] == [LocationAdded]
        assert diff.bad_records == 2 and diff.unidentified == 0
        kept = state.location("L2")
        assert kept is not None and kept.current_pricing and kept.current_pricing.non_member
        assert kept.current_pricing.non_member.elements[0].pricing_components[0].price == 0.3
        assert len(state) == 3

    def test_a_record_without_id_is_counted_as_unidentified(self) -> None:
        """Whoever it is, it cannot be matched: the cycle must not decide removals."""
        state = WatchState()
        diff = CycleDiff(state, 1, announce_new=True)
        diff.page(page(b'{"name": "who"}'))
        assert diff.unidentified == 1

    def test_removal_during_drift_waits_for_a_second_miss(self) -> None:
        """A location a drifting walk missed is removed only when the next complete cycle misses it
        too; seen again in between, it stays."""
        state = WatchState()
        cycle(state, record("L1"), record("L2"), record("L3"))
        for expected_removed in ([], ["L3"]):
            state.cycle += 1
            diff = CycleDiff(state, state.cycle, announce_new=True)
            diff.page(
                page(record("L1"), record("L2")) if not expected_removed else page(record("L1"))
            )
            removed = diff.removals(drifted=True)
            assert [
                e.location_id for e in removed if isinstance(e, LocationRemoved)
            ] == expected_removed
        # L3 was missed twice in a row: removed; L2 only once so far: kept, marked.
        assert "L2" in state and state.entries["L2"].missed

    def test_first_cycle_silent_announces_nothing(self) -> None:
        """announce_new=False stores new locations without events."""
        state = WatchState()
        diff = CycleDiff(state, 1, announce_new=False)
        assert diff.page(page(record("L1"))) == [] and "L1" in state


class TestWatchState:
    def test_save_and_load_round_trip(self, tmp_path: Path) -> None:
        """A saved state continues exactly: the next cycle reports only real changes."""
        state = WatchState({"state": "NY"})
        cycle(state, record("L1"), record("L2", price=None))
        path = tmp_path / "watch.state"
        state.save(path)
        loaded = WatchState.load(path)
        assert loaded.cycle == 1 and loaded.filters == {"state": "NY"}
        assert loaded.location("L1") == state.location("L1")
        assert loaded.location("L2") == state.location("L2")
        events = cycle(loaded, record("L1", statuses=("AVAILABLE", "AVAILABLE")), record("L2"))
        assert [type(e) for e in events] == [EvseStatusChanged, PriceChanged]
        assert not list(tmp_path.glob(".*.tmp"))

    def test_other_filters_are_refused(self) -> None:
        """Resuming a state with other filters would report the difference as changes."""
        with pytest.raises(UsageError, match="filters"):
            WatchState({"state": "NY"}).check_filters({"state": "CA"})

    @pytest.mark.parametrize(
        "data", [b"", b"garbage", msgspec.msgpack.encode([9, {}, 0, False, [], []])]
    )
    def test_not_a_state_is_refused(self, data: bytes) -> None:
        """Bytes that are not a saved state raise ValueError."""
        with pytest.raises(ValueError, match="state"):
            WatchState.loads(data)

    def test_events_encode_to_tagged_json(self) -> None:
        """Every event is one JSON object naming its kind; it reads back as the same event."""
        state = WatchState()
        cycle(state, record("L1"))
        events = cycle(state, record("L1", price=0.5))
        line = msgspec.json.encode(events[0])
        assert json.loads(line)["event"] == "price_changed"
        from paren_async.watch import WatchEvent as Event

        assert msgspec.json.decode(line, type=Event) == events[0]
