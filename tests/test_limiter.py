"""Flow control: the limiter's cap, cooldown and token bucket, each waiting as promised."""

from __future__ import annotations

import time

import anyio
import pytest

from paren_async._limiter import Limiter, TokenBucket, decreased_limit


class TestTokenBucket:
    async def test_a_burst_of_rate_goes_through_at_once(self) -> None:
        """A full bucket lets `rate` requests through without waiting."""
        bucket = TokenBucket(20)
        started = time.monotonic()
        for _ in range(20):
            await bucket.take()
        assert time.monotonic() - started < 0.05

    async def test_abandoned_waits_return_their_tokens(self) -> None:
        """Regression: waiters cancelled when a walk is left leave no debt behind them."""
        bucket = TokenBucket(20)
        for _ in range(20):
            await bucket.take()
        with anyio.move_on_after(0.01):
            async with anyio.create_task_group() as group:
                for _ in range(60):  # reservations three seconds into the future
                    group.start_soon(bucket.take)
        started = time.monotonic()
        await bucket.take()
        assert time.monotonic() - started < 0.1  # one token's wait (0.05 s), not three seconds

    async def test_every_window_holds_at_most_rate_t_plus_rate(self) -> None:
        """`rate_limit=N` holds over every window of T >= 1 s: at most N*T + N requests."""
        rate = 40
        bucket = TokenBucket(rate)
        stamps: list[float] = []
        deadline = time.monotonic() + 1.6
        while time.monotonic() < deadline:
            await bucket.take()
            stamps.append(time.monotonic())
        for i, start in enumerate(stamps):
            inside = sum(1 for t in stamps[i:] if t - start <= 1.0)
            assert inside <= rate * 1.0 + rate


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


class TestWindow:
    async def test_one_decrease_per_congestion_event(self) -> None:
        """Failures of requests started before a decrease do not shrink the window again."""
        limit = Limiter(ceiling=16, rate_limit=None)
        slots = [await limit.acquire() for _ in range(8)]
        for slot in slots:
            limit.release(slot, 429)
        assert limit.limit == 4
        assert limit.in_flight == 0

    async def test_additive_increase_after_a_window_of_successes(self) -> None:
        """After `limit` successes in a row the window grows by one, up to the ceiling."""
        limit = Limiter(ceiling=16, rate_limit=None)
        limit.release(await limit.acquire(), 503)
        assert limit.limit == 1
        for expected in (2, 3):
            for _ in range(limit.limit):
                limit.release(await limit.acquire(), 200)
            assert limit.limit == expected

    async def test_acquire_waits_for_a_free_slot(self) -> None:
        """A request beyond the window waits until one in flight finishes."""
        import anyio

        limit = Limiter(ceiling=1, rate_limit=None)
        first = await limit.acquire()
        order: list[str] = []

        async def second() -> None:
            await limit.acquire()
            order.append("second")

        async with anyio.create_task_group() as group:
            group.start_soon(second)
            await anyio.sleep(0.01)
            order.append("release")
            limit.release(first, 200)
        assert order == ["release", "second"]


def test_cooldown_counts_overlapping_pauses_once() -> None:
    """Closing the gate again while closed only adds the extension."""
    now = [100.0]
    limiter = Limiter(ceiling=1, rate_limit=None, clock=lambda: now[0])
    limiter.hold(2.0)
    now[0] = 101.0
    limiter.hold(2.0)  # until 103: one more second
    limiter.hold(0.5)  # inside the current pause: nothing added
    assert limiter.cooldown_total == pytest.approx(3.0)


class TestLimiter:
    async def test_a_request_queued_for_a_slot_is_not_sent_inside_a_cooldown(self) -> None:
        """Regression: B, waiting for a slot while A gets a 429, leaves after the cooldown."""
        limiter = Limiter(ceiling=1, rate_limit=None)
        slot_a = await limiter.acquire()
        acquired_at: list[float] = []

        async def request_b() -> None:
            slot = await limiter.acquire()
            acquired_at.append(time.monotonic())
            limiter.release(slot, 200)

        async with anyio.create_task_group() as group:
            group.start_soon(request_b)
            await anyio.sleep(0.05)
            failed_at = time.monotonic()
            limiter.release(slot_a, 429)
            limiter.hold(0.3)  # what the Sender does right after a 429
        assert acquired_at[0] - failed_at >= 0.3

    async def test_a_cancelled_wait_gives_back_its_slot(self) -> None:
        """A request abandoned while waiting for the cooldown does not keep its slot."""
        limiter = Limiter(ceiling=1, rate_limit=None)
        limiter.hold(10)
        with anyio.move_on_after(0.05):
            await limiter.acquire()
        assert limiter.in_flight == 0
