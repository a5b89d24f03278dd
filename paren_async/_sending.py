"""``Sender``: ``send(request) -> response``, the retry loop under the client's ``Limiter``.

Per attempt: take a slot from the limiter (which also waits out any cooldown and rate limit),
send through the transport (following same-origin redirects), and emit a request and a response
event around exactly the HTTP exchange. Between attempts: decide with the pure retry policy; a
429 closes the client's cooldown for every request. Only network work happens here: the request
layer knows nothing of pages, and a 2xx body is returned undecoded.
"""

from __future__ import annotations

import itertools
import random
import time
from typing import Final

import anyio

from ._config import MAX_REDIRECTS, RetryPolicy
from ._events import CURRENT_WALK, Events, RequestEvent, ResponseEvent, RetryEvent
from ._exceptions import APIError, ClientClosedError, ParenError, RateLimitError, RedirectError
from ._http import REDIRECT_STATUSES, Request, Response, decipher_error, follow_redirect
from ._limiter import Limiter
from ._retry import retry_delay
from ._transport import Transport

__all__ = ["Sender"]

_CLOSED: Final = "this ParenClient is closed; create a new one"


class Sender:
    """Sends requests for one client; closing it closes the transport and refuses more."""

    def __init__(
        self,
        transport: Transport,
        *,
        retry: RetryPolicy | None,
        limiter: Limiter,
        events: Events,
    ) -> None:
        self._transport = transport
        self._retry = retry
        self.limiter = limiter
        self._events = events
        self._random = random.Random()
        self._exchanges = itertools.count(1)
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True
        await self._transport.aclose()

    def delay(self, error: ParenError, attempt: int, elapsed: float) -> float | None:
        """The policy's delay before attempt ``attempt + 1``, or None to give up."""
        return retry_delay(
            self._retry, error, attempt=attempt, elapsed=elapsed, random=self._random.random
        )

    async def send(self, request: Request, *, retry: bool = True) -> Response:
        """The 2xx response to ``request``; an error status raises its typed ``APIError``.

        Transient failures are retried as the policy says (``retry=False``: one attempt, and a
        non-2xx response is returned rather than raised).
        """
        started = time.monotonic()
        for attempt in itertools.count(1):
            try:
                response = await self._attempt(request, attempt, started, retry)
            except _Retry as again:
                await anyio.sleep(again.delay)
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self, request: Request, attempt: int, started: float, retry: bool
    ) -> Response:
        if self.closed:
            raise ClientClosedError(_CLOSED)
        slot = await self.limiter.acquire()
        exchange, walk = next(self._exchanges), CURRENT_WALK.get()
        self._events.emit(
            RequestEvent(request.method, request.url, attempt, request.offset, exchange, walk)
        )
        sent = time.monotonic()
        status: int | None = None
        error: ParenError | None = None
        delay: float | None = None
        try:
            response = await self._exchange(request)
            status = response.status
            if retry and not (200 <= status < 300 or (status == 304 and request.headers)):
                raise decipher_error(request, response, now=time.time())
            return response
        except ParenError as exc:
            error = exc
            if isinstance(exc, APIError):
                status = exc.status
            delay = self.delay(exc, attempt, time.monotonic() - started) if retry else None
            if delay is None or self.closed:
                delay = None
                exc.attempts = attempt
                raise
            raise _Retry(delay) from None
        finally:
            self.limiter.release(slot, status)
            self._events.emit(
                ResponseEvent(
                    request.method,
                    request.url,
                    attempt,
                    request.offset,
                    status,
                    time.monotonic() - sent,
                    error,
                    exchange,
                    walk,
                    delay,
                )
            )
            if error is not None:
                self._after_failure(request, attempt, error, delay)

    async def _exchange(self, request: Request) -> Response:
        """One attempt: the request, and the same-origin redirects it leads to."""
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._transport.send(request)
            if response.status not in REDIRECT_STATUSES:
                return response
            request = follow_redirect(request, response)
        raise RedirectError(
            f"more than {MAX_REDIRECTS} redirects", status=response.status, url=request.url
        )

    def _after_failure(
        self, request: Request, attempt: int, error: ParenError, delay: float | None
    ) -> None:
        if isinstance(error, RateLimitError):
            # Pause every request of the client, not only this one.
            pause = error.retry_after if error.retry_after is not None else delay
            if pause:
                cap = self._retry.max_retry_after if self._retry else pause
                self.limiter.hold(min(pause, cap))
        if delay is not None:
            self._events.emit(
                RetryEvent(request.method, request.url, attempt, request.offset, delay, error)
            )


class _Retry(Exception):
    def __init__(self, delay: float) -> None:
        self.delay = delay
