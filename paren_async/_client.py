"""``ParenClient``: lifecycle, the retried ``_send()``, and a few lines per endpoint."""

from __future__ import annotations

import enum
import functools
import logging
import random
import ssl
import time
import weakref
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Final, TypeVar

import aiohttp
import anyio
import msgspec

from ._config import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_RESPONSE_SIZE,
    DEFAULT_PAGE_SIZE,
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    MAX_CONCURRENCY,
    MAX_REDIRECTS,
    Credentials,
    RetryPolicy,
    Timeout,
    check_concurrency,
    check_non_negative,
    check_page_size,
    resolve_base_url,
)
from ._events import EventHooks, RequestEvent, ResponseEvent, RetryEvent, emit
from ._exceptions import (
    APIError,
    ClientClosedError,
    ParenError,
    RateLimitError,
    RedirectError,
    ServerError,
    TransportError,
    UsageError,
)
from ._flow import AdaptiveLimit, Cooldown, TokenBucket
from ._http import (
    REDIRECT_STATUSES,
    Envelope,
    Request,
    Response,
    build_query,
    build_request,
    decipher_error,
    decode_page,
    follow_redirect,
)
from ._logging import configure_logging_from_env
from ._observe import WalkObserver
from ._pagination import Pager, PageRequest, PageStream, WalkSpec
from ._retry import retry_delay
from ._statistics import ClientStatistics, Counters
from ._telemetry import Telemetry
from ._transport import AiohttpTransport, Transport
from .models import Location, Page, RealtimeLocation

__all__ = ["ParenClient"]

logger: Final = logging.getLogger("paren_async")

T = TypeVar("T")
R = TypeVar("R")

METADATA_LOCATIONS: Final = "/metadata/v1/locations"
REALTIME_LOCATIONS: Final = "/realtime/v1/locations"
HEALTHCHECK: Final = "/healthcheck"
#: Statuses that mean "too much load": they shrink the client's window of requests in flight.
CONGESTION_STATUSES: Final = frozenset({429, 503})


class _IdOnly(msgspec.Struct, gc=False):
    id: object = None


# Built once: building a decoder compiles its type, which costs far more than one page.
_LOCATIONS: Final = msgspec.json.Decoder(Envelope[Location], strict=False)
_REALTIME: Final = msgspec.json.Decoder(Envelope[RealtimeLocation], strict=False)
_RAW: Final = msgspec.json.Decoder(Envelope[msgspec.Raw])
_ID_ONLY: Final = msgspec.json.Decoder(_IdOnly)


class _State(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class ParenClient:
    """An asyncio client for the Paren API. Use it as ``async with ParenClient(...) as client``.

    Credentials come from the arguments or ``PAREN_API_KEY`` / ``PAREN_API_SECRET``; without them
    only ``healthcheck()`` works. ``session=`` borrows a caller's ``aiohttp.ClientSession``, which
    the client then never closes; otherwise it creates one on first use and closes it in
    ``aclose()``. A closed client refuses reuse.

    All walks of one client share its flow control: a 429 pauses every request until the moment
    the server named; ``rate_limit=`` caps requests per second; and the number of requests in
    flight halves on 429/503 and grows back slowly after successes (``statistics().window``).
    """

    def __init__(
        self,
        api_key: str | None = None,
        api_secret: str | None = None,
        *,
        base_url: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        timeout: float | Timeout | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        rate_limit: float | None = None,
        hooks: EventHooks | None = None,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        ssl_context: ssl.SSLContext | None = None,
        allow_insecure_http: bool = False,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
        tracer_provider: object = None,
    ) -> None:
        if session is not None and transport is not None:
            raise UsageError("pass session= or transport=, not both")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise UsageError(f"retry must be a RetryPolicy or None, got {type(retry).__name__}")
        if hooks is not None and not isinstance(hooks, EventHooks):
            raise UsageError(f"hooks must be an EventHooks, got {type(hooks).__name__}")
        configure_logging_from_env()
        self._credentials = Credentials.resolve(api_key, api_secret)
        self._base_url = resolve_base_url(base_url, allow_insecure_http=allow_insecure_http)
        self._concurrency = check_concurrency(concurrency)
        self._timeout = Timeout.coerce(timeout)
        self._retry = retry
        self._transport: Transport = transport or AiohttpTransport(
            session,
            pool_size=MAX_CONCURRENCY,
            ssl_context=ssl_context,
            max_response_size=max_response_size,
            trace_configs=trace_configs,
        )
        self._hooks = hooks or EventHooks()
        self._telemetry = Telemetry(tracer_provider)
        self._state = _State.OPEN
        self._walks: weakref.WeakSet[PageStream[Any]] = weakref.WeakSet()
        self._counters = Counters()
        self._random = random.Random()
        self._cooldown = Cooldown()
        self._bucket = None if rate_limit is None else TokenBucket(rate_limit)
        # Never more in flight than the connection pool holds, so no attempt's timeout is spent
        # waiting for a pooled connection.
        self._limit = AdaptiveLimit(MAX_CONCURRENCY)

    def __repr__(self) -> str:
        key = self._credentials.api_key if self._credentials else None
        return f"<ParenClient base_url={self._base_url!r} api_key={key!r} {self._state.value}>"

    @property
    def base_url(self) -> str:
        return self._base_url

    # -- lifecycle --

    async def __aenter__(self) -> ParenClient:
        self._check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel every walk still in flight (without waiting for it) and release connections."""
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        for walk in list(self._walks):
            walk.close()
        await self._transport.aclose()

    def _check_open(self) -> None:
        if self._state is _State.CLOSED:
            raise ClientClosedError("this ParenClient is closed; create a new one")

    def statistics(self) -> ClientStatistics:
        """A snapshot of what this client has done so far."""
        return self._counters.snapshot(
            cooldown_seconds=self._cooldown.total, window=self._limit.limit
        )

    # -- endpoints --

    async def healthcheck(self) -> bool:
        """True when the API answers its healthcheck, False when it is down or unreachable.

        Needs no credentials and makes one attempt: a liveness probe must be quick and honest.
        Errors that mean the client is misconfigured (404, 401...) are raised, not hidden.
        """
        self._check_open()
        request = build_request(self._base_url, HEALTHCHECK, timeout=self._timeout)
        try:
            response = await self._send_once(request)
        except TransportError:
            return False
        if 200 <= response.status < 300:
            return True
        error = decipher_error(request, response, now=time.time())
        if isinstance(error, ServerError):
            return False
        raise error

    def locations(
        self,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        offset: int = 0,
        max_items: int | None = None,
        concurrency: int | None = None,
        drift_check: bool = True,
        deadline: float | None = None,
        **filters: str | int | float | bool | None,
    ) -> Pager[Location]:
        """Walk the Metadata API's locations; extra keyword arguments are query filters.

        ``drift_check`` overlaps pages by one record to repair records inserted or removed during
        the walk; ``deadline`` bounds the whole walk in seconds (``TimeoutError`` past it).
        """
        spec = self._walk_spec(page_size, offset, max_items, concurrency, drift_check, deadline)
        return self._pager(METADATA_LOCATIONS, _LOCATIONS, spec, filters)

    def realtime_locations(
        self,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        offset: int = 0,
        max_items: int | None = None,
        concurrency: int | None = None,
        drift_check: bool = True,
        deadline: float | None = None,
        **filters: str | int | float | bool | None,
    ) -> Pager[RealtimeLocation]:
        """Walk the Realtime API's locations; the options are those of ``locations()``."""
        spec = self._walk_spec(page_size, offset, max_items, concurrency, drift_check, deadline)
        return self._pager(REALTIME_LOCATIONS, _REALTIME, spec, filters)

    # -- machinery --

    def _walk_spec(
        self,
        page_size: int,
        offset: int,
        max_items: int | None,
        concurrency: int | None,
        drift_check: bool,
        deadline: float | None,
    ) -> WalkSpec:
        self._check_open()
        if deadline is not None:
            Timeout(attempt=deadline)  # the same check as any other duration
        if concurrency is not None:
            check_concurrency(concurrency)
        return WalkSpec(
            offset=check_non_negative("offset", offset) or 0,
            page_size=check_page_size(page_size),
            max_items=check_non_negative("max_items", max_items),
            concurrency=self._concurrency if concurrency is None else concurrency,
            drift_check=bool(drift_check),
            deadline=deadline,
        )

    def _pager(
        self,
        path: str,
        decoder: msgspec.json.Decoder[Envelope[T]],
        spec: WalkSpec,
        filters: dict[str, str | int | float | bool | None],
    ) -> Pager[T]:
        build_query(filters, limit=spec.page_size, offset=spec.offset)  # refuse bad filters now
        credentials = self._require_credentials()
        fetch = functools.partial(self._fetch_page, path, filters, credentials)
        observe = functools.partial(
            WalkObserver,
            path,
            counters=self._counters,
            hooks=self._hooks,
            telemetry=self._telemetry,
            attributes={"paren.page_size": spec.page_size, "paren.concurrency": spec.concurrency},
        )
        return Pager(
            fetch=functools.partial(fetch, decoder),
            fetch_raw=functools.partial(fetch, _RAW),
            record_id=_record_id,
            raw_record_id=_raw_record_id,
            spec=spec,
            observe=observe,
            on_open=self._walks.add,
        )

    async def _fetch_page(
        self,
        path: str,
        filters: dict[str, str | int | float | bool | None],
        credentials: Credentials,
        decoder: msgspec.json.Decoder[Envelope[R]],
        page: PageRequest,
    ) -> Page[R]:
        query = build_query(filters, limit=page.limit, offset=page.offset)
        request = build_request(
            self._base_url, path, query, credentials, timeout=self._timeout, offset=page.offset
        )
        return await self._send(
            request,
            lambda response: decode_page(
                request, response, decoder, offset=page.offset, limit=page.limit, now=time.time()
            ),
        )

    def _require_credentials(self) -> Credentials:
        if self._credentials is None:
            raise UsageError(
                "this call needs credentials: pass api_key= and api_secret= to ParenClient "
                "or set PAREN_API_KEY and PAREN_API_SECRET"
            )
        return self._credentials

    async def _send_once(self, request: Request) -> Response:
        """One attempt: the request, and the same-origin redirects it leads to."""
        for _ in range(MAX_REDIRECTS + 1):
            self._check_open()
            self._counters.requests += 1
            response = await self._transport.send(request)
            if response.status not in REDIRECT_STATUSES:
                return response
            request = follow_redirect(request, response)
        raise RedirectError(
            f"more than {MAX_REDIRECTS} redirects", status=response.status, url=request.url
        )

    async def _send(self, request: Request, decode: Callable[[Response], R]) -> R:
        """Send and decode, under the client's flow control, retrying as the policy says."""
        with self._telemetry.request_span(request.method, request.url, request.offset) as span:
            started = time.monotonic()
            attempt = 0
            while True:
                attempt += 1
                try:
                    result, status = await self._attempt(request, decode, attempt)
                except ParenError as error:
                    delay = retry_delay(
                        self._retry,
                        error,
                        attempt=attempt,
                        elapsed=time.monotonic() - started,
                        random=self._random.random,
                    )
                    self._hold_back(error, delay)
                    retried = delay is not None and self._state is _State.OPEN
                    self._counters.record_error(error, retried=retried)
                    if delay is None or not retried:
                        error.attempts = attempt
                        self._telemetry.finish_request(span, attempt, _status(error), error)
                        raise
                    self._retrying(request, attempt, delay, error)
                    await anyio.sleep(delay)
                else:
                    self._telemetry.finish_request(span, attempt, status, None)
                    return result

    async def _attempt(
        self, request: Request, decode: Callable[[Response], R], attempt: int
    ) -> tuple[R, int]:
        await self._cooldown.wait()
        if self._bucket is not None:
            await self._bucket.acquire()
        slot = await self._limit.acquire()
        congested = False
        emit(
            self._hooks.on_request,
            lambda: RequestEvent(request.method, request.url, attempt, request.offset),
        )
        sent = time.monotonic()
        status: int | None = None
        error: ParenError | None = None
        try:
            response = await self._send_once(request)
            status = response.status
            return decode(response), status
        except ParenError as exc:
            error = exc
            congested = _status(exc) in CONGESTION_STATUSES
            raise
        finally:
            self._limit.release(slot, congested=congested)
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
        if not isinstance(error, (RateLimitError, ServerError)):
            return
        pause = error.retry_after if isinstance(error, RateLimitError) else None
        if pause is None and isinstance(error, RateLimitError):
            pause = delay  # no Retry-After: everyone backs off as this request does
        if pause:
            cap = self._retry.max_retry_after if self._retry else pause
            self._cooldown.close_for(min(pause, cap))
            logger.info("rate limited: all requests of this client paused for %.2fs", pause)


def _status(error: ParenError) -> int | None:
    return error.status if isinstance(error, APIError) else None


def _record_id(record: Location | RealtimeLocation) -> object:
    return record.id


def _raw_record_id(record: msgspec.Raw) -> object:
    try:
        return _ID_ONLY.decode(record).id
    except msgspec.DecodeError:
        return None
