"""The clients compared: each walks one whole collection and returns how many records it saw.

Every contender touches each record once (a loop over what it decoded) and keeps none of them,
except the two ``collect`` contenders, which return every record of the walk in one list.
The baselines are told the page count in advance (``Target.pages``), which no real client of an
API without totals can know: that makes them an upper bound, not a peer. paren-async alone
discovers the end the way the API allows (a short or empty page).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Final

import aiohttp
import httpx
import msgspec
import requests

from paren_async import Location, ParenClient

from . import _pydantic_models
from ._server import API_KEY, API_SECRET, PATH

__all__ = ["ALL", "AUTHORIZATION", "BY_KEY", "Contender", "Target"]

PAGE_SIZE: Final = 100
AUTHORIZATION: Final = "Basic " + base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()


@dataclass(frozen=True, slots=True)
class Target:
    """What to walk: a server's whole collection of ``records``, ``concurrency`` pages at a time."""

    url: str
    records: int
    concurrency: int
    page_size: int = PAGE_SIZE
    #: Stop the walks that look for the end after this many records (warm-ups only: a measured
    #: walk finds the end).
    max_items: int | None = None

    @property
    def pages(self) -> int:
        """Pages that hold data (the baselines fetch exactly these, nothing speculative)."""
        return -(-self.records // self.page_size)

    def page_urls(self) -> Iterator[str]:
        base = f"{self.url}{PATH}?limit={self.page_size}&offset="
        return (f"{base}{offset}" for offset in range(0, self.records, self.page_size))


@dataclass(frozen=True, slots=True)
class Contender:
    key: str
    label: str
    walk: Callable[[Target], int]
    #: Fetches one page at a time whatever the concurrency asked.
    sequential: bool = False


def _run(walk: Callable[[Target], Coroutine[object, object, int]]) -> Callable[[Target], int]:
    def run(target: Target) -> int:
        return asyncio.run(walk(target))

    return run


# -- paren-async ----------------------------------------------------------------------------


def _client(target: Target) -> ParenClient:
    return ParenClient(API_KEY, API_SECRET, base_url=target.url, concurrency=target.concurrency)


async def paren_typed(target: Target) -> int:
    seen = 0
    async with _client(target) as client:
        async for _location in client.locations(
            page_size=target.page_size, max_items=target.max_items
        ):
            seen += 1
    return seen


async def paren_raw(target: Target) -> int:
    seen = 0
    async with _client(target) as client:
        pager = client.locations(page_size=target.page_size, max_items=target.max_items)
        async for _record in pager.raw():
            seen += 1
    return seen


async def paren_collect(target: Target) -> int:
    async with _client(target) as client:
        pager = client.locations(page_size=target.page_size, max_items=target.max_items)
        records = await pager.collect()
    return len(records)


# -- baselines that know the page count ------------------------------------------------------


class _LimitPage(msgspec.Struct, frozen=True, gc=False):
    data: tuple[Location, ...] = ()


class _RawLimitPage(msgspec.Struct, frozen=True, gc=False):
    data: list[msgspec.Raw] = []


# The same typed models and decoder options as paren-async: only the machinery around differs.
_LIMIT_DECODER: Final = msgspec.json.Decoder(_LimitPage, strict=False)
_RAW_LIMIT_DECODER: Final = msgspec.json.Decoder(_RawLimitPage)


def _raw_records(body: bytes) -> Iterator[bytes]:
    """Each record of a page as its own ``bytes``, what ``Pager.raw()`` hands its caller."""
    for record in _RAW_LIMIT_DECODER.decode(body).data:
        yield bytes(record)


async def _fan_out(target: Target, fetch: Callable[[str], Awaitable[int]]) -> int:
    """``concurrency`` workers take page URLs from one shared iterator until none is left."""
    urls = target.page_urls()

    async def worker() -> int:
        count = 0
        for url in urls:  # shared: each URL goes to exactly one worker
            count += await fetch(url)
        return count

    counts = await asyncio.gather(*(worker() for _ in range(target.concurrency)))
    return sum(counts)


def _aiohttp_session(target: Target) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=target.concurrency),
        headers={"Authorization": AUTHORIZATION},
    )


async def stack_limit(target: Target) -> int:
    """aiohttp + msgspec into the same typed models, page count known: the ceiling of the stack."""
    async with _aiohttp_session(target) as session:

        async def fetch(url: str) -> int:
            async with session.get(url) as response:
                body = await response.read()
            response.raise_for_status()
            seen = 0
            for _location in _LIMIT_DECODER.decode(body).data:
                seen += 1
            return seen

        return await _fan_out(target, fetch)


async def raw_limit(target: Target) -> int:
    """aiohttp + a ``msgspec.Raw`` envelope, each record yielded as bytes, page count known."""
    async with _aiohttp_session(target) as session:

        async def fetch(url: str) -> int:
            async with session.get(url) as response:
                body = await response.read()
            response.raise_for_status()
            seen = 0
            for _record in _raw_records(body):
                seen += 1
            return seen

        return await _fan_out(target, fetch)


async def collect_limit(target: Target) -> int:
    """The stack limit keeping every typed record, in collection order, in one list."""
    pages: list[tuple[Location, ...]] = [() for _ in range(target.pages)]
    async with _aiohttp_session(target) as session:

        async def fetch(url: str) -> int:
            async with session.get(url) as response:
                body = await response.read()
            response.raise_for_status()
            data = _LIMIT_DECODER.decode(body).data
            pages[int(url.rpartition("=")[2]) // target.page_size] = data
            return len(data)

        await _fan_out(target, fetch)
    records = list(chain.from_iterable(pages))
    return len(records)


async def transport_only(target: Target) -> int:
    """aiohttp fetching the bytes, never decoding them: what HTTP alone costs."""
    async with _aiohttp_session(target) as session:

        async def fetch(url: str) -> int:
            async with session.get(url) as response:
                body = await response.read()
            response.raise_for_status()
            return PAGE_SIZE if body else 0

        fetched = await _fan_out(target, fetch)
    return min(fetched, target.records)


async def httpx_pydantic(target: Target) -> int:
    """httpx + pydantic v2, same concurrency, and also told the page count."""
    limits = httpx.Limits(
        max_connections=target.concurrency, max_keepalive_connections=target.concurrency
    )
    async with httpx.AsyncClient(auth=(API_KEY, API_SECRET), limits=limits) as client:

        async def fetch(url: str) -> int:
            response = await client.get(url)
            response.raise_for_status()
            envelope = _pydantic_models.Envelope.model_validate_json(response.content)
            seen = 0
            for _location in envelope.data or ():
                seen += 1
            return seen

        return await _fan_out(target, fetch)


def requests_sequential(target: Target) -> int:
    """How SDK paginators walk: one page, then the next, until a short page; ``response.json()``."""
    seen = 0
    offset = 0
    with requests.Session() as session:
        session.auth = (API_KEY, API_SECRET)
        while True:
            response = session.get(
                f"{target.url}{PATH}", params={"limit": target.page_size, "offset": offset}
            )
            response.raise_for_status()
            data = response.json()["data"]
            for _location in data:
                seen += 1
            if len(data) < target.page_size or seen == target.max_items:
                return seen
            offset += target.page_size


TYPED: Final = Contender("typed", "paren-async typed", _run(paren_typed))
RAW: Final = Contender("raw", "paren-async raw", _run(paren_raw))
COLLECT: Final = Contender("collect", "paren-async collect()", _run(paren_collect))
LIMIT: Final = Contender("limit", "stack limit (aiohttp + msgspec)", _run(stack_limit))
RAW_LIMIT: Final = Contender("rawlimit", "raw limit (aiohttp + msgspec.Raw)", _run(raw_limit))
COLLECT_LIMIT: Final = Contender(
    "collectlimit", "collect limit (aiohttp + msgspec, kept)", _run(collect_limit)
)
TRANSPORT: Final = Contender("transport", "transport alone (aiohttp bytes)", _run(transport_only))
HTTPX: Final = Contender("httpx", "httpx + pydantic v2", _run(httpx_pydantic))
SEQUENTIAL: Final = Contender(
    "sequential", "requests + json, sequential", requests_sequential, sequential=True
)

ALL: Final = (
    TYPED, RAW, COLLECT, LIMIT, RAW_LIMIT, COLLECT_LIMIT, TRANSPORT, HTTPX, SEQUENTIAL,
)  # fmt: skip
BY_KEY: Final = {contender.key: contender for contender in ALL}
