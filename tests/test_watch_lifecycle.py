"""A watch stops cleanly however it is left, and keeps its schedule without overlapping walks."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time

import pytest
from watch_support import client_for, other_tasks, settle, threaded_emulator

from paren_async import ClientClosedError, UsageError
from paren_async.watch import CycleEnded, WatchEvent, watch_realtime

pytestmark = pytest.mark.filterwarnings("error")


async def test_breaking_out_mid_walk_leaves_no_task() -> None:
    """`break` on the first event, with pages in flight: every task is gone just after."""
    with threaded_emulator(locations=5_000, latency=0.05) as emulator:
        async with client_for(emulator) as client:
            async for _ in watch_realtime(client):
                assert len(other_tasks()) >= 2  # the walk's fetches are in flight
                break
            await settle()
            assert other_tasks() == set()
            # aclosing() closes the walk at once, without waiting for the garbage collector.
            async with contextlib.aclosing(watch_realtime(client)) as events:
                async for _ in events:
                    assert len(other_tasks()) >= 2
                    break
            for _ in range(3):
                await asyncio.sleep(0)
            assert other_tasks() == set()


@pytest.mark.parametrize("where", ["mid-walk", "between-cycles"])
async def test_cancelling_the_consumer_leaves_no_task(where: str) -> None:
    """Cancelling the task iterating a watch, in a walk or in the pause between cycles, ends it
    with every fetch cancelled."""
    with threaded_emulator(locations=5_000, latency=0.05) as emulator:
        async with client_for(emulator) as client:
            ended = asyncio.Event()

            async def consume() -> None:
                async for event in watch_realtime(client, interval=30):
                    if where == "mid-walk" or isinstance(event, CycleEnded):
                        ended.set()

            task = asyncio.create_task(consume())
            await ended.wait()
            await asyncio.sleep(0.1)
            assert len(other_tasks()) >= (3 if where == "mid-walk" else 1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await settle()
            assert other_tasks() == set()


@pytest.mark.parametrize("where", ["mid-walk", "between-cycles"])
async def test_closing_the_client_ends_the_watch_quietly(where: str) -> None:
    """aclose() on the client ends a watch promptly, without an error, in a walk or a pause."""
    with threaded_emulator(locations=5_000, latency=0.05) as emulator:
        client = client_for(emulator)
        seen: list[WatchEvent] = []
        started = asyncio.Event()

        async def consume() -> None:
            async for event in watch_realtime(client, interval=30):
                seen.append(event)
                if where == "mid-walk" or isinstance(event, CycleEnded):
                    started.set()

        task = asyncio.create_task(consume())
        await started.wait()
        began = time.monotonic()
        await client.aclose()
        await asyncio.wait_for(task, timeout=2)
        assert time.monotonic() - began < 1.0
        assert task.exception() is None
        await settle()
        assert other_tasks() == set()
        if where == "mid-walk":
            assert not any(isinstance(event, CycleEnded) for event in seen)
        with pytest.raises(ClientClosedError):
            watch_realtime(client)


async def cycle_starts(interval: float, cycles: int, **options: object) -> list[float]:
    """Monotonic times at which each cycle's first request reached the emulator, and the times
    the cycles ended on the client side, interleaved: start1, end1, start2, end2..."""
    with threaded_emulator(**options) as emulator:  # type: ignore[arg-type]
        async with client_for(emulator) as client:
            ends: list[float] = []
            async for event in watch_realtime(client, interval=interval, first_cycle="silent"):
                if isinstance(event, CycleEnded):
                    ends.append(time.monotonic())
                    if len(ends) == cycles:
                        break
        starts = [r.started for r in emulator.requests if r.offset == 0 and r.status == 200]
    return [t for pair in zip(starts, ends, strict=True) for t in pair]


async def test_a_long_cycle_starts_the_next_at_once_without_overlap() -> None:
    """Walks longer than the interval follow each other at once, never in parallel."""
    times = await cycle_starts(0.01, 3, locations=2_000, latency=0.02)
    for end, next_start in zip(times[1::2], times[2::2], strict=False):
        assert 0 <= next_start - end < 0.05


async def test_cycles_start_one_interval_apart() -> None:
    """Short walks wait: each cycle starts `interval` seconds after the previous one started."""
    times = await cycle_starts(0.4, 3, locations=300)
    starts = times[0::2]
    assert all(math.isclose(b - a, 0.4, abs_tol=0.06) for a, b in itertools.pairwise(starts))
    for end, next_start in zip(times[1::2], times[2::2], strict=False):
        assert next_start > end


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"interval": -1}, "interval", id="negative-interval"),
        pytest.param({"interval": math.inf}, "interval", id="infinite-interval"),
        pytest.param({"interval": "60"}, "interval", id="text-interval"),
        pytest.param({"first_cycle": "all"}, "first_cycle", id="first-cycle"),
        pytest.param({"max_items": 10}, "max_items", id="partial-walk"),
        pytest.param({"offset": 5}, "offset", id="offset"),
        pytest.param({"limit": 5}, "limit", id="filter-limit"),
    ],
)
async def test_bad_options_are_refused_at_once(options: dict[str, object], message: str) -> None:
    """A bad option raises UsageError when the watch is created, before any request."""
    with threaded_emulator(locations=10) as emulator:
        async with client_for(emulator) as client:
            with pytest.raises(UsageError, match=message):
                watch_realtime(client, **options)  # type: ignore[arg-type]
        assert emulator.statistics().requests == 0
