"""watch_realtime against the emulator with a fake clock: every change reported, none invented."""

from __future__ import annotations

import itertools
import random

import pytest
from watch_support import Cycle, client_for, run_cycles, walk_requests

from paren_async import CurrentPricing
from paren_async.testing import EmulatorFactory, FakeClock, Fault, ParenEmulator
from paren_async.watch import (
    CycleEnded,
    EvseStatusChanged,
    LocationAdded,
    LocationChanged,
    LocationRemoved,
    PriceChanged,
    WatchEvent,
    watch_realtime,
)

LOCATIONS = 1_500
PERIOD = ParenEmulator.STATUS_PERIOD


def energy(pricing: CurrentPricing | None) -> float | None:
    if pricing is None or pricing.non_member is None:
        return None
    return pricing.non_member.elements[0].pricing_components[0].price


def void(_: object) -> None:
    """Discard a value (so that a lambda may return None)."""


class Replay:
    """What a consumer knows after applying the events; checks each event against the truth."""

    def __init__(self, emulator: ParenEmulator) -> None:
        self.emulator = emulator
        self.statuses: dict[str, dict[str, str | None]] = {}
        self.prices: dict[str, float | None] = {}
        self.status_events = 0

    def apply(self, cycle: Cycle, expected_prices: dict[str, float]) -> None:
        truth = self.emulator.realtime_statuses(cycle.clock)
        for event in cycle.events:
            self.check(event, cycle, truth, expected_prices)

    def check(
        self,
        event: WatchEvent,
        cycle: Cycle,
        truth: dict[str, tuple[tuple[str, str], ...]],
        expected_prices: dict[str, float],
    ) -> None:
        assert event.cycle == cycle.end.cycle
        assert event.observed_at is not None
        if isinstance(event, LocationAdded):
            assert event.location_id not in self.statuses, "added twice"
            self.statuses[event.location_id] = {e.id: e.status for e in event.state.evses}
            self.prices[event.location_id] = energy(event.state.current_pricing)
        elif isinstance(event, EvseStatusChanged):
            known = self.statuses[event.location_id]
            assert known[event.evse_id] == event.before
            assert event.before != event.after
            if event.location_id in truth:  # not removed since
                assert dict(truth[event.location_id])[event.evse_id] == event.after
            known[event.evse_id] = event.after
            self.status_events += 1
        elif isinstance(event, PriceChanged):
            assert self.prices[event.location_id] == energy(event.before)
            assert energy(event.after) == expected_prices[event.location_id]
            self.prices[event.location_id] = energy(event.after)
        elif isinstance(event, LocationRemoved):
            assert cycle.end.complete
            assert event.location_id not in cycle.ids, "removal invented"
            last = {e.id: e.status for e in event.last_known.evses}
            assert last == self.statuses.pop(event.location_id)
            del self.prices[event.location_id]
        else:
            assert not isinstance(event, LocationChanged), "the emulator changes nothing else"
            raise AssertionError(f"unexpected {event!r}")


@pytest.mark.parametrize(
    ("fault_rate", "drift_rate"),
    [
        pytest.param(0.0, 0.0, id="clean"),
        pytest.param(0.1, 0.0, id="faults-10%"),
        pytest.param(0.0, 0.05, id="drift-5%"),
        pytest.param(0.1, 0.05, id="faults-and-drift"),
    ],
)
async def test_every_change_is_reported_and_none_invented(
    paren_emulator_factory: EmulatorFactory, fault_rate: float, drift_rate: float
) -> None:
    """Over eight cycles of status, price, insert and removal changes, the events replay to the
    emulator's exact state, each one true when it was reported, faults and drift included."""
    clock = FakeClock()
    emulator = await paren_emulator_factory(
        locations=LOCATIONS, clock=clock, retry_after=0.001, seed=3
    )
    rng = random.Random(7)
    expected_prices: dict[str, float] = {}
    inserted: set[str] = set()
    removed: set[str] = set()

    def between(number: int) -> None:
        clock.advance(PERIOD)
        if number == 1:
            emulator.configure(fault_rate=fault_rate, drift_rate=drift_rate)
        if number == 7:  # a last clean cycle settles what faults and drift left pending
            emulator.configure(fault_rate=0.0, drift_rate=0.0)
            return
        ids = emulator.ids()
        for index, location_id in enumerate(rng.sample(ids, 3)):
            price = round(0.1 + number / 100 + index / 1000, 3)
            emulator.set_price(location_id, price)
            expected_prices[location_id] = price
        inserted.update(emulator.insert(2, at=rng.randrange(len(ids))))
        removed.update(emulator.remove(2, at=rng.randrange(len(ids) - 2)))

    async with client_for(emulator) as client:
        cycles = await run_cycles(emulator, client, clock, 8, between)

    replay = Replay(emulator)
    for cycle in cycles:
        replay.apply(cycle, expected_prices)
    # Everything reported: what the events add up to is the emulator's state, exactly.
    assert set(replay.statuses) == set(emulator.ids())
    final = emulator.realtime_statuses(clock())
    assert replay.statuses == {loc: dict(evses) for loc, evses in final.items()}
    for location_id, price in expected_prices.items():
        if location_id in replay.prices:
            assert replay.prices[location_id] == price
    assert cycles[-1].end.complete
    every = [event for cycle in cycles for event in cycle.events]
    added = {e.location_id for e in every if isinstance(e, LocationAdded)}
    gone = {e.location_id for e in every if isinstance(e, LocationRemoved)}
    assert inserted - removed <= added
    assert removed - inserted <= gone
    assert sum(isinstance(e, PriceChanged) for e in every) >= len(expected_prices) - len(gone)
    assert replay.status_events > 10_000
    stats = emulator.statistics()
    if fault_rate:
        # The faults were served: about 10% of the ~190 requests the cycles sent.
        assert sum(stats.faults.values()) >= 0.05 * stats.requests
    if drift_rate:
        assert stats.inserted + stats.removed > 2 * 6 * 2  # more than our own inserts/removals
    if not drift_rate:
        # Without drift, each pair of complete cycles reports exactly the truth between them.
        for previous, cycle in itertools.pairwise(cycles):
            if previous.end.complete and cycle.end.complete:
                reported = {
                    (e.location_id, e.evse_id, e.before, e.after)
                    for e in cycle.events
                    if isinstance(e, EvseStatusChanged) and e.location_id in previous.ids
                }
                assert reported == {tuple(change) for change in cycle.truth}


async def test_a_cycle_costs_exactly_the_requests_of_one_walk(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """Each cycle sends what a single Realtime walk sends; under faults, only retries more (fewer
    speculative requests past the end may go out, since a retry slows the fan-out)."""
    clock = FakeClock()
    emulator = await paren_emulator_factory(locations=LOCATIONS, clock=clock, retry_after=0.001)
    async with client_for(emulator) as client:
        one_walk = await walk_requests(emulator, client)
        cycles = await run_cycles(
            emulator, client, clock, 3, lambda n: void(clock.advance(PERIOD)), first_cycle="silent"
        )
        # A cycle is one walk; only the speculative requests past the end vary with timing, and
        # the walk bounds them by concurrency - 1 (issue 10).
        assert all(abs(cycle.requests - one_walk) <= 8 - 1 for cycle in cycles)
        emulator.configure(fault_rate=0.1)
        faulty = await run_cycles(emulator, client, clock, 3, lambda n: void(clock.advance(PERIOD)))
    assert all(cycle.end.complete for cycle in faulty)
    assert sum(cycle.faults for cycle in faulty) > 0
    minimum = -(-LOCATIONS // 99) + 1  # pages overlap by one record; one page confirms the end
    assert all(minimum <= cycle.requests - cycle.faults <= one_walk + 8 - 1 for cycle in faulty)


async def test_first_cycle_snapshot_or_silent(paren_emulator_factory: EmulatorFactory) -> None:
    """ "snapshot" announces every location on the first cycle; "silent" announces none."""
    clock = FakeClock()
    emulator = await paren_emulator_factory(locations=300, clock=clock)
    async with client_for(emulator) as client:
        snapshot = await run_cycles(emulator, client, clock, 1)
        silent = await run_cycles(emulator, client, clock, 2, first_cycle="silent")
    added = [e for e in snapshot[0].events if isinstance(e, LocationAdded)]
    assert [e.location_id for e in added] == emulator.ids()
    assert snapshot[0].end.changes == 300 and snapshot[0].end.locations == 300
    assert silent[0].events == [] and silent[0].end.complete and silent[0].end.locations == 300
    assert silent[1].events == []  # the clock did not move: nothing changed


async def test_a_failed_cycle_reports_what_it_saw_and_removes_nothing(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """A walk that fails part-way ends its cycle incomplete: the locations it saw are compared,
    those it did not reach are neither changed nor removed; the next cycle catches up."""
    clock = FakeClock()
    emulator = await paren_emulator_factory(locations=1_000, clock=clock)
    gone: list[str] = []

    def between(number: int) -> None:
        clock.advance(PERIOD)
        if number == 1:
            gone.extend(emulator.remove(3, at=900))  # beyond where cycle 2 will fail
            # Four 500s in a row at offset 495 exhaust the four attempts: the walk fails there.
            emulator.inject(Fault.SERVER_ERROR, times=4, offset=495)

    async with client_for(emulator, concurrency=1) as client:
        cycles = await run_cycles(emulator, client, clock, 3, between)
    failed, recovered = cycles[1], cycles[2]
    assert not failed.end.complete and "ServerError" in (failed.end.error or "")
    assert emulator.statistics().faults[Fault.SERVER_ERROR] == 4
    assert not any(isinstance(e, LocationRemoved) for e in failed.events)
    seen = {e.location_id for e in failed.events if isinstance(e, EvseStatusChanged)}
    order = emulator.ids()
    assert seen and max(order.index(location) for location in seen) < 496
    assert failed.end.records == 496
    assert recovered.end.complete
    assert {e.location_id for e in recovered.events if isinstance(e, LocationRemoved)} == set(gone)
    late = {e.location_id for e in recovered.events if isinstance(e, EvseStatusChanged)}
    assert any(order.index(location) >= 496 for location in late)


async def test_unrecovered_drift_decides_no_removal(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """Locations vanishing behind the cursor by more than a page cannot be told from skipped
    ones: that cycle removes nothing, the next complete one does."""
    clock = FakeClock()
    emulator = await paren_emulator_factory(locations=1_000, clock=clock)
    gone: list[str] = []
    removed_in: list[int] = []
    ended: list[CycleEnded] = []
    async with client_for(emulator, concurrency=1) as client:
        async for event in watch_realtime(client, interval=0, first_cycle="silent"):
            if isinstance(event, LocationRemoved):
                removed_in.append(event.cycle)
            if isinstance(event, CycleEnded):
                ended.append(event)
                clock.advance(PERIOD)
                if event.cycle == 3:
                    break
            elif event.cycle == 2 and not gone:
                # Mid-walk, a page and a half vanishes right behind the cursor.
                gone.extend(emulator.remove(150, at=0))
        drift = client.statistics().unrecovered_drift
    assert not ended[1].complete and "drift" in (ended[1].error or "")
    assert drift >= 1
    assert ended[2].complete and ended[2].removed == 150
    assert set(removed_in) == {3}


async def test_conditional_requests_when_the_server_sends_validators(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """With ETags (the emulator's `etag=True`; Paren documents none), an unchanged page costs a
    304 and no body; a changed page comes back whole and its change is reported; a status
    period later every page changes and every change is still reported."""
    clock = FakeClock()
    emulator = await paren_emulator_factory(locations=LOCATIONS, clock=clock, etag=True)
    target = emulator.ids()[700]

    def between(number: int) -> None:
        if number == 2:
            emulator.set_price(target, 0.77)
        if number == 3:
            clock.advance(PERIOD)

    async with client_for(emulator) as client:
        cycles = await run_cycles(emulator, client, clock, 4, between, first_cycle="silent")
    not_modified = emulator.statistics().by_status[304]
    pages = -(-LOCATIONS // 99)
    # Cycle 2: nothing changed, every page a 304. Cycle 3: one page changed.
    assert cycles[1].events == []
    assert [type(e).__name__ for e in cycles[2].events] == ["PriceChanged"]
    assert cycles[2].events[0].location_id == target  # type: ignore[union-attr]
    assert not_modified >= 2 * pages - 2
    # Cycle 4: every status is new; every change is reported, none invented.
    reported = {
        (e.location_id, e.evse_id, e.before, e.after)
        for e in cycles[3].events
        if isinstance(e, EvseStatusChanged)
    }
    assert reported == {(c.location_id, c.evse_id, c.before, c.after) for c in cycles[3].truth}
    assert all(cycle.end.complete for cycle in cycles)


async def test_a_change_seen_only_by_a_drift_re_read_is_still_reported(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """Regression (third review): a re-read's page never becomes a 304 for the next cycle, so a
    price changed behind the cursor and met only in a re-read is reported one cycle later."""
    clock = FakeClock()
    emulator = await paren_emulator_factory(locations=40, etag=True, clock=clock)
    ids = emulator.ids()
    target = ids[12]
    for_target: list[int] = []
    async with client_for(emulator) as client:
        stream = watch_realtime(client, interval=0, page_size=10, concurrency=1)
        async for event in stream:
            if isinstance(event, PriceChanged):
                if event.location_id == target:
                    for_target.append(event.cycle)
                if event.cycle == 2 and event.location_id == ids[14]:
                    emulator.set_price(target, 0.77)  # already compared in this cycle
                    emulator.remove(1, at=0)  # behind the cursor: the page is re-read
            if isinstance(event, CycleEnded):
                if event.cycle == 1:
                    for index in (5, 14, 23, 32):
                        emulator.set_price(ids[index], 0.11)
                if event.cycle == 4:
                    break
        await stream.aclose()
    assert for_target == [3]
