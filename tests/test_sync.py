"""``paren-async sync``: DuckDB tables, exact change counts, completeness, one transaction."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sync_support import Feed, files, location, rows, serve_feed, state

from paren_async import ParenClient, RetryPolicy, WalkStatistics
from paren_async._sync import SyncOptions, SyncOutcome, sync, walk_complete
from paren_async._sync._chunks import Chunks
from paren_async.testing import EmulatorFactory, Fault, ParenEmulator

NO_RETRY = RetryPolicy(max_attempts=1)


class Clock:
    """A realtime clock the test moves: the emulator's statuses change every 30 s of it."""

    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


async def run(emu: ParenEmulator | Feed, db: Path, **options: object) -> SyncOutcome:
    key, secret = (emu.api_key, emu.api_secret) if isinstance(emu, ParenEmulator) else ("k", "s")
    retry = options.pop("retry", None)
    async with ParenClient(key, secret, base_url=emu.url, retry=retry or NO_RETRY) as client:
        return await sync(client, SyncOptions(db, **options), handle_signals=False)  # type: ignore[arg-type]


async def evse_statuses(emu: ParenEmulator) -> dict[tuple[str, str | None], str | None]:
    async with ParenClient(emu.api_key, emu.api_secret, base_url=emu.url) as client:
        return {
            (loc.id, evse.id): evse.status
            async for loc in client.realtime_locations()
            for evse in loc.charging_pool.evses
        }


@pytest.fixture
async def feed() -> AsyncIterator[Feed]:
    async with serve_feed(Feed()) as served:
        yield served


async def test_first_sync_stores_every_record_exactly_once(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """A first sync adds every location: its exact bytes, their md5, flat columns, EVSEs, plugs."""
    emu = await paren_emulator_factory(locations=450)
    db = tmp_path / "stations.duckdb"
    outcome = await run(emu, db)
    assert (outcome.status, outcome.exit_code) == ("done", 0)
    assert outcome.as_json()["added"] == outcome.as_json()["records"] == 450
    async with ParenClient(emu.api_key, emu.api_secret, base_url=emu.url) as client:
        raw = [record async for record in client.locations().raw()]
        typed = await client.locations().collect()
    stored = dict(rows(db, "SELECT id, raw FROM locations"))
    assert len(stored) == 450
    for record, loc in zip(raw, typed, strict=True):
        assert stored[loc.id].encode() == record  # exactly as sent
    hashes = dict(rows(db, "SELECT id, hash FROM locations"))
    assert all(
        hashes[loc.id] == hashlib.md5(r).hexdigest() for r, loc in zip(raw, typed, strict=True)
    )
    evses = sum(len(loc.charging_pool.evses) for loc in typed)
    connectors = sum(len(e.connectors) for loc in typed for e in loc.charging_pool.evses)
    assert rows(db, "SELECT count(*), sum(evses), sum(connectors) FROM locations") == [
        (450, evses, connectors)
    ]
    assert rows(db, "SELECT count(*) FROM evses") == [(evses,)]
    assert rows(db, "SELECT count(*) FROM connectors") == [(connectors,)]
    assert rows(db, "SELECT change, count(*) FROM changes GROUP BY change") == [("added", 450)]
    assert rows(db, "SELECT run_id, endpoint, records, added, complete FROM runs") == [
        (1, "metadata", 450, 450, True)
    ]


async def test_second_sync_records_exactly_the_injected_changes(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """Inserts, removals and a status period later: exactly those rows, no timestamp noise."""
    clock = Clock()
    emu = await paren_emulator_factory(locations=400, clock=clock)
    db = tmp_path / "stations.duckdb"
    assert (await run(emu, db, realtime=True)).status == "done"
    before = await evse_statuses(emu)
    inserted = emu.insert(3, at=50)
    removed = emu.remove(4, at=200)
    clock.now += 30.0
    after = await evse_statuses(emu)
    flips = {key for key, status in after.items() if key in before and before[key] != status}
    assert flips  # the clock step did change statuses

    outcome = await run(emu, db, realtime=True)
    summary = outcome.as_json()
    assert (summary["added"], summary["removed"], summary["status_changes"]) == (3, 4, len(flips))
    assert summary["changes"] == 3 + 4 + len(flips)
    assert summary["price_changes"] == 0
    whole = "SELECT location_id FROM changes WHERE run_id = 2 AND evse_id IS NULL AND change = "
    assert {r[0] for r in rows(db, whole + "'added'")} == set(inserted)
    assert {r[0] for r in rows(db, whole + "'removed'")} == set(removed)
    recorded = rows(
        db, "SELECT location_id, evse_id, before, after FROM changes WHERE change = 'status'"
    )
    assert {(loc, evse) for loc, evse, _, _ in recorded} == flips
    assert all(before[(loc, e)] == b and after[(loc, e)] == a for loc, e, b, a in recorded)
    # The current state follows: new statuses, no removed location left.
    current = rows(db, "SELECT location_id, evse_id, status FROM evses")
    assert {(loc, evse): status for loc, evse, status in current} == after
    assert not set(removed) & {r[0] for r in rows(db, "SELECT id FROM locations")}


async def test_unchanged_data_records_nothing(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """A second sync of the same data adds no change row and leaves the tables as they were."""
    emu = await paren_emulator_factory(locations=300)
    db = tmp_path / "stations.duckdb"
    await run(emu, db)
    first = state(db)
    outcome = await run(emu, db)
    assert outcome.as_json()["changes"] == 0
    second = state(db)
    assert {k: v for k, v in second.items() if k != "runs"} == {
        k: v for k, v in first.items() if k != "runs"
    }
    assert [r[0] for r in second["runs"]] == [1, 2]


async def test_field_price_evse_and_connector_changes(feed: Feed, tmp_path: Path) -> None:
    """Each kind of change is one row naming its field, with before and after."""
    db = tmp_path / "stations.duckdb"
    feed.set([location(1), location(2), location(3)])
    assert (await run(feed, db, realtime=True)).status == "done"

    moved = location(1, name="Renamed")
    moved["last_updated"] = "2026-01-01T00:00:00Z"  # a timestamp bump alone is not a change
    repriced = location(2, price=0.45)
    reshaped = location(3, status="OUTOFORDER")
    evses = reshaped["charging_pool"]["evses"]
    evses[1]["connectors"][0]["max_electric_power"] = 50000
    evses.append({"id": "E3-3", "status": "AVAILABLE", "connectors": []})
    del evses[0]
    feed.set([moved, repriced, reshaped])
    outcome = await run(feed, db, realtime=True)

    assert outcome.as_json()["changed"] == 3
    found = rows(
        db,
        "SELECT location_id, evse_id, change, field, before, after FROM changes "
        "WHERE run_id = 2 ORDER BY ALL",
    )
    by_kind = {(loc, evse, change, field): (b, a) for loc, evse, change, field, b, a in found}
    assert by_kind[("LOC-0001", None, "changed", "name")] == ("Station 1", "Renamed")
    price_before, price_after = by_kind[
        ("LOC-0002", None, "price", "charging_pool.current_pricing")
    ]
    assert '"price":0.3' in price_before and '"price":0.45' in price_after
    assert ("LOC-0003", "E3-1", "removed", None) in by_kind
    assert ("LOC-0003", "E3-3", "added", None) in by_kind
    connectors = by_kind[("LOC-0003", "E3-2", "changed", "connectors")]
    assert '"150000 "' in connectors[0] and '"50000"' in connectors[1]
    assert len(found) == 5
    assert rows(db, "SELECT energy_price_min FROM locations WHERE id = 'LOC-0002'") == [(0.45,)]


async def test_messy_records_are_tolerated_and_counted(feed: Feed, tmp_path: Path) -> None:
    """Wrong shapes read as NULL; a record without an id is skipped; a repeated id kept once."""
    db = tmp_path / "stations.duckdb"
    messy = location(1, operator="Tesla", last_updated="2025-05-13 20:22:24")
    messy["charging_pool"]["evses"] = None
    odd = location(2)
    odd["address"]["postal_code"] = 2134
    feed.set([messy, odd, {"name": "no id"}, location(1, name="again"), b'{"id": 7}'])
    outcome = await run(feed, db)
    summary = outcome.as_json()
    assert outcome.status == "done"
    assert (summary["records"], summary["added"]) == (5, 3)
    assert (summary["rejected"], summary["duplicates"]) == (1, 1)
    assert rows(db, "SELECT id, name, operator, evses, postal_code FROM locations ORDER BY id") == [
        ("7", None, None, 0, None),
        ("LOC-0001", "Station 1", None, 0, "02134"),
        ("LOC-0002", "Station 2", None, 2, "2134"),
    ]
    assert rows(db, "SELECT hour(last_updated), latitude FROM locations WHERE id = 'LOC-0001'") == [
        (20, 42.6)
    ]
    assert rows(
        db, "SELECT max_power_kw, evses_ac, evses_dc FROM locations WHERE id = 'LOC-0002'"
    ) == [(150.0, 1, 1)]


async def test_a_partial_walk_never_removes(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """A walk ended by an API error applies what it saw, marks nothing removed, exits 4."""
    emu = await paren_emulator_factory(locations=500)
    db = tmp_path / "stations.duckdb"
    await run(emu, db)
    offsets = sorted({int(r.query["offset"]) for r in emu.requests if "offset" in r.query})
    emu.remove(5, at=0)
    new = emu.insert(2, at=1)
    emu.inject(Fault.SERVER_ERROR, times=None, offset=offsets[3])  # a page mid-walk
    outcome = await run(emu, db)
    summary = outcome.as_json()
    assert (outcome.status, outcome.exit_code) == ("partial", 4)
    assert emu.statistics().faults[Fault.SERVER_ERROR] >= 1
    assert (summary["added"], summary["removed"], summary["complete"]) == (2, 0, False)
    assert rows(db, "SELECT complete, removed, error IS NOT NULL FROM runs WHERE run_id = 2") == [
        (False, 0, True)
    ]
    assert rows(db, "SELECT count(*) FROM locations") == [(502,)]
    assert set(new) <= {r[0] for r in rows(db, "SELECT id FROM locations")}

    emu.clear_faults()
    complete = await run(emu, db)
    assert (complete.status, complete.as_json()["removed"]) == ("done", 5)
    assert rows(db, "SELECT count(*) FROM locations") == [(497,)]


@pytest.mark.parametrize(
    ("error", "drift_before", "drift_after", "expected"),
    [
        pytest.param(None, 0, 0, True, id="clean"),
        pytest.param(None, 1, 1, True, id="old-drift-only"),
        pytest.param(None, 1, 2, False, id="unrepaired-drift"),
        pytest.param(RuntimeError("boom"), 0, 0, False, id="error"),
    ],
)
def test_walk_complete(
    error: BaseException | None, drift_before: int, drift_after: int, expected: bool
) -> None:
    """Complete means no error, and the walk's own account says it saw everything."""
    statistics = WalkStatistics(
        unrecovered_drift=drift_after - drift_before, complete=drift_after == drift_before
    )
    assert walk_complete(error, statistics) is expected


async def test_another_endpoint_is_refused(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """A database holds one endpoint and filter set: another is refused, nothing changes."""
    emu = await paren_emulator_factory(locations=120)
    db = tmp_path / "stations.duckdb"
    await run(emu, db)
    before = state(db)
    for options in ({"realtime": True}, {"filters": {"state": "NY"}}):
        outcome = await run(emu, db, **options)
        assert (outcome.status, outcome.exit_code) == ("failed", 2)
        assert "sync into another file" in str(outcome.error)
    assert state(db) == before


async def test_a_locked_database_is_refused(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """Another process holding the database: exit 5 before walking, nothing left behind."""
    emu = await paren_emulator_factory(locations=50)
    db = tmp_path / "stations.duckdb"
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c",
        f"import duckdb, sys, time; c = duckdb.connect({str(db)!r}); print('ok', flush=True); "
        "sys.stdin.read()",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert await holder.stdout.readline() == b"ok\n"
        outcome = await run(emu, db)
        assert (outcome.status, outcome.exit_code) == ("failed", 5)
        assert emu.statistics().requests == 0
    finally:
        holder.stdin.close()
        await holder.wait()
    assert files(tmp_path) == ["stations.duckdb"]


async def test_sync_leaves_no_task_thread_or_scratch(tmp_path: Path) -> None:
    """After a sync of several chunks: no task, no worker thread, only the database file."""
    db = tmp_path / "stations.duckdb"
    before = set(threading.enumerate())
    async with ParenEmulator(locations=25_000) as emu:
        outcome = await run(emu, db)
    assert outcome.status == "done" and outcome.as_json()["records"] == 25_000
    current = asyncio.current_task()
    assert [t for t in asyncio.all_tasks() if t is not current] == []
    assert set(threading.enumerate()) <= before
    assert files(tmp_path) == ["stations.duckdb"]
    assert json.loads(json.dumps(outcome.as_json()))["event"] == "sync.done"


def test_chunks_hand_over_early_only_to_an_idle_receiver(tmp_path: Path) -> None:
    """Full chunks always; a chunk of ``minimum`` records only while the receiver is idle."""
    handed: list[list[bytes]] = []
    idle = [False]

    def ready(path: Path) -> None:
        handed.append(path.read_bytes().splitlines())
        path.unlink()

    chunks = Chunks(tmp_path / "s", ready, size=10, minimum=4, idle=lambda: idle[0])
    page = [b'{"id":"%d"}' % i for i in range(3)]
    chunks.write(page)
    chunks.write(page)  # 6 records, receiver busy: kept
    assert handed == []
    idle[0] = True
    chunks.write(page)  # 9 >= 4 and idle: handed over
    assert [len(lines) for lines in handed] == [9]
    idle[0] = False
    for _ in range(4):
        chunks.write(page)  # 12 >= 10: handed over although busy
    chunks.close()
    assert [len(lines) for lines in handed] == [9, 12]
    hash_, record = handed[0][0].split(b"\x01")
    assert (hash_.decode(), record) == (hashlib.md5(b'{"id":"0"}').hexdigest(), b'{"id":"0"}')
