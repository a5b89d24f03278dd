"""Driving a watch cycle by cycle against an emulator with a fake clock, and the ground truth."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from paren_async import ParenClient, RetryPolicy
from paren_async.testing import FakeClock, ParenEmulator, StatusChange
from paren_async.watch import CycleEnded, WatchEvent, watch_realtime

#: Retries without waiting, so fault tests take milliseconds; enough attempts that a 10% fault
#: rate rarely ends a walk (a failed cycle has its own test).
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.0, max_delay=0.0)


def client_for(emulator: ParenEmulator, **options: Any) -> ParenClient:
    options.setdefault("retry", FAST_RETRY)
    return ParenClient(emulator.api_key, emulator.api_secret, base_url=emulator.url, **options)


@dataclass
class Cycle:
    """One cycle as the test saw it: its events and the emulator's truth when it ended."""

    end: CycleEnded
    events: list[WatchEvent]
    clock: float
    #: Emulator ids when the cycle ended.
    ids: set[str]
    #: Requests the emulator received during the cycle, and faults among them.
    requests: int
    faults: int
    #: Ground truth: status changes since the previous cycle ended, for locations present then.
    truth: frozenset[StatusChange] = field(default_factory=frozenset)


async def run_cycles(
    emulator: ParenEmulator,
    client: ParenClient,
    clock: FakeClock,
    count: int,
    between: Callable[[int], None] = lambda number: None,
    **options: Any,
) -> list[Cycle]:
    """Watch ``count`` cycles with ``interval=0``; ``between(n)`` runs after cycle ``n`` ends."""
    cycles: list[Cycle] = []
    events: list[WatchEvent] = []
    stats = emulator.statistics()
    requests, faults = stats.requests, sum(stats.faults.values())
    previous: tuple[float, set[str]] | None = None
    options.setdefault("interval", 0)
    async with contextlib.aclosing(watch_realtime(client, **options)) as stream:
        async for event in stream:
            if not isinstance(event, CycleEnded):
                events.append(event)
                continue
            stats = emulator.statistics()
            ids = set(emulator.ids())
            truth: frozenset[StatusChange] = frozenset()
            if previous is not None:
                truth = frozenset(
                    change
                    for change in emulator.realtime_changes(previous[0], clock())
                    if change.location_id in previous[1]
                )
            cycles.append(
                Cycle(
                    end=event,
                    events=events,
                    clock=clock(),
                    ids=ids,
                    requests=stats.requests - requests,
                    faults=sum(stats.faults.values()) - faults,
                    truth=truth,
                )
            )
            events = []
            if len(cycles) == count:
                break
            previous = (clock(), ids)
            between(len(cycles))
            stats = emulator.statistics()
            requests, faults = stats.requests, sum(stats.faults.values())
    return cycles


async def walk_requests(emulator: ParenEmulator, client: ParenClient) -> int:
    """Requests one plain Realtime walk costs on this emulator."""
    before = emulator.statistics().requests
    async for _ in client.realtime_locations().raw():
        pass
    return emulator.statistics().requests - before


@contextlib.contextmanager
def threaded_emulator(**options: Any) -> Iterator[ParenEmulator]:
    """An emulator serving from its own thread and event loop: the test's loop then holds only
    the client's tasks, so a leak check can look at every task."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    emulator = ParenEmulator(**options)
    asyncio.run_coroutine_threadsafe(emulator.start(), loop).result(timeout=30)
    try:
        yield emulator
    finally:
        asyncio.run_coroutine_threadsafe(emulator.aclose(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


def other_tasks() -> set[asyncio.Task[Any]]:
    """Every task of the running loop but the current one."""
    return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]


async def settle(seconds: float = 0.05) -> None:
    """Let cancelled tasks and async generator finalizers run."""
    for _ in range(5):
        await asyncio.sleep(0)
    await asyncio.sleep(seconds)
