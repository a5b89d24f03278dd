"""Flow control shared by every walk of one client: cooldown, rate limit, adaptive concurrency.

- ``Cooldown``: after a 429 (or a 503 with ``Retry-After``), every request of the client waits
  until the moment the server named, instead of each worker discovering the limit on its own.
- ``TokenBucket``: an optional client-side requests-per-second quota.
- ``AdaptiveLimit``: requests in flight across the client, halved on congestion (429/503) and
  grown back by one per window of successes (AIMD, as TCP does).
- ``Turn``: a walk's page waits, body received and slot released, until it is the next page the
  consumer takes; only then is it decoded.

The arithmetic is pure (``bucket_delay``, ``decreased_limit``); the classes only keep state and
wait. Waiting here happens before an attempt's timeout starts, so it never counts against it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from ._exceptions import UsageError

__all__ = [
    "AdaptiveLimit",
    "Cooldown",
    "TokenBucket",
    "Turn",
    "bucket_delay",
    "decreased_limit",
]


class Cooldown:
    """A gate all requests pass; closed until a server-given moment after a rate limit."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._open_at = 0.0
        #: Seconds the gate has been closed in total (overlapping closures counted once).
        self.total = 0.0

    def close_for(self, seconds: float) -> None:
        now = self._clock()
        until = now + seconds
        if until > self._open_at:
            self.total += until - max(now, self._open_at)
            self._open_at = until

    async def wait(self) -> None:
        # A loop, not one sleep: the gate may be closed further while we wait.
        while (delay := self._open_at - self._clock()) > 0:  # noqa: ASYNC110
            await anyio.sleep(delay)


def bucket_delay(tokens: float, rate: float, burst: float, elapsed: float) -> tuple[float, float]:
    """Take one token: returns (tokens left after refilling and taking, seconds to wait first)."""
    tokens = min(burst, tokens + elapsed * rate) - 1.0
    return tokens, (max(0.0, -tokens) / rate)


class TokenBucket:
    """At most ``rate`` requests per second on average, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
            raise UsageError(f"rate_limit must be a positive number of requests/s, got {rate!r}")
        if not math.isfinite(rate):
            raise UsageError("rate_limit must be finite (use None for no limit)")
        self.rate = float(rate)
        self.burst = float(burst) if burst is not None else max(1.0, self.rate)
        self._tokens = self.burst
        self._stamp = time.monotonic()

    async def acquire(self) -> None:
        now = time.monotonic()
        # Tokens may go negative: each caller reserves its slot in the future, then sleeps to it.
        self._tokens, delay = bucket_delay(self._tokens, self.rate, self.burst, now - self._stamp)
        self._stamp = now
        if delay > 0:
            await anyio.sleep(delay)


def decreased_limit(limit: int, in_flight: int) -> int:
    """Multiplicative decrease: half of what was really in flight, never below one."""
    return max(1, min(limit, in_flight) // 2)


@dataclass
class Slot:
    epoch: int


class AdaptiveLimit:
    """Requests in flight across the client, shrinking on congestion and recovering slowly.

    ``release`` is synchronous on purpose: it runs in ``finally`` blocks of cancelled tasks,
    where any await could be interrupted and leak the slot.
    """

    def __init__(self, ceiling: int) -> None:
        self.ceiling = ceiling
        self.limit = ceiling
        self.in_flight = 0
        self._epoch = 0
        self._successes = 0
        self._changed: anyio.Event | None = None

    async def acquire(self) -> Slot:
        while self.in_flight >= self.limit:
            if self._changed is None:
                self._changed = anyio.Event()
            await self._changed.wait()
        self.in_flight += 1
        return Slot(self._epoch)

    def release(self, slot: Slot, *, congested: bool) -> None:
        self.in_flight -= 1
        if congested:
            # React once per congestion event: requests that started before the last decrease
            # already saw the old limit, so their failures are not news.
            if slot.epoch == self._epoch:
                self.limit = decreased_limit(self.limit, self.in_flight + 1)
                self._epoch += 1
                self._successes = 0
        elif self.limit < self.ceiling:
            self._successes += 1
            if self._successes >= self.limit:
                self.limit += 1
                self._successes = 0
        if self._changed is not None:
            self._changed.set()
            self._changed = None


class Turn:
    """A page's place in line. Its response is decoded only once the page reaches the head of
    the window, so that few decoded pages are alive at once and each decodes into cache-hot
    memory; until then only its body waits. ``received`` frees the page's fetch slot."""

    __slots__ = ("event", "on_received", "received")

    def __init__(self, on_received: Callable[[], None]) -> None:
        self.event = asyncio.Event()
        self.received = False
        self.on_received = on_received

    def arrive(self) -> None:
        self.received = True
        self.on_received()
