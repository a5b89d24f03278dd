"""The dlt source: loads into dlt's DuckDB destination, merges on id, closes its client always."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

import dlt
import duckdb
import pytest

import paren_async.dlt as paren_dlt
from paren_async import ParenClient
from paren_async.testing import EmulatorFactory, ParenEmulator


@pytest.fixture(autouse=True)
def quiet_dlt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No telemetry (the network is loopback only) and no state outside tmp_path."""
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt-data"))


class Tracked(ParenClient):
    """A real client that is remembered, so a test can see it was closed (``closed``)."""

    opened: ClassVar[list[Tracked]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        Tracked.opened.append(self)


@pytest.fixture
def tracked(monkeypatch: pytest.MonkeyPatch) -> list[Tracked]:
    Tracked.opened = []
    monkeypatch.setattr(paren_dlt, "ParenClient", Tracked)
    return Tracked.opened


def source(emu: ParenEmulator, **options: Any) -> Any:
    return paren_dlt.paren_source(
        api_key=emu.api_key, api_secret=emu.api_secret, base_url=emu.url, **options
    )


def pipeline(tmp_path: Path) -> Any:
    return dlt.pipeline(
        "paren_test",
        destination=dlt.destinations.duckdb(str(tmp_path / "stations.duckdb")),
        dataset_name="paren",
        pipelines_dir=str(tmp_path / "pipelines"),
    )


def query(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(tmp_path / "stations.duckdb"), read_only=True) as connection:
        return connection.execute(sql).fetchall()


async def test_both_resources_load_and_merge_on_id(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path, tracked: list[Tracked]
) -> None:
    """Every location lands once per table; a second run merges instead of appending."""
    emu = await paren_emulator_factory(locations=350)
    await asyncio.to_thread(pipeline(tmp_path).run, source(emu))
    removed = emu.remove(3, at=0)
    await asyncio.to_thread(pipeline(tmp_path).run, source(emu))
    for table in ("locations", "realtime_locations"):
        assert query(tmp_path, f"SELECT count(*), count(DISTINCT id) FROM paren.{table}") == [
            (350, 350)
        ]  # 347 walked twice, merged; 3 removed in between but still there
    async with ParenClient(emu.api_key, emu.api_secret, base_url=emu.url) as client:
        typed = await client.locations().collect()
    # Merge replaces nested rows too: no EVSE of a location walked twice is there twice. (A
    # merge does not delete: the 3 removed locations keep their rows.)
    walked = {loc.id: len(loc.charging_pool.evses) for loc in typed}
    evses = query(
        tmp_path,
        "SELECT l.id, count(*) FROM paren.locations AS l "
        "JOIN paren.locations__charging_pool__evses AS e ON e._dlt_root_id = l._dlt_id GROUP BY l.id",
    )
    assert {i: n for i, n in evses if i in walked} == {i: n for i, n in walked.items() if n}
    assert set(removed) <= {r[0] for r in query(tmp_path, "SELECT id FROM paren.locations")}
    assert tracked and all(client.closed for client in tracked)


async def test_pages_are_yielded_whole(
    paren_emulator_factory: EmulatorFactory, tracked: list[Tracked]
) -> None:
    """Each awaitable the resource yields is one page: a list of records with their hashes."""
    emu = await paren_emulator_factory(locations=250)
    walk = paren_dlt._Walk(
        lambda: Tracked(emu.api_key, emu.api_secret, base_url=emu.url), True, page_size=100
    )
    sizes = []
    while not walk.done:
        page = await walk.next_page()
        assert all(len(row["content_hash"]) == 32 for row in page)
        sizes.append(len(page))
    assert sum(sizes) == 250 and len(sizes) <= 4 and max(sizes) == 100
    assert [client.closed for client in tracked] == [True]


async def test_content_hash_sees_a_change_inside_an_evse(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """With history, a status change deep in an EVSE list makes a new version of the row."""

    class Clock:
        now = 1_750_000_000.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    emu = await paren_emulator_factory(locations=120, clock=clock)
    run = pipeline(tmp_path).run
    await asyncio.to_thread(run, source(emu, history=True).with_resources("realtime_locations"))
    clock.now += 30.0  # statuses (nested in charging_pool.evses) change
    await asyncio.to_thread(run, source(emu, history=True).with_resources("realtime_locations"))
    versions = query(
        tmp_path,
        "SELECT count(*), count(DISTINCT id), count(DISTINCT content_hash) "
        "FROM paren.realtime_locations",
    )
    assert versions == [(240, 120, 240)]
    current = query(
        tmp_path, "SELECT count(*) FROM paren.realtime_locations WHERE _dlt_valid_to IS NULL"
    )
    assert current == [(120,)]


@pytest.mark.parametrize(
    "stop",
    [
        pytest.param("limit", id="add_limit"),
        pytest.param("error", id="error-downstream"),
        pytest.param("source-limit", id="add_limit-on-source"),
    ],
)
async def test_client_is_closed_when_dlt_stops_early(
    paren_emulator_factory: EmulatorFactory, tmp_path: Path, tracked: list[Tracked], stop: str
) -> None:
    """Stopped after a page, by dlt or by an error: the client it opened is closed."""
    emu = await paren_emulator_factory(locations=2_000, latency=0.01)

    def go() -> None:
        resource = source(emu).resources["locations"]
        if stop == "limit":
            pipeline(tmp_path).run(resource.add_limit(1))
        elif stop == "error":

            def fail(page: Any) -> Any:
                raise RuntimeError("downstream failure")

            with pytest.raises(Exception, match="downstream failure"):
                pipeline(tmp_path).run(resource.add_map(fail))
        else:
            pipeline(tmp_path).run(source(emu).add_limit(2))  # both resources

    await asyncio.to_thread(go)
    assert tracked, "the resource opened a client"
    assert all(client.closed for client in tracked)
    walks = 2 if stop == "source-limit" else 1
    assert emu.statistics().requests < walks * 2_000 // 100  # stopped early, not walked out
