"""``ParenClient``: configuration, lifecycle, and a few lines per endpoint."""

from __future__ import annotations

import asyncio
import operator
import ssl
import weakref
from collections.abc import AsyncGenerator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final, TypeVar, overload

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
    resolve_base_url,
)
from ._decoding import RAW, Codec, codec_for, raw_id
from ._events import EventHooks, Events
from ._exceptions import ClientClosedError, ResumePoint, UsageError
from ._health import Health, probe
from ._http import Request, Response, build_request, encode_filters, page_query
from ._limiter import Limiter
from ._logging import configure_logging_from_env, log_event
from ._pager import Pager
from ._pagination import BadRecords, Decode, PageRequest, PageStream, WalkSpec
from ._sending import Sender
from ._statistics import ClientStatistics, Counters
from ._telemetry import Telemetry
from ._transport import AiohttpTransport, Transport
from .models import Location, RealtimeLocation

if TYPE_CHECKING:
    from .watch import FirstCycle, WatchEvent

T = TypeVar("T")

METADATA_LOCATIONS: Final = "/metadata/v1/locations"
REALTIME_LOCATIONS: Final = "/realtime/v1/locations"
HEALTHCHECK: Final = "/healthcheck"

Filter = str | int | float | bool | None


class ParenClient:
    """An asyncio client for the Paren API. Use it as ``async with ParenClient(...) as client``.

    Credentials come from the arguments or ``PAREN_API_KEY`` / ``PAREN_API_SECRET``; without them
    only ``healthcheck()`` works. ``session=`` borrows a caller's ``aiohttp.ClientSession``, which
    the client then never closes; otherwise it creates one on first use and closes it in
    ``aclose()``. ``transport=`` replaces HTTP altogether (``MockTransport`` in tests). A closed
    client refuses reuse, and so does a client used from a second event loop (``UsageError``):
    create one client per event loop, inside it.

    All walks of one client share its flow control: a 429 pauses every request until the moment
    the server named; ``rate_limit=`` caps requests per second; and the number of requests in
    flight halves on 429/503 and grows back slowly after successes (``statistics().window``).
    The endpoint paths default to Paren's (``/metadata/v1/locations``, ``/realtime/v1/locations``,
    ``/healthcheck``) and can be overridden; ``paginate()`` walks any other path.
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
        metadata_path: str = METADATA_LOCATIONS,
        realtime_path: str = REALTIME_LOCATIONS,
        healthcheck_path: str = HEALTHCHECK,
    ) -> None:
        # A traceback formatted with locals must not show a secret, nor a URL holding one.
        try:
            self._credentials = Credentials.resolve(api_key, api_secret)
        finally:
            del api_secret
        try:
            self._base_url = resolve_base_url(base_url, allow_insecure_http=allow_insecure_http)
        finally:
            del base_url
        if session is not None and transport is not None:
            raise UsageError("pass session= or transport=, not both")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise UsageError(f"retry must be a RetryPolicy or None, got {type(retry).__name__}")
        if hooks is not None and not isinstance(hooks, EventHooks):
            raise UsageError(f"hooks must be an EventHooks, got {type(hooks).__name__}")
        configure_logging_from_env()
        self._metadata_path = _check_path("metadata_path", metadata_path)
        self._realtime_path = _check_path("realtime_path", realtime_path)
        self._healthcheck_path = _check_path("healthcheck_path", healthcheck_path)
        self._concurrency = check_concurrency(concurrency)
        self._timeout = Timeout.coerce(timeout)
        self._attempts = 1 if retry is None else retry.max_attempts
        self._counters = Counters()
        user_hooks = () if hooks is None else (hooks,)
        self._events = Events(self._counters, log_event, Telemetry(tracer_provider), *user_hooks)
        transport = transport or AiohttpTransport(
            session,
            pool_size=MAX_CONCURRENCY,
            ssl_context=ssl_context,
            max_response_size=max_response_size,
            trace_configs=trace_configs,
        )
        limiter = Limiter(ceiling=MAX_CONCURRENCY, rate_limit=rate_limit)
        self._sender = Sender(transport, retry=retry, limiter=limiter, events=self._events)
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._walks: weakref.WeakSet[PageStream[Any]] = weakref.WeakSet()

    def __repr__(self) -> str:
        # Safe on a half-built client too: a traceback formatted with locals shows it.
        url = getattr(self, "_base_url", None)
        key = getattr(getattr(self, "_credentials", None), "api_key", None)
        state = "closed" if getattr(self, "_closed", True) else "open"
        return f"<ParenClient base_url={url!r} api_key={key!r} {state}>"

    @property
    def base_url(self) -> str:
        return self._base_url

    async def __aenter__(self) -> ParenClient:
        self._check()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel every walk still in flight (without waiting for it) and release connections."""
        if self._closed:
            return
        self._closed = True
        for walk in list(self._walks):
            walk.close(ClientClosedError("the client was closed during the walk"))
        self._walks.clear()
        await self._sender.aclose()

    def _check(self, *, loop: bool = True) -> None:
        """Refuse a closed client and, with ``loop``, one used from a second event loop."""
        if self._closed:
            raise ClientClosedError("this ParenClient is closed; create a new one")
        if not loop:
            return
        running = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = running
        elif running is not self._loop:
            raise UsageError(
                "this ParenClient was first used in another event loop (an earlier "
                "asyncio.run() call, another thread or another worker's loop), and its "
                "connections cannot move between loops. Create the client inside the loop that "
                "uses it: in your app's lifespan or startup hook, or with "
                "`async with ParenClient(...)` inside each asyncio.run()"
            )

    @property
    def closed(self) -> bool:
        """Whether ``aclose()`` was called: a closed client refuses new walks."""
        return self._closed

    def statistics(self) -> ClientStatistics:
        """A snapshot of what this client has done so far, summed over all its walks."""
        limiter = self._sender.limiter
        return self._counters.snapshot(
            cooldown_seconds=limiter.cooldown_total, window=limiter.limit
        )

    async def health(self) -> Health:
        """Probe the healthcheck once, without credentials, and say why it failed if it did.

        Never raises for the API's state: a 5xx, a refused connection or a timeout come back as
        ``Health(ok=False, error=...)``; so do errors that mean the client is misconfigured
        (404: check ``base_url``; 401).
        """
        self._check()
        request = build_request(self._base_url, self._healthcheck_path, timeout=self._timeout)
        return await probe(self._sender, request)

    async def healthcheck(self) -> bool:
        """True when the API answers its healthcheck, False when it is down or unreachable.

        Needs no credentials and makes one attempt: a liveness probe must be quick and honest.
        Errors that mean the client is misconfigured (404, 401...) are raised, not hidden;
        ``health()`` gives the reason in every case.
        """
        return (await self.health()).verdict()

    def locations(
        self, *, page_size: int = DEFAULT_PAGE_SIZE, offset: int = 0,
        max_items: int | None = None, concurrency: int | None = None, drift_check: bool = True,
        deadline: float | None = None, resume: ResumePoint | None = None,
        bad_records: BadRecords = "skip", **filters: Filter,
    ) -> Pager[Location]:  # fmt: skip
        """Walk the Metadata API's locations; extra keyword arguments are query filters.

        ``page_size`` records per request (1..100, default 100); ``offset`` where to start;
        ``max_items`` how many records to yield at most; ``concurrency`` requests in flight
        (default: the client's). ``drift_check`` overlaps pages by one record to repair records
        inserted or removed during the walk; ``deadline`` bounds the whole walk in seconds
        (``TimeoutError`` past it); ``resume`` continues an earlier walk from its ``ResumePoint``
        (``error.resume`` or ``pager.resume``). A record the model cannot take is left out and
        reported (``bad_records="skip"``: ``Page.rejected``, ``statistics().bad_records``, a
        WARNING log line and the ``on_bad_record`` hook), or raises ``RecordError`` (``"raise"``).
        """
        return self._walk(
            self._metadata_path, codec_for(Location), filters,
            page_size, offset, max_items, concurrency, drift_check, deadline, resume, bad_records,
        )  # fmt: skip

    def realtime_locations(
        self, *, page_size: int = DEFAULT_PAGE_SIZE, offset: int = 0,
        max_items: int | None = None, concurrency: int | None = None, drift_check: bool = True,
        deadline: float | None = None, resume: ResumePoint | None = None,
        bad_records: BadRecords = "skip", **filters: Filter,
    ) -> Pager[RealtimeLocation]:  # fmt: skip
        """Walk the Realtime API's locations; the options are those of ``locations()``."""
        return self._walk(
            self._realtime_path, codec_for(RealtimeLocation), filters,
            page_size, offset, max_items, concurrency, drift_check, deadline, resume, bad_records,
        )  # fmt: skip

    @overload
    def paginate(
        self, path: str, *, model: type[T], page_size: int = ..., offset: int = ...,
        max_items: int | None = ..., concurrency: int | None = ..., drift_check: bool = ...,
        deadline: float | None = ..., resume: ResumePoint | None = ...,
        bad_records: BadRecords = ..., **filters: Filter,
    ) -> Pager[T]: ...  # fmt: skip
    @overload
    def paginate(
        self, path: str, *, model: None = ..., page_size: int = ..., offset: int = ...,
        max_items: int | None = ..., concurrency: int | None = ..., drift_check: bool = ...,
        deadline: float | None = ..., resume: ResumePoint | None = ...,
        bad_records: BadRecords = ..., **filters: Filter,
    ) -> Pager[msgspec.Raw]: ...  # fmt: skip
    def paginate(
        self, path: str, *, model: type[Any] | None = None, page_size: int = DEFAULT_PAGE_SIZE,
        offset: int = 0, max_items: int | None = None, concurrency: int | None = None,
        drift_check: bool = True, deadline: float | None = None,
        resume: ResumePoint | None = None, bad_records: BadRecords = "skip", **filters: Filter,
    ) -> Pager[Any]:  # fmt: skip
        """Walk any limit/offset endpoint of the API with the same guarantees as ``locations()``.

        ``path`` is appended to ``base_url`` (``"/metadata/v1/locations"``); ``model`` is a
        msgspec Struct type with an ``id`` field, or None for records as ``msgspec.Raw`` (the
        raw forms ``.raw()`` and ``.raw_pages()`` give bytes either way).
        """
        if model is not None and "id" not in getattr(model, "__struct_fields__", ()):
            raise UsageError(f"model must be a msgspec Struct with an 'id' field, got {model!r}")
        codec: Codec[Any] = RAW if model is None else codec_for(model)  # type: ignore[arg-type]
        return self._walk(
            _check_path("path", path), codec, filters,
            page_size, offset, max_items, concurrency, drift_check, deadline, resume, bad_records,
        )  # fmt: skip

    def watch_realtime(
        self, *, interval: float = 60.0, first_cycle: FirstCycle = "snapshot", **filters: Filter
    ) -> AsyncGenerator[WatchEvent, None]:
        """Live changes of the Realtime locations, one complete walk per ``interval`` seconds:
        ``paren_async.watch.watch_realtime(client, ...)``, which documents the events."""
        from .watch import watch_realtime

        return watch_realtime(
            self,
            interval=interval,
            first_cycle=first_cycle,
            **filters,  # type: ignore[arg-type]
        )

    def _walk(
        self, path: str, codec: Codec[T], filters: dict[str, Filter], page_size: int,
        offset: int, max_items: int | None, concurrency: int | None, drift_check: bool,
        deadline: float | None, resume: ResumePoint | None, bad_records: BadRecords,
    ) -> Pager[T]:  # fmt: skip
        self._check(loop=False)
        spec = WalkSpec.checked(
            offset=offset,
            page_size=page_size,
            max_items=max_items,
            concurrency=self._concurrency if concurrency is None else concurrency,
            drift_check=drift_check,
            deadline=deadline,
            resume=resume,
            bad_records=bad_records,
            attempts=self._attempts,
        )
        encoded = encode_filters(filters)  # refuses bad filters now, and encodes them once
        credentials = self._credentials
        if credentials is None:
            raise UsageError(
                "this call needs credentials: pass api_key= and api_secret= to ParenClient "
                "or set PAREN_API_KEY and PAREN_API_SECRET"
            )

        def request_for(page: PageRequest) -> Request:
            query = page_query(encoded, page.limit, page.offset)
            return build_request(
                self._base_url, path, query, credentials, timeout=self._timeout, offset=page.offset
            )

        def open_stream(decode: Decode[Any], spec: WalkSpec, typed: bool) -> PageStream[Any]:
            self._check(loop=False)
            validators = spec.validators

            async def fetch(page: PageRequest) -> Response:
                request = request_for(page)
                if validators is not None and not page.reread:
                    request = replace(request, headers=validators.headers(request.url))
                self._check()
                return await self._sender.send(request)

            stream: PageStream[Any] = PageStream(
                fetch,
                decode,
                spec,
                record_id=operator.attrgetter("id") if typed else raw_id,
                cheap_ids=typed,
                url=lambda page: request_for(page).url,
                path=path,
                events=self._events,
                retry_delay=lambda error, attempt: self._sender.delay(error, attempt, 0.0),
            )
            self._walks.add(stream)
            return stream

        return Pager(spec, request_for, codec, open_stream, path)


def _check_path(name: str, path: str) -> str:
    """A path below ``base_url``: one leading '/', no query, no '..' (never another host)."""
    if (
        not isinstance(path, str)
        or not path.startswith("/")
        or path.startswith("//")
        or any(c in path for c in "?#\\")
        or ".." in path.split("/")
    ):
        raise UsageError(f"{name} must be a path like '/v1/things' below base_url, got {path!r}")
    return path.rstrip("/") or "/"
