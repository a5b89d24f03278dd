"""Resilience end to end: drift on live data, capped pages, rate limits, budgets, faults at scale."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import msgspec
import pytest
from conftest import FAST_RETRY, MakeServer, client_for

from paren_async import ClientStatistics, ParenClient, RetryPolicy, Timeout, TimeoutError
from paren_async.testing import EmulatorFactory, Fault, ParenEmulator


def client_of(emulator: ParenEmulator, **options: object) -> ParenClient:
    options.setdefault("retry", FAST_RETRY)
    return ParenClient(emulator.api_key, emulator.api_secret, base_url=emulator.url, **options)  # type: ignore[arg-type]


async def walk_changing(
    emulator: ParenEmulator, change: Callable[[], object], *, after: int, drift_check: bool = True
) -> tuple[list[str], ClientStatistics]:
    """Walk page by page and apply `change` to the collection once `after` records were seen."""
    seen: list[str] = []
    async with client_of(emulator, concurrency=1) as client:
        async for page in client.locations(drift_check=drift_check).pages():
            seen += [loc.id for loc in page.items]
            if len(seen) == after:
                change()
        return seen, client.statistics()


class TestDrift:
    async def test_records_inserted_before_the_cursor_are_not_repeated(
        self, paren_emulator_factory: EmulatorFactory, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Inserts behind the cursor shift records into the next page; they are yielded once."""
        emulator = await paren_emulator_factory(locations=1000)
        original = emulator.ids()
        seen, stats = await walk_changing(emulator, lambda: emulator.insert(5, at=20), after=199)
        assert seen == original
        assert (stats.drift_events, stats.duplicates_dropped) == (1, 5)
        assert "collection changed near offset" in caplog.text

    async def test_records_removed_before_the_cursor_are_not_skipped(
        self, paren_emulator_factory: EmulatorFactory
    ) -> None:
        """Removals behind the cursor shift records back; a re-read recovers them."""
        emulator = await paren_emulator_factory(locations=1000)
        original = emulator.ids()
        # The 7 removed were already yielded; the records after the cursor shift back by 7.
        seen, stats = await walk_changing(emulator, lambda: emulator.remove(7, at=30), after=199)
        assert seen == original
        # Of the 7 shifted records, 6 fell into the span already read; the 7th opens the next page.
        assert (stats.drift_events, stats.records_recovered) == (1, 6)

    async def test_without_the_drift_check_removals_skip_records(
        self, paren_emulator_factory: EmulatorFactory
    ) -> None:
        """The hazard the check repairs: plain offset paging silently skips shifted records."""
        emulator = await paren_emulator_factory(locations=1000)
        original = emulator.ids()
        seen, _ = await walk_changing(
            emulator, lambda: emulator.remove(7, at=30), after=200, drift_check=False
        )
        assert set(original) - set(seen) == set(original[200:207])  # shifted behind the cursor

    async def test_random_drift_under_concurrency_loses_and_repeats_nothing(
        self, paren_emulator_factory: EmulatorFactory
    ) -> None:
        """With 5% of requests inserting or removing a record, every lasting record comes once."""
        emulator = await paren_emulator_factory(locations=20_000, drift_rate=0.05, seed=7)
        original = set(emulator.ids())
        async with client_of(emulator, concurrency=8) as client:
            seen = [loc.id async for loc in client.locations()]
            stats = client.statistics()
        lasting = original & set(emulator.ids())
        assert len(seen) == len(set(seen))
        assert lasting <= set(seen)
        assert emulator.statistics().removed > 0
        assert stats.drift_events > 0
        assert stats.unrecovered_drift == 0

    @pytest.mark.parametrize("seed", [1, 2, 3, 4])
    async def test_extreme_drift_with_tiny_pages_near_the_end(
        self, paren_emulator_factory: EmulatorFactory, seed: int
    ) -> None:
        """Half of all requests changing the data: still no repeats, no false alarm, nothing lost."""
        emulator = await paren_emulator_factory(locations=3_000, drift_rate=0.5, seed=seed)
        original = set(emulator.ids())
        async with client_of(emulator) as client:
            seen = [record async for record in client.locations().raw()]
            stats = client.statistics()
        ids = [msgspec.json.decode(r, type=dict)["id"] for r in seen]
        assert len(ids) == len(set(ids))
        if stats.unrecovered_drift == 0:
            assert original & set(emulator.ids()) <= set(ids)


class TestServerLimits:
    async def test_capped_pages_do_not_end_the_walk(
        self, paren_emulator_factory: EmulatorFactory
    ) -> None:
        """A server silently returning 40 records per page is still walked to the end."""
        emulator = await paren_emulator_factory(locations=1000, page_cap=40)
        async with client_of(emulator) as client:
            seen = [loc.id async for loc in client.locations()]
        assert seen == emulator.ids()

    async def test_one_cooldown_for_all_workers(self, make_server: MakeServer) -> None:
        """A 429 pauses every worker until Retry-After: about one round of 429s, not one per retry."""
        server = await make_server(
            20_000, latency=lambda offset: 0.01, throttle_after=40, throttle_for=0.3
        )
        async with client_for(
            server, concurrency=16, retry=RetryPolicy(max_attempts=10, base_delay=0.05)
        ) as client:
            seen = await client.locations().collect()
            stats = client.statistics()
        assert len(seen) == 20_000
        assert 1 <= server.throttled <= 2 * 16
        assert stats.rate_limited == server.throttled
        assert stats.cooldown_seconds >= 0.25

    async def test_client_side_rate_limit(self, make_server: MakeServer) -> None:
        """rate_limit= spaces requests: 60 requests at 100/s with a burst of 100 then 20/s..."""
        server = await make_server(600)
        async with client_for(server, rate_limit=40) as client:
            started = time.monotonic()
            await client.locations(page_size=10).collect()
            elapsed = time.monotonic() - started
        requests = len(server.log)
        assert requests >= 60
        assert elapsed >= (requests - 40) / 40 * 0.9  # the first 40 pass as a burst

    async def test_window_shrinks_under_overload_and_recovers(
        self, paren_emulator_factory: EmulatorFactory, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Sustained 503s halve the client's window; successes grow it back slowly."""
        emulator = await paren_emulator_factory(locations=30_000)
        for page in range(1, 17):  # the first fan-out of 16 pages all meets 503s
            emulator.inject(Fault.SERVICE_UNAVAILABLE, times=2, offset=page * 99)
        retry = RetryPolicy(max_attempts=20, base_delay=0.001, max_delay=0.01)
        async with client_of(emulator, concurrency=16, retry=retry) as client:
            assert client.statistics().window == 64
            await client.locations(max_items=2000).collect()
            shrunk = client.statistics().window
            assert shrunk < 16
            await client.locations().collect()
            assert client.statistics().window > shrunk

    async def test_walk_deadline(self, paren_emulator_factory: EmulatorFactory) -> None:
        """A walk past its deadline stops at once with a TimeoutError that says where to resume."""
        emulator = await paren_emulator_factory(locations=5000, latency=0.1)
        async with client_of(emulator) as client:
            seen: list[str] = []
            started = time.monotonic()
            with pytest.raises(TimeoutError, match="deadline") as caught:
                async for loc in client.locations(deadline=0.35):
                    seen.append(loc.id)
            assert time.monotonic() - started < 1.0
        assert caught.value.resume_offset == len(seen)
        assert seen == emulator.ids()[: len(seen)]


@pytest.mark.slow
async def test_faults_at_scale_every_record_once_in_order(
    paren_emulator_factory: EmulatorFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """100,000 records, 10% mixed faults (5xx, 429, resets, truncation, hangs), 16 in flight."""
    caplog.set_level(logging.WARNING)
    mix = {
        Fault.SERVER_ERROR: 3,
        Fault.BAD_GATEWAY: 2,
        Fault.SERVICE_UNAVAILABLE: 2,
        Fault.RATE_LIMITED: 2,
        Fault.CONNECTION_RESET: 1,
        Fault.TRUNCATED_BODY: 1,
        Fault.ERROR_IN_200: 1,
        Fault.HANG: 1,
    }
    emulator = await paren_emulator_factory(
        locations=100_000, fault_rate=0.1, faults=mix, retry_after=0.01, hang=0.2, seed=3
    )
    retry = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05)
    async with client_of(
        emulator, concurrency=16, retry=retry, timeout=Timeout(attempt=1.0)
    ) as client:
        count = 0
        expected = iter(emulator.ids())
        async for record in client.locations().raw():
            assert record.startswith(b'{"id":"' + next(expected).encode())
            count += 1
        stats = client.statistics()
    assert count == 100_000
    assert stats.retries >= 50
    assert stats.failures == 0
    assert emulator.statistics().faults


class TestCappedEmulator:
    """Regressions (issue 10, 2.1) end to end against the emulator."""

    @pytest.mark.parametrize("concurrency", [1, 8])
    async def test_page_cap_fault_with_page_size_2(
        self, paren_emulator_factory: EmulatorFactory, concurrency: int
    ) -> None:
        """The emulator's PAGE_CAP halves every page (to 1 record at page_size=2): was 2 of 300."""
        emulator = await paren_emulator_factory(
            locations=300, fault_rate=1.0, faults={Fault.PAGE_CAP: 1.0}
        )
        async with client_of(emulator, concurrency=concurrency) as client:
            pager = client.locations(page_size=2)
            got = [loc.id async for loc in pager]
        assert got == emulator.ids()
        assert pager.statistics().complete
        assert emulator.statistics().faults[Fault.PAGE_CAP] > 100  # the cap was really served

    async def test_a_cap_of_one_and_max_items(
        self, paren_emulator_factory: EmulatorFactory
    ) -> None:
        """A server capping pages at one record: all 300, and max_items=101 gives 101 (was 100)."""
        emulator = await paren_emulator_factory(locations=300, page_cap=1)
        async with client_of(emulator, concurrency=4) as client:
            assert [loc.id async for loc in client.locations()] == emulator.ids()
            assert len(await client.locations(max_items=101).collect()) == 101

    async def test_a_cap_lowered_to_one_mid_walk(
        self, paren_emulator_factory: EmulatorFactory
    ) -> None:
        """The cap drops to one record after 150 records: the walk goes on to the real end."""
        emulator = await paren_emulator_factory(locations=400)
        seen: list[str] = []
        async with client_of(emulator, concurrency=1) as client:
            pager = client.locations()
            async for page in pager.pages():
                seen += [loc.id for loc in page.items]
                if len(seen) >= 150:
                    emulator.configure(page_cap=1)
        assert seen == emulator.ids()
        assert pager.statistics().complete
