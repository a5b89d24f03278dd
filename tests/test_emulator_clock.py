"""The emulator's ground truth for change detection: a fake clock, status changes, prices.

Checked over raw HTTP (emulator_support), never through the client under test.
"""

from __future__ import annotations

from typing import Any

import pytest
from emulator_support import REALTIME, Api, api_for

from paren_async.testing import EmulatorFactory, FakeClock, ParenEmulator, StatusChange

PERIOD = ParenEmulator.STATUS_PERIOD


async def served(api: Api) -> dict[str, dict[str, Any]]:
    """Every realtime record as served now, by id."""
    records: dict[str, dict[str, Any]] = {}
    while True:
        page = await api.get(REALTIME, limit=100, offset=len(records))
        assert page.status == 200
        records.update((record["id"], record) for record in page.data)
        if len(page.data) < 100:
            return records


def statuses(records: dict[str, dict[str, Any]]) -> dict[tuple[str, str], str]:
    return {
        (location_id, evse["id"]): evse["status"]
        for location_id, record in records.items()
        for evse in record["charging_pool"]["evses"]
    }


def test_fake_clock_moves_only_when_told() -> None:
    """A FakeClock starts on a status-period boundary and moves by advance() only."""
    clock = FakeClock()
    assert clock() % PERIOD == 0 and clock() == clock()
    assert clock.advance(12.5) == clock() and clock() % PERIOD == 12.5
    assert FakeClock(100.0)() == 100.0
    with pytest.raises(ValueError, match="seconds"):
        clock.advance(-1)


async def test_realtime_changes_are_exactly_what_is_served(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """realtime_changes(t0, t1) lists every EVSE whose served status differs between the two
    clock values, and nothing else; within one status period nothing changes."""
    clock = FakeClock()
    emulator = await paren_emulator_factory(locations=400, clock=clock)
    async with api_for(emulator) as api:
        t0 = clock()
        before = statuses(await served(api))
        clock.advance(PERIOD - 1)
        assert statuses(await served(api)) == before
        assert emulator.realtime_changes(t0, clock()) == frozenset()
        clock.advance(1)
        after = statuses(await served(api))
    expected = {
        StatusChange(location_id, evse_id, was, after[location_id, evse_id])
        for (location_id, evse_id), was in before.items()
        if after[location_id, evse_id] != was
    }
    assert len(expected) > 100
    assert emulator.realtime_changes(t0, clock()) == expected
    truth = emulator.realtime_statuses(clock())
    assert {(loc, evse): status for loc, evses in truth.items() for evse, status in evses} == after


async def test_set_price_is_served_from_the_next_request(paren_emulator: ParenEmulator) -> None:
    """set_price() changes current_pricing of that location only, at once; None serves null."""
    emulator = paren_emulator
    target, other = emulator.ids()[3], emulator.ids()[4]
    async with api_for(emulator) as api:
        first = await served(api)
        emulator.set_price(target, 0.42, currency="CAD")
        second = await served(api)
        assert second[target]["charging_pool"]["current_pricing"] == {
            "non-member": {
                "currency": "CAD",
                "elements": [
                    {
                        "pricing_components": [{"type": "ENERGY", "price": 0.42, "step_size": 1}],
                        "restrictions": {},
                    }
                ],
            }
        }
        assert second[other] == first[other]
        emulator.set_price(target, None)
        assert (await served(api))[target]["charging_pool"]["current_pricing"] is None
    with pytest.raises(KeyError):
        emulator.set_price("PRN-nope", 0.1)
