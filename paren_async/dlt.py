"""A dlt source for Paren locations: load them into any destination dlt supports.

``pip install 'paren-async[dlt]'`` (plus the destination's own extra, e.g. ``dlt[postgres]``)::

    import dlt
    from paren_async.dlt import paren_source

    pipeline = dlt.pipeline("paren", destination="duckdb", dataset_name="paren")
    pipeline.run(paren_source(api_key="...", api_secret="..."))

``paren_source`` has two resources, ``locations`` (Metadata API) and ``realtime_locations``
(Realtime API). Both are merged on the primary key ``id`` (an updated location replaces its row
and its nested rows: ``..._charging_pool__evses`` and their connectors), and yield whole pages, not
single records. Each row carries ``content_hash``, the md5 of the record's JSON exactly as the
server sent it: unlike dlt's own row hash, it changes when anything nested in the EVSE lists does.
With ``history=True`` the merge keeps every version instead (dlt's ``scd2`` strategy, versions told
apart by ``content_hash``).

The client is created inside each resource, on the event loop dlt runs it on, and is closed when
the walk ends, fails, or is stopped early (``add_limit``, an exception downstream): dlt does not
always close an async generator it stops, so the resource is a plain generator of awaitables, and
closing it closes the client on its loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Sequence
from typing import Any, Final

import msgspec

try:
    import dlt
    from dlt.sources import DltResource
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("paren_async.dlt needs dlt: pip install 'paren-async[dlt]'") from exc

from paren_async import ParenClient, RetryPolicy

__all__ = ["paren_source"]

_DECODE: Final = msgspec.json.Decoder(dict[str, Any]).decode
#: Seconds to wait for a client to close when dlt stops a resource early.
_CLOSE_TIMEOUT: Final = 10.0

Page = list[dict[str, Any]]


def _rows(records: Sequence[bytes]) -> Page:
    """A page of records as dicts, each with the md5 of its exact JSON."""
    rows = []
    for record in records:
        row = _DECODE(record)
        row["content_hash"] = hashlib.md5(record).hexdigest()
        rows.append(row)
    return rows


class _Walk:
    """One resource's walk: a client and its page stream, opened on the loop that first awaits."""

    def __init__(self, open_client: Callable[[], ParenClient], realtime: bool, **query: Any):
        self._open_client = open_client
        self._realtime = realtime
        self._query = query
        self._client: ParenClient | None = None
        self._pages: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._guard: AsyncGenerator[None, None] | None = None
        self.done = False
        self._lock: asyncio.Lock | None = None
        self._consumer: asyncio.Task[Any] | None = None

    async def next_page(self) -> Page:
        """The next page ([] once the walk is over). Safe to call many times at once: dlt may
        evaluate several of the awaitables the resource yields concurrently, and may drop one
        before it starts; each takes the next page in turn."""
        if self._lock is None:
            self._lock = asyncio.Lock()  # created on the loop that runs the walk
        async with self._lock:
            if self.done:
                return []
            return await self._next_page()

    async def _next_page(self) -> Page:
        if self._client is None:
            self._loop = asyncio.get_running_loop()
            self._client = self._open_client()
            # An async generator started on the loop is known to it: dlt's shutdown of its loop
            # (shutdown_asyncgens) closes it, and so the client, even when dlt never closes the
            # resource before stopping the loop.
            self._guard = guard = self._closing()
            await guard.__anext__()
            endpoint = self._client.realtime_locations if self._realtime else self._client.locations
            self._pages = endpoint(**self._query).raw_pages()
        self._consumer = asyncio.current_task()
        try:
            page = await self._pages.__anext__()
        except StopAsyncIteration:
            await self.aclose()
            return []
        except asyncio.CancelledError:
            if self.done:
                # Closed under us (dlt stopped the resource). dlt never removes a cancelled future
                # from its pool and would wait for it forever: end normally instead.
                return []
            await self.aclose()
            raise
        except BaseException:
            await self.aclose()
            raise
        finally:
            self._consumer = None
        return _rows(page.items)

    async def _closing(self) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        self.done = True
        consumer, self._consumer = self._consumer, None
        if consumer is not None and consumer is not asyncio.current_task():
            # A page is being read: stop that read first (it then ends with []), since closing
            # the stream under a read in progress would break it.
            consumer.cancel()
            await asyncio.wait({consumer})
        client, self._client = self._client, None
        pages, self._pages = self._pages, None
        guard, self._guard = self._guard, None
        if pages is not None:
            pages.close()  # PageStream.close(): stops prefetching at once
        if client is not None:
            await client.aclose()
        if guard is not None:
            await guard.aclose()

    def close_from_outside(self) -> None:
        """Close the client on its own loop, from any thread (dlt stopped the resource)."""
        loop = self._loop
        if self._client is None or loop is None or loop.is_closed() or not loop.is_running():
            return  # closed already, or never opened; a stopped loop closed it (see _closing)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:  # closed from the loop's own thread: schedule it there
            loop.create_task(self.aclose())
            return
        future = asyncio.run_coroutine_threadsafe(self.aclose(), loop)
        try:
            future.result(_CLOSE_TIMEOUT)
        except (concurrent.futures.TimeoutError, RuntimeError):  # pragma: no cover
            future.cancel()


def _pages(walk: _Walk) -> Iterator[Awaitable[Page]]:
    """Yields awaitables of the next page, which dlt awaits on its event loop."""
    try:
        while not walk.done:
            yield walk.next_page()
    finally:
        walk.close_from_outside()


@dlt.source(name="paren")
def paren_source(
    api_key: str = dlt.secrets.value,
    api_secret: str = dlt.secrets.value,
    base_url: str | None = None,
    filters: dict[str, str] | None = None,
    page_size: int = 100,
    max_attempts: int = 4,
    history: bool = False,
) -> tuple[DltResource, DltResource]:
    """Paren locations as two dlt resources, ``locations`` and ``realtime_locations``.

    Credentials come from the arguments or dlt's secrets (``sources.paren.api_key`` and
    ``api_secret``, or ``SOURCES__PAREN__API_KEY``...). ``base_url``: another host (default:
    ``PAREN_BASE_URL`` or Paren's). ``filters``: query filters for both endpoints.
    ``page_size``: 1 to 100 records per request. ``max_attempts``: per request, retries
    included. ``history``: keep every version of a row (scd2) instead of only the latest.
    Errors: the client's (``paren_async.ParenError`` subclasses), raised by dlt's extract step.
    """
    query: dict[str, Any] = {"page_size": page_size, **(filters or {})}

    def open_client() -> ParenClient:
        return ParenClient(
            api_key, api_secret, base_url=base_url, retry=RetryPolicy(max_attempts=max_attempts)
        )

    disposition: Any = (
        {"disposition": "merge", "strategy": "scd2", "row_version_column_name": "content_hash"}
        if history
        else "merge"
    )

    def resource(name: str, realtime: bool) -> DltResource:
        def pages() -> Iterator[Awaitable[Page]]:
            yield from _pages(_Walk(open_client, realtime, **query))

        return dlt.resource(pages, name=name, primary_key="id", write_disposition=disposition)

    return resource("locations", False), resource("realtime_locations", True)
