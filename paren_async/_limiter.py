"""When a request may leave: one object owning the client's concurrency cap, cooldown and rate.

``Limiter.acquire`` takes a slot, waits out the 429 cooldown, takes a token, then checks the
cooldown again: a request queued for a slot or a token never leaves inside a cooldown that began
meanwhile. A cancelled wait gives back its slot and its token, so an abandoned walk leaves no debt.
Waiting happens before an attempt's timeout starts, so it never counts against it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Final

import anyio

from ._exceptions import UsageError

#: Statuses that mean "too much load": they shrink the client's window of requests in flight.
CONGESTION_STATUSES: Final = frozenset({429, 503})


class Cooldown:
    """A gate every request passes, closed until the moment a 429 named."""

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

    @property
    def is_open(self) -> bool:
        return self._open_at <= self._clock()

    async def wait(self) -> None:
        # A loop, not one sleep: the gate may be closed further while we wait.
        while (delay := self._open_at - self._clock()) > 0:  # noqa: ASYNC110
            await anyio.sleep(delay)


class TokenBucket:
    """At most ``rate`` requests per second on average, bursts of at most ``max(1, rate)``: any
    window of T seconds holds at most rate * T + rate."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
            raise UsageError(f"rate_limit must be a positive number of requests/s, got {rate!r}")
        if not math.isfinite(rate):
            raise UsageError("rate_limit must be finite (use None for no limit)")
        self.rate = float(rate)
        self.burst = max(1.0, self.rate)
        self._clock = clock
        self._tokens = self.burst
        self._stamp = clock()

    async def take(self) -> None:
        now = self._clock()
        # Tokens may go negative: each caller reserves its moment in the future, then sleeps.
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate) - 1.0
        self._stamp = now
        if self._tokens >= 0:
            return
        try:
            await anyio.sleep(-self._tokens / self.rate)
        except BaseException:
            self._tokens += 1.0  # an abandoned reservation is no debt
            raise


def decreased_limit(limit: int, in_flight: int) -> int:
    """Multiplicative decrease: half of what was really in flight, never below one."""
    return max(1, min(limit, in_flight) // 2)


class AdaptiveLimit:
    """Requests in flight across the client: halved on congestion (429/503), grown back by one
    per window of successes (AIMD, as TCP does).

    A slot is the ``epoch`` it was taken in. ``release`` is synchronous on purpose: it runs in
    ``finally`` blocks of cancelled tasks, where an await could be interrupted and leak the slot.
    """

    def __init__(self, ceiling: int) -> None:
        self.ceiling = self.limit = ceiling
        self.in_flight = self.epoch = self._successes = 0
        self._changed: anyio.Event | None = None

    async def acquire(self) -> int:
        while self.in_flight >= self.limit:
            if self._changed is None:
                self._changed = anyio.Event()
            await self._changed.wait()
        self.in_flight += 1
        return self.epoch

    def release(self, epoch: int, *, congested: bool) -> None:
        self.in_flight -= 1
        # One decrease per congestion event: requests that started before the last decrease
        # already saw the old limit, so their failures are not news.
        if congested and epoch == self.epoch:
            self.limit = decreased_limit(self.limit, self.in_flight + 1)
            self.epoch += 1
            self._successes = 0
        elif not congested and self.limit < self.ceiling:
            self._successes += 1
            if self._successes >= self.limit:
                self.limit += 1
                self._successes = 0
        if self._changed is not None:
            self._changed.set()
            self._changed = None


class Limiter:
    """Everything that decides when a request may leave; shared by every walk of a client."""

    def __init__(self, *, ceiling: int, rate_limit: float | None) -> None:
        self.window = AdaptiveLimit(ceiling)
        self.cooldown = Cooldown()
        self.bucket = None if rate_limit is None else TokenBucket(rate_limit)

    async def acquire(self) -> int:
        """A slot for ``release``, once the cooldown is open and a token is taken."""
        window = self.window
        if window.in_flight < window.limit and self.bucket is None and self.cooldown.is_open:
            window.in_flight += 1  # the common case, without a wait to set up
            return window.epoch
        slot = await window.acquire()
        try:
            await self.cooldown.wait()
            if self.bucket is not None:
                await self.bucket.take()
                await self.cooldown.wait()  # it may have closed while we waited for the token
        except BaseException:
            window.release(slot, congested=False)
            raise
        return slot

    def release(self, slot: int, status: int | None) -> None:
        self.window.release(slot, congested=status in CONGESTION_STATUSES)

    def hold(self, seconds: float) -> None:
        """Close the cooldown: no request of the client leaves for ``seconds``."""
        self.cooldown.close_for(seconds)
