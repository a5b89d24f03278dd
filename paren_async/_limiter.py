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


class Limiter:
    """Everything that decides when a request may leave; shared by every walk of a client.

    At most ``limit`` requests in flight: halved on congestion (429/503), grown back by one per
    ``limit`` successes in a row (AIMD, as TCP does), never above ``ceiling``. A slot is the
    ``epoch`` it was taken in. ``release`` is synchronous on purpose: it runs in ``finally``
    blocks of cancelled tasks, where an await could be interrupted and leak the slot.
    """

    def __init__(
        self, *, ceiling: int, rate_limit: float | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ceiling = self.limit = ceiling
        self.in_flight = self.epoch = self._successes = 0
        self._changed: anyio.Event | None = None
        self._clock = clock
        self._open_at = 0.0
        #: Seconds the cooldown has been closed in total (overlapping closures counted once).
        self.cooldown_total = 0.0
        self.bucket = None if rate_limit is None else TokenBucket(rate_limit, clock)

    async def acquire(self) -> int:
        """A slot for ``release``, once the cooldown is open and a token is taken."""
        if self.in_flight < self.limit and self.bucket is None and self._open_at <= self._clock():
            self.in_flight += 1  # the common case, without a wait to set up
            return self.epoch
        while self.in_flight >= self.limit:
            if self._changed is None:
                self._changed = anyio.Event()
            await self._changed.wait()
        self.in_flight += 1
        slot = self.epoch
        try:
            await self._cooldown()
            if self.bucket is not None:
                await self.bucket.take()
                await self._cooldown()  # it may have closed while we waited for the token
        except BaseException:
            self.release(slot, None)
            raise
        return slot

    def release(self, slot: int, status: int | None) -> None:
        self.in_flight -= 1
        # One decrease per congestion event: requests that started before the last decrease
        # already saw the old limit, so their failures are not news.
        congested = status in CONGESTION_STATUSES
        if congested and slot == self.epoch:
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

    def hold(self, seconds: float) -> None:
        """Close the cooldown: no request of the client leaves for ``seconds``."""
        now = self._clock()
        until = now + seconds
        if until > self._open_at:
            self.cooldown_total += until - max(now, self._open_at)
            self._open_at = until

    async def _cooldown(self) -> None:
        # A loop, not one sleep: the cooldown may be extended while we wait.
        while (delay := self._open_at - self._clock()) > 0:  # noqa: ASYNC110
            await anyio.sleep(delay)
