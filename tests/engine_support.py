"""An in-memory collection served through ``MockTransport``: engine tests without sockets.

The collection is a list of ids that a test may change between requests (drift), cap per page,
or answer with a scripted failure, and it logs what it served. Every request is answered from
the list as it is at that moment, the way a live server with a stable order would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from paren_async import MockTransport, ParenClient, Request, Response, RetryPolicy

FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.0, max_delay=0.0)


def body_of(ids: list[str], extra: bytes = b"") -> bytes:
    records = b", ".join(b'{"id": "%s"%s}' % (i.encode(), extra) for i in ids)
    return b'{"data": [' + records + b'], "status_code": 200}'


@dataclass
class Collection:
    ids: list[str]
    #: Records per page the server gives at most, whatever the limit asked.
    cap: int | None = None
    #: Called with (offset, limit) before each request is answered: a place to drift.
    before: Callable[[int, int], None] | None = None
    #: Answers to give instead of the page, per offset, in order (a Response or an exception).
    script: dict[int, list[Any]] = field(default_factory=dict)
    #: Seconds each answer takes (so that requests overlap in time).
    latency: float = 0.0
    #: Offsets at which a request hangs until the test ends.
    hang_from: int | None = None
    #: Serve the first page whatever offset is asked (a server that does not page).
    ignore_offset: bool = False
    #: Send an ETag over each page's ids; answer a matching If-None-Match with 304.
    etag: bool = False
    served: list[tuple[int, int, int]] = field(default_factory=list)

    @classmethod
    def of(cls, total: int, **options: Any) -> Collection:
        return cls([f"L{i:05d}" for i in range(total)], **options)

    async def __call__(self, request: Request) -> Response:
        query = parse_qs(urlsplit(request.url).query)
        offset, limit = int(query["offset"][0]), int(query["limit"][0])
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.hang_from is not None and offset >= self.hang_from:
            await asyncio.Event().wait()
        if self.script.get(offset):
            answer = self.script[offset].pop(0)
            self.served.append((offset, limit, -1))
            if isinstance(answer, BaseException):
                raise answer
            return answer  # type: ignore[no-any-return]
        if self.before is not None:
            self.before(offset, limit)
        count = limit if self.cap is None else min(limit, self.cap)
        offset = 0 if self.ignore_offset else offset
        page = self.ids[offset : offset + count]
        headers = {"Content-Type": "application/json"}
        if self.etag:
            tag = f'W/"{hash(tuple(page)) & 0xFFFFFFFF:x}"'
            if dict(request.headers).get("If-None-Match") == tag:
                self.served.append((offset, limit, -304))
                return Response(304, {"ETag": tag}, b"")
            headers["ETag"] = tag
        self.served.append((offset, limit, len(page)))
        return Response(200, headers, body_of(page))

    def insert(self, count: int, at: int, tag: str = "new") -> None:
        self.ids[at:at] = [f"{tag}-{at}-{i}" for i in range(count)]

    def remove(self, count: int, at: int) -> list[str]:
        removed = self.ids[at : at + count]
        del self.ids[at : at + count]
        return removed


def mock_client(collection: Collection, **options: Any) -> tuple[ParenClient, MockTransport]:
    options.setdefault("retry", FAST_RETRY)
    transport = MockTransport(collection)
    client = ParenClient(
        "key", "secret", base_url="http://127.0.0.1:9", transport=transport, **options
    )
    return client, transport
