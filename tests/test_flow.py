"""Pure flow-control and drift rules: token bucket, AIMD window, cooldown, page stitching."""

from __future__ import annotations

import pytest

from paren_async._drift import fresh_start, recover_skipped
from paren_async._flow import AdaptiveLimit, Cooldown, bucket_delay, decreased_limit


class TestTokenBucket:
    def test_full_bucket_lets_a_burst_through(self) -> None:
        """With tokens left, a request goes at once."""
        assert bucket_delay(tokens=5.0, rate=10.0, burst=5.0, elapsed=0.0) == (4.0, 0.0)

    def test_empty_bucket_waits_for_the_next_token(self) -> None:
        """Without tokens, a request waits 1/rate seconds per token owed."""
        tokens, delay = bucket_delay(tokens=0.0, rate=10.0, burst=5.0, elapsed=0.0)
        assert (tokens, delay) == (-1.0, pytest.approx(0.1))
        _, second = bucket_delay(tokens=tokens, rate=10.0, burst=5.0, elapsed=0.0)
        assert second == pytest.approx(0.2)

    def test_refill_is_capped_at_the_burst(self) -> None:
        """A long idle time refills no more than the burst."""
        assert bucket_delay(tokens=0.0, rate=10.0, burst=3.0, elapsed=60.0) == (2.0, 0.0)


@pytest.mark.parametrize(
    ("limit", "in_flight", "expected"),
    [
        pytest.param(64, 16, 8, id="halves-what-was-in-flight"),
        pytest.param(8, 16, 4, id="bounded-by-the-limit"),
        pytest.param(1, 1, 1, id="never-below-one"),
    ],
)
def test_decreased_limit(limit: int, in_flight: int, expected: int) -> None:
    """Multiplicative decrease halves the concurrency that met congestion."""
    assert decreased_limit(limit, in_flight) == expected


class TestAdaptiveLimit:
    async def test_one_decrease_per_congestion_event(self) -> None:
        """Failures of requests started before a decrease do not shrink the window again."""
        limit = AdaptiveLimit(16)
        slots = [await limit.acquire() for _ in range(8)]
        for slot in slots:
            limit.release(slot, congested=True)
        assert limit.limit == 4
        assert limit.in_flight == 0

    async def test_additive_increase_after_a_window_of_successes(self) -> None:
        """After `limit` successes in a row the window grows by one, up to the ceiling."""
        limit = AdaptiveLimit(16)
        limit.release(await limit.acquire(), congested=True)
        assert limit.limit == 1
        for expected in (2, 3):
            for _ in range(limit.limit):
                limit.release(await limit.acquire(), congested=False)
            assert limit.limit == expected

    async def test_acquire_waits_for_a_free_slot(self) -> None:
        """A request beyond the window waits until one in flight finishes."""
        import anyio

        limit = AdaptiveLimit(1)
        first = await limit.acquire()
        order: list[str] = []

        async def second() -> None:
            await limit.acquire()
            order.append("second")

        async with anyio.create_task_group() as group:
            group.start_soon(second)
            await anyio.sleep(0.01)
            order.append("release")
            limit.release(first, congested=False)
        assert order == ["release", "second"]


def test_cooldown_counts_overlapping_pauses_once() -> None:
    """Closing the gate again while closed only adds the extension."""
    now = [100.0]
    cooldown = Cooldown(clock=lambda: now[0])
    cooldown.close_for(2.0)
    now[0] = 101.0
    cooldown.close_for(2.0)  # until 103: one more second
    cooldown.close_for(0.5)  # inside the current pause: nothing added
    assert cooldown.total == pytest.approx(3.0)


class TestDrift:
    @pytest.mark.parametrize(
        ("page", "start"),
        [
            pytest.param(["c", "d", "e"], 1, id="boundary-held"),
            pytest.param(["x", "y", "c", "d"], 3, id="two-inserted-before-cursor"),
            pytest.param(["d", "e", "f"], None, id="boundary-record-gone"),
        ],
    )
    def test_fresh_start(self, page: list[str], start: int | None) -> None:
        """The page's new records start after the previous page's last record, wherever it moved."""
        assert fresh_start(page, "c") == start

    def test_recover_skipped_after_removals(self) -> None:
        """Records that shifted into the previous page's span after removals are recovered."""
        previous = ["a", "b", "c"]  # b was removed later, so d and e shifted back by one
        recovery = recover_skipped(["a", "c", "d"], page_first="e", previous_ids=previous)
        assert recovery.skipped == (2,)
        assert recovery.complete

    def test_recovery_beyond_reach_is_reported(self) -> None:
        """When the re-read holds nothing seen before, more may be missing: not complete."""
        recovery = recover_skipped(["p", "q", "r"], page_first="s", previous_ids=["a", "b", "c"])
        assert recovery.skipped == (0, 1, 2)
        assert not recovery.complete
