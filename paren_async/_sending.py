"""``Sender``: one request, end to end, under the client's flow control and retry policy.

Per attempt: wait out any cooldown, take a rate-limit token and a slot of the adaptive window,
send through the transport (following same-origin redirects), decode, and emit events. Between
attempts: decide with the pure retry policy, and after a rate limit hold back every request of
the client. Around it all: one tracing span per request.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Final, TypeVar

import anyio

from ._config import MAX_CONCURRENCY, MAX_REDIRECTS, RetryPolicy
from ._events import EventHooks, RequestEvent, ResponseEvent, RetryEvent, emit
from ._exceptions import APIError, ClientClosedError, ParenError, RateLimitError, RedirectError
from ._flow import AdaptiveLimit, Cooldown, Slot, TokenBucket, Turn
from ._http import REDIRECT_STATUSES, Request, Response, follow_redirect
from ._retry import retry_delay
from ._statistics import ClientStatistics, Counters
from ._telemetry import Telemetry
from ._transport import Transport

__all__ = ["Sender"]

logger: Final = logging.getLogger("paren_async")

R = TypeVar("R")

#: Statuses that mean "too much load": they shrink the client's window of requests in flight.
CONGESTION_STATUSES: Final = frozenset({429, 503})


class Sender:
    """Sends requests for one client; closing it closes the transport and refuses more."""

    def __init__(
        self,
        transport: Transport,
        *,
        retry: RetryPolicy | None,
        rate_limit: float | None,
        hooks: EventHooks,
        telemetry: Telemetry,
    ) -> None:
        self._transport = transport
        self._retry = retry
        self._hooks = hooks
        self.telemetry = telemetry
        self.counters = Counters()
        self._random = random.Random()
        self._cooldown = Cooldown()
        self._bucket = None if rate_limit is None else TokenBucket(rate_limit)
        # Never more in flight than the connection pool holds, so no attempt's timeout is spent
        # waiting for a pooled connection.
        self._limit = AdaptiveLimit(MAX_CONCURRENCY)
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True
        await self._transport.aclose()

    def statistics(self) -> ClientStatistics:
        return self.counters.snapshot(
            cooldown_seconds=self._cooldown.total, window=self._limit.limit
        )

    async def send_once(self, request: Request) -> Response:
        """One attempt: the request, and the same-origin redirects it leads to."""
        for _ in range(MAX_REDIRECTS + 1):
            if self.closed:
                raise ClientClosedError("this ParenClient is closed; create a new one")
            self.counters.requests += 1
            response = await self._transport.send(request)
            if response.status not in REDIRECT_STATUSES:
                return response
            request = follow_redirect(request, response)
        raise RedirectError(
            f"more than {MAX_REDIRECTS} redirects", status=response.status, url=request.url
        )

    async def send(
        self, request: Request, decode: Callable[[Response], R], *, turn: Turn | None = None
    ) -> R:
        """Send and decode, retrying transient failures as the policy says."""
        with self.telemetry.request_span(request.method, request.url, request.offset) as span:
            started = time.monotonic()
            attempt = 0
            while True:
                attempt += 1
                try:
                    result, status = await self._attempt(request, decode, attempt, turn)
                except ParenError as error:
                    delay = retry_delay(
                        self._retry,
                        error,
                        attempt=attempt,
                        elapsed=time.monotonic() - started,
                        random=self._random.random,
                    )
                    self._hold_back(error, delay)
                    retried = delay is not None and not self.closed
                    self.counters.record_error(error, retried=retried)
                    if delay is None or not retried:
                        error.attempts = attempt
                        self.telemetry.finish_request(span, attempt, _status(error), error)
                        raise
                    self._retrying(request, attempt, delay, error)
                    await anyio.sleep(delay)
                else:
                    self.telemetry.finish_request(span, attempt, status, None)
                    return result

    async def _attempt(
        self, request: Request, decode: Callable[[Response], R], attempt: int, turn: Turn | None
    ) -> tuple[R, int]:
        await self._cooldown.wait()
        if self._bucket is not None:
            await self._bucket.acquire()
        slot: Slot | None = await self._limit.acquire()
        congested = False
        emit(
            self._hooks.on_request,
            lambda: RequestEvent(request.method, request.url, attempt, request.offset),
        )
        sent = time.monotonic()
        status: int | None = None
        error: ParenError | None = None
        emitted = False

        def responded() -> None:
            nonlocal emitted
            emitted = True
            emit(
                self._hooks.on_response,
                lambda: ResponseEvent(
                    request.method,
                    request.url,
                    attempt,
                    request.offset,
                    status,
                    time.monotonic() - sent,
                    error,
                ),
            )

        try:
            response = await self.send_once(request)
            status = response.status
            if turn is not None and 200 <= status < 300 and not turn.event.is_set():
                # The network part is done: free the slot, then decode at the page's turn.
                assert slot is not None
                self._limit.release(slot, congested=False)
                slot = None
                responded()
                turn.arrive()
                await turn.event.wait()
            return decode(response), status
        except ParenError as exc:
            error = exc
            congested = _status(exc) in CONGESTION_STATUSES
            raise
        finally:
            if slot is not None:
                self._limit.release(slot, congested=congested)
            if not emitted:
                responded()

    def _retrying(self, request: Request, attempt: int, delay: float, error: ParenError) -> None:
        logger.info(
            "retrying %s %s in %.2fs (attempt %d failed: %s)",
            request.method,
            request.url,
            delay,
            attempt,
            error.message,
        )
        emit(
            self._hooks.on_retry,
            lambda: RetryEvent(request.method, request.url, attempt, request.offset, delay, error),
        )

    def _hold_back(self, error: ParenError, delay: float | None) -> None:
        """After a rate limit, pause every request of the client, not only this one."""
        if not isinstance(error, RateLimitError):
            return
        pause = error.retry_after if error.retry_after is not None else delay
        if pause:
            cap = self._retry.max_retry_after if self._retry else pause
            self._cooldown.close_for(min(pause, cap))
            logger.info("rate limited: all requests of this client paused for %.2fs", pause)


def _status(error: ParenError) -> int | None:
    return error.status if isinstance(error, APIError) else None
