"""``ParenClient``: configuration, lifecycle, and a few lines per endpoint."""

from __future__ import annotations

import enum
import functools
import ssl
import time
import weakref
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Final, TypeVar

import aiohttp
import msgspec

from ._config import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_RESPONSE_SIZE,
    DEFAULT_PAGE_SIZE,
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    MAX_CONCURRENCY,
    Credentials,
    RetryPolicy,
    Timeout,
    check_concurrency,
    check_non_negative,
    check_page_size,
    resolve_base_url,
)
from ._events import EventHooks
from ._exceptions import ClientClosedError, ServerError, TransportError, UsageError
from ._http import Envelope, build_query, build_request, decipher_error, decode_page
from ._logging import configure_logging_from_env
from ._observe import WalkObserver
from ._pager import Pager
from ._pagination import PageRequest, PageStream, WalkSpec
from ._sending import Sender
from ._statistics import ClientStatistics
from ._telemetry import Telemetry
from ._transport import AiohttpTransport, Transport
from .models import Location, Page, RealtimeLocation

__all__ = ["ParenClient"]

T = TypeVar("T")
R = TypeVar("R")

METADATA_LOCATIONS: Final = "/metadata/v1/locations"
REALTIME_LOCATIONS: Final = "/realtime/v1/locations"
HEALTHCHECK: Final = "/healthcheck"


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
        self._hooks = hooks or EventHooks()
        self._sender = Sender(
            transport
            or AiohttpTransport(
                session,
                pool_size=MAX_CONCURRENCY,
                ssl_context=ssl_context,
                max_response_size=max_response_size,
                trace_configs=trace_configs,
            ),
            retry=retry,
            rate_limit=rate_limit,
            hooks=self._hooks,
            telemetry=Telemetry(tracer_provider),
        )
        self._state = _State.OPEN
        self._walks: weakref.WeakSet[PageStream[Any]] = weakref.WeakSet()

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
        await self._sender.aclose()

    def _check_open(self) -> None:
        if self._state is _State.CLOSED:
            raise ClientClosedError("this ParenClient is closed; create a new one")

    def statistics(self) -> ClientStatistics:
        """A snapshot of what this client has done so far."""
        return self._sender.statistics()

    # -- endpoints --

    async def healthcheck(self) -> bool:
        """True when the API answers its healthcheck, False when it is down or unreachable.

        Needs no credentials and makes one attempt: a liveness probe must be quick and honest.
        Errors that mean the client is misconfigured (404, 401...) are raised, not hidden.
        """
        self._check_open()
        request = build_request(self._base_url, HEALTHCHECK, timeout=self._timeout)
        try:
            response = await self._sender.send_once(request)
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
            counters=self._sender.counters,
            hooks=self._hooks,
            telemetry=self._sender.telemetry,
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
        return await self._sender.send(
            request,
            lambda response: decode_page(
                request, response, decoder, offset=page.offset, limit=page.limit, now=time.time()
            ),
            turn=page.turn,
        )

    def _require_credentials(self) -> Credentials:
        if self._credentials is None:
            raise UsageError(
                "this call needs credentials: pass api_key= and api_secret= to ParenClient "
                "or set PAREN_API_KEY and PAREN_API_SECRET"
            )
        return self._credentials


def _record_id(record: Location | RealtimeLocation) -> object:
    return record.id


def _raw_record_id(record: msgspec.Raw) -> object:
    try:
        return _ID_ONLY.decode(record).id
    except msgspec.DecodeError:
        return None
