"""``Sender``: ``send(request) -> response``, the retry loop under the client's ``Limiter``.

The request and response events surround exactly the HTTP exchange, not the wait for a slot. A
429 closes the cooldown of every request of the client. A 2xx body is returned undecoded: the
request layer knows nothing of pages.
"""

from __future__ import annotations

import itertools
import random
import time

import anyio

from ._config import MAX_REDIRECTS, RetryPolicy
from ._events import CURRENT_WALK, Events, RequestEvent, ResponseEvent, RetryEvent
from ._exceptions import APIError, ClientClosedError, ParenError, RateLimitError, RedirectError
from ._http import REDIRECT_STATUSES, Request, Response, decipher_error, follow_redirect
from ._limiter import Limiter
from ._retry import retry_delay
from ._transport import Transport


class Sender:
    """Sends the requests of one client; closing it closes the transport and refuses more."""

    def __init__(
        self, transport: Transport, *, retry: RetryPolicy | None, limiter: Limiter, events: Events
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
        attempt = 0
        while True:
            attempt += 1
            if self.closed:
                raise ClientClosedError("this ParenClient is closed; create a new one")
            slot = await self.limiter.acquire()
            exchange, walk = next(self._exchanges), CURRENT_WALK.get()
            method, url, offset = request.method, request.url, request.offset
            self._events.emit(RequestEvent(method, url, attempt, offset, exchange, walk))
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
                status = exc.status if isinstance(exc, APIError) else status
                if retry and not self.closed:
                    delay = self.delay(exc, attempt, time.monotonic() - started)
                if delay is None:
                    exc.attempts = attempt
                    raise
            finally:
                self.limiter.release(slot, status)
                elapsed = time.monotonic() - sent
                self._events.emit(
                    ResponseEvent(
                        method, url, attempt, offset, status, elapsed, error, exchange, walk, delay
                    )
                )
                if isinstance(error, RateLimitError):
                    self._cool_down(error, delay)
                if error is not None and delay is not None:
                    self._events.emit(RetryEvent(method, url, attempt, offset, delay, error))
            await anyio.sleep(delay)

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

    def _cool_down(self, error: RateLimitError, delay: float | None) -> None:
        """Pause every request of the client, not only this one."""
        pause = error.retry_after if error.retry_after is not None else delay
        if pause:
            self.limiter.hold(min(pause, self._retry.max_retry_after if self._retry else pause))
