"""The emulator's data: real stations, two record models, determinism, scale and live drift."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest
from emulator_support import METADATA, REALTIME, api_for

from paren_async.testing import EmulatorFactory, ParenEmulator
from paren_async.testing._dataset import PriceComponent, connectors_for, load_stations, prices

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
STATUSES = {"AVAILABLE", "CHARGING", "OUTOFORDER", "INOPERATIVE", "UNKNOWN", "BLOCKED", "RESERVED"}
STATIONS = 4_736


class FakeClock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def data_bytes(body: bytes) -> bytes:
    """The data array of an envelope, without the per-response duration and timestamp."""
    return body.split(b',"duration"')[0]


def test_real_station_list_is_complete() -> None:
    """The packaged AFDC file yields all 4,736 New York stations with unique ids."""
    stations = load_stations()
    assert len(stations) == STATIONS
    assert len({s.afdc_id for s in stations}) == STATIONS
    assert {s.state for s in stations} == {"NY"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("$0.40 per kWh", [("ENERGY", 0.40)], id="energy"),
        pytest.param("Free", [("ENERGY", 0.0)], id="free"),
        pytest.param(
            "$1.50 per session; $0.75 per kWh",
            [("FLAT", 1.5), ("ENERGY", 0.75)],
            id="session-and-energy",
        ),
        pytest.param(
            "$0.30 per kWh; $2 per hour idle fee",
            [("ENERGY", 0.3), ("IDLE_FEE", 2.0)],
            id="idle-fee",
        ),
        pytest.param("$2.50 per hour", [("TIME", 2.5)], id="time"),
        pytest.param(
            "$2.00/Hr Parking Fee , $0.00-$1.00/kWh Variable Energy Fee",
            [("PARKING_TIME", 2.0), ("ENERGY", 0.0)],
            id="parking-and-range",
        ),
        pytest.param(
            "$0.50 initiation fee + $0.18 per kWh",
            [("FLAT", 0.5), ("ENERGY", 0.18)],
            id="initiation",
        ),
        pytest.param("", [], id="empty"),
        pytest.param("Free for guests only", [("ENERGY", 0.0)], id="free-with-words"),
    ],
)
def test_pricing_text_is_parsed(text: str, expected: list[tuple[str, float]]) -> None:
    """AFDC's free-text pricing becomes typed price components in the order written."""
    assert prices(text) == tuple(PriceComponent(kind, price) for kind, price in expected)


@pytest.mark.parametrize(
    ("codes", "level", "standards"),
    [
        pytest.param(("J1772",), 2, ["IEC_62196_T1"], id="j1772-ac"),
        pytest.param(
            ("CHADEMO", "J1772", "J1772COMBO"),
            3,
            ["CHADEMO", "IEC_62196_T1_COMBO"],
            id="dc-codes-only",
        ),
        pytest.param(("CHADEMO", "J1772", "J1772COMBO"), 2, ["IEC_62196_T1"], id="ac-codes-only"),
        pytest.param(("TESLA",), 3, ["SAE_J3400"], id="tesla-dc"),
        pytest.param(("TESLA",), 2, ["SAE_J3400"], id="tesla-ac"),
        pytest.param(("NEMA520",), 1, ["NEMA_5_20"], id="nema-5-20"),
        pytest.param(("CHADEMO",), 2, ["IEC_62196_T1"], id="no-ac-code-falls-back"),
    ],
)
def test_connector_codes_map_to_ocpi(
    codes: tuple[str, ...], level: int, standards: list[str]
) -> None:
    """Each EVSE gets the station's connector codes that fit its level, as OCPI connectors."""
    connectors = connectors_for(codes, level)
    assert [c.standard for c in connectors] == standards
    assert all((c.power_type == "DC") == (level == 3) for c in connectors)
    assert all(c.max_electric_power == c.max_voltage * c.max_amperage for c in connectors)


async def test_metadata_record_shape(paren_emulator: ParenEmulator) -> None:
    """Metadata records nest coordinates in address and EVSEs in the pool, with extras beside."""
    async with api_for(paren_emulator) as api:
        records = (await api.get(METADATA)).data
    for record in records:
        assert isinstance(record["id"], str) and record["id"].startswith("PRN-")
        address = record["address"]
        assert {"address", "city", "postal_code", "state", "country", "coordinates"} <= set(address)
        assert set(address["coordinates"]) == {"latitude", "longitude"}
        assert UTC.fullmatch(record["last_updated"])
        pool = record["charging_pool"]
        assert {"id", "last_updated", "model", "evses"} <= set(pool)
        assert pool.get("program") in (None, "NEVI", "CFI")
        assert "current_pricing" not in pool
        for evse in pool["evses"]:
            assert UUID.fullmatch(evse["id"])
            assert evse["status"] in STATUSES
            for connector in evse["connectors"]:
                assert {"id", "standard", "format", "power_type", "max_voltage", "max_amperage",
                        "max_electric_power", "last_updated"} <= set(connector)  # fmt: skip
        assert "amenities" in record and "historical_performance" in record


async def test_realtime_record_shape(paren_emulator: ParenEmulator) -> None:
    """Realtime records are a different model: live statuses, current pricing, reliability."""
    async with api_for(paren_emulator) as api:
        records = (await api.get(REALTIME)).data
    kinds: set[str] = set()
    for record in records:
        assert "name" not in record and "reliability" in record
        assert set(record["address"]["coordinates"]) == {"latitude", "longitude"}
        pool = record["charging_pool"]
        assert {"evses", "current_pricing"} <= set(pool)
        assert all(evse["status"] in STATUSES for evse in pool["evses"])
        pricing = pool["current_pricing"]
        assert set(pricing) <= {"non-member", "member"} and "non-member" in pricing
        for side in pricing.values():
            assert side["currency"] == "USD"
            for element in side["elements"]:
                assert isinstance(element["restrictions"], dict)
                components = element["pricing_components"]
                for component in components if isinstance(components, list) else [components]:
                    assert isinstance(component["price"], float | int)
                    assert component["step_size"] == 1
                    kinds.add(component["type"])
    assert "ENERGY" in kinds


async def test_every_realtime_page_mixes_object_and_array_pricing(
    paren_emulator: ParenEmulator,
) -> None:
    """In each 100-record page, pricing_components is an object somewhere and an array elsewhere."""
    async with api_for(paren_emulator) as api:
        for offset in range(0, 1_000, 100):
            forms = {
                type(element["pricing_components"])
                for record in (await api.get(REALTIME, offset=offset)).data
                for element in record["charging_pool"]["current_pricing"]["non-member"]["elements"]
            }
            assert forms == {dict, list}, offset


async def test_open_enums_and_member_prices_occur(paren_emulator_factory: EmulatorFactory) -> None:
    """Across the data set, unknown price types and member prices both appear."""
    emulator = await paren_emulator_factory(locations=STATIONS)
    async with api_for(emulator) as api:
        body = b"".join([(await api.get(REALTIME, offset=n)).body for n in range(0, STATIONS, 100)])
    assert b'"IDLE_FEE"' in body
    assert b'"member":' in body
    assert b'"PARKING_TIME"' in body and b'"FLAT"' in body


async def test_a_minority_of_coordinates_are_decimal_strings(paren_emulator: ParenEmulator) -> None:
    """About 5% of records send coordinates as strings; all of them are inside New York."""
    async with api_for(paren_emulator) as api:
        records = [
            r for n in range(0, 1_000, 100) for r in (await api.get(METADATA, offset=n)).data
        ]
    strings = [r for r in records if isinstance(r["address"]["coordinates"]["latitude"], str)]
    assert 20 <= len(strings) <= 100
    for record in records:
        coordinates = record["address"]["coordinates"]
        assert 40.4 < float(coordinates["latitude"]) < 45.1
        assert -80 < float(coordinates["longitude"]) < -71.7


async def test_realtime_statuses_follow_the_clock(paren_emulator_factory: EmulatorFactory) -> None:
    """Statuses hold within a 30-second period and change after it; metadata does not move."""
    clock = FakeClock()
    emulator = await paren_emulator_factory(locations=300, clock=clock)
    async with api_for(emulator) as api:
        first = await api.get(REALTIME)
        metadata = await api.get(METADATA)
        clock.now += 1
        same_period = await api.get(REALTIME)
        clock.now += 30
        next_period = await api.get(REALTIME)
        metadata_later = await api.get(METADATA)
    assert data_bytes(same_period.body) == data_bytes(first.body)
    assert next_period.ids == first.ids
    assert data_bytes(next_period.body) != data_bytes(first.body)
    assert data_bytes(metadata_later.body) == data_bytes(metadata.body)


@pytest.mark.parametrize(
    "path", [pytest.param(METADATA, id="metadata"), pytest.param(REALTIME, id="realtime")]
)
async def test_same_seed_serves_byte_identical_data(
    paren_emulator_factory: EmulatorFactory, path: str
) -> None:
    """Two emulators with one seed serve the same bytes; another seed serves other data."""
    bodies = []
    for seed in (5, 5, 6):
        emulator = await paren_emulator_factory(locations=6_000, seed=seed, clock=FakeClock())
        async with api_for(emulator) as api:
            pages = [await api.get(path, offset=offset) for offset in (0, 4_700, 5_900)]
        bodies.append([data_bytes(page.body) for page in pages])
    assert bodies[0] == bodies[1]
    assert bodies[0][0] != bodies[2][0]


def test_ids_are_unique_and_a_smaller_data_set_is_a_prefix() -> None:
    """Ids never repeat, and growing the data set only appends locations."""
    small, large = ParenEmulator(locations=1_000).ids(), ParenEmulator(locations=30_000).ids()
    assert len(set(large)) == len(large) == 30_000
    assert large[:1_000] == small
    assert sum(not re.fullmatch(r"PRN-\d+", i) for i in large) == 30_000 - STATIONS


async def test_synthetic_copies_are_siblings_of_real_stations(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """Past the 4,736 real stations, copies keep the station's address with jittered coordinates."""
    emulator = await paren_emulator_factory(locations=10_000)
    async with api_for(emulator) as api:
        real = (await api.get(METADATA, offset=7, limit=1)).data[0]
        copy = (await api.get(METADATA, offset=7 + STATIONS, limit=1)).data[0]
    assert copy["id"] == real["id"] + "-1"
    assert (copy["name"], copy["address"]["city"]) == (real["name"], real["address"]["city"])
    lat, real_lat = (float(r["address"]["coordinates"]["latitude"]) for r in (copy, real))
    assert 0 < abs(lat - real_lat) < 0.02
    real_evses = [e["id"] for e in real["charging_pool"]["evses"]]
    copy_evses = [e["id"] for e in copy["charging_pool"]["evses"]]
    assert len(real_evses) == len(copy_evses) and not set(real_evses) & set(copy_evses)


async def test_nevi_station_is_modelled_from_its_row(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """A real NEVI-funded Electrify America station keeps its program, network and DC ports."""
    emulator = await paren_emulator_factory(locations=STATIONS)
    offset = emulator.ids().index("PRN-279445")
    async with api_for(emulator) as api:
        record: dict[str, Any] = (await api.get(METADATA, offset=offset, limit=1)).data[0]
    pool = record["charging_pool"]
    assert pool["program"] == "NEVI" and pool["model"] == "DCFC"
    assert record["operator"] == {"name": "Electrify America"}
    assert len(pool["evses"]) == 4
    standards = {c["standard"] for e in pool["evses"] for c in e["connectors"]}
    assert standards == {"CHADEMO", "IEC_62196_T1_COMBO"}


async def test_prepare_serves_requests_meanwhile_and_changes_no_byte(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """prepare() encodes every template while requests keep being served, the same bytes."""
    emulator = await paren_emulator_factory(locations=STATIONS, seed=21, clock=FakeClock())
    async with api_for(emulator) as api:
        before = await api.get(REALTIME, offset=4_000)
        preparing = asyncio.ensure_future(emulator.prepare())
        during = await api.get(METADATA, offset=2_000)
        assert not preparing.done()  # the page was served while templates were being built
        await preparing
        after = await api.get(REALTIME, offset=4_000)
    assert during.status == 200 and len(during.data) == 100
    assert data_bytes(after.body) == data_bytes(before.body)


async def test_a_million_locations_start_fast_and_serve_the_last_page(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """1,000,000 locations start in well under two seconds; any page is served at once."""
    started = time.monotonic()
    emulator = await paren_emulator_factory(locations=1_000_000)
    startup = time.monotonic() - started
    async with api_for(emulator) as api:
        started = time.monotonic()
        last = await api.get(METADATA, offset=999_900)
        elapsed = time.monotonic() - started
        beyond = await api.get(METADATA, offset=1_000_000)
    assert startup < 2.0
    assert elapsed < 1.0
    assert len(last.data) == 100 and len(set(last.ids)) == 100
    assert last.ids[-1].endswith("-211")  # key 999,999 is copy 211 of a real station
    assert beyond.data == []


async def test_insert_and_remove_shift_later_offsets(paren_emulator: ParenEmulator) -> None:
    """Inserting or removing records moves every later record, as in a live database."""
    before = paren_emulator.ids()
    async with api_for(paren_emulator) as api:
        old_page = await api.get(METADATA, offset=10, limit=20)
        new_ids = paren_emulator.insert(3, at=10)
        shifted = await api.get(METADATA, offset=13, limit=20)
        inserted = await api.get(METADATA, offset=10, limit=3)
        removed = paren_emulator.remove(5, at=0)
        after_remove = await api.get(METADATA, offset=0, limit=5)
    assert len(set(new_ids)) == 3 and not set(new_ids) & set(before)
    assert shifted.ids == old_page.ids
    assert inserted.ids == new_ids
    assert removed == before[:5]
    assert after_remove.ids == before[5:10]
    assert paren_emulator.location_count == 1_000 + 3 - 5
    assert paren_emulator.ids() == before[5:10] + new_ids + before[10:]
    stats = paren_emulator.statistics()
    assert (stats.inserted, stats.removed) == (3, 5)


def test_insert_and_remove_clamp_at_the_end() -> None:
    """Inserting past the end appends; removing past the end removes only what exists."""
    emulator = ParenEmulator(locations=10)
    appended = emulator.insert(2, at=1_000)
    before = emulator.ids()
    assert before[-2:] == appended and emulator.location_count == 12
    assert emulator.remove(5, at=9) == before[9:]
    assert emulator.ids() == before[:9]
    assert emulator.remove(3, at=100) == []
    with pytest.raises(ValueError):  # noqa: PT011
        emulator.insert(-1)


async def _walk_with_drift(emulator: ParenEmulator) -> list[str]:
    async with api_for(emulator) as api:
        return await api.walk(METADATA, limit=50)


async def test_drift_rate_makes_offset_walks_skip_or_repeat(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """With drift_rate, a walk meets inserted/removed records: duplicates or gaps, per seed."""
    walks, finals = [], []
    for _ in range(2):
        emulator = await paren_emulator_factory(locations=2_000, drift_rate=0.3, seed=11)
        walks.append(await _walk_with_drift(emulator))
        finals.append(emulator.ids())
        stats = emulator.statistics()
        assert stats.inserted + stats.removed > 5
    walked, final = walks[0], finals[0]
    assert walks[1] == walked and finals[1] == final  # reproducible for a seed
    assert len(walked) != len(set(walked)) or set(walked) != set(final)
