"""A loopback Paren server whose every response a test can script exactly.

The packaged emulator (``paren_async.testing``) is the realistic server; this one exists for the
cases a test must dictate byte for byte: a given body at a given offset, a server that ignores
``offset``, a response that never ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer

KEY, SECRET = "test-key", "test-secret-value-9f8e"
AUTHORIZATION = "Basic dGVzdC1rZXk6dGVzdC1zZWNyZXQtdmFsdWUtOWY4ZQ=="


def record(index: int) -> bytes:
    """The JSON of record `index`, with an extra field the models do not know."""
    return json.dumps(
        {
            "id": f"LOC-{index:07d}",
            "address": {
                "city": "Albany",
                "state": "NY",
                "coordinates": {"latitude": "42.6", "longitude": -73.7},
            },
            "charging_pool": {"evses": [{"status": "AVAILABLE"}]},
            "unknown_extra": {"n": index},
        },
        separators=(", ", ": "),
    ).encode()


def envelope(records: list[bytes]) -> bytes:
    return (
        b'{"data": [' + b", ".join(records) + b'], "duration": "1ms", "status_code": 200, '
        b'"status_message": "Success", "timestamp": "2025-05-13T20:22:24.898517Z"}'
    )


@dataclass
class Reply:
    """One scripted response; ``body=None`` with ``hang`` never answers, ``reset`` drops the line."""

    status: int = 200
    body: bytes | None = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    reset: bool = False
    truncate: bool = False


@dataclass
class ScriptedServer:
    total: int
    latency: Callable[[int], float] = lambda offset: 0.0
    ignore_offset: bool = False
    #: Replies to serve, per offset, before falling back to the real page.
    script: dict[int, deque[Reply]] = field(default_factory=lambda: defaultdict(deque))
    log: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    #: After this many requests, every request for `throttle_for` seconds gets a 429.
    throttle_after: int | None = None
    throttle_for: float = 0.0
    throttled: int = 0
    _throttle_until: float = 0.0
    in_flight: int = 0
    max_in_flight: int = 0
    cancelled: int = 0
    url: str = ""

    def at(self, offset: int, *replies: Reply) -> None:
        self.script[offset].extend(replies)

    def paths(self) -> list[str]:
        return [path for path, _ in self.log]

    def offsets(self, path: str = "/metadata/v1/locations") -> list[int]:
        return [int(q["offset"]) for p, q in self.log if p == path]

    async def _locations(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        self.log.append((request.path, query))
        self.authorizations.append(request.headers.get("Authorization"))
        if request.headers.get("Authorization") != AUTHORIZATION:
            body = b'{"errors": ["invalid credentials"], "status_code": 401}'
            return web.Response(status=401, body=body, content_type="application/json")
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 100))
        if (rate_limited := self._rate_limited()) is not None:
            return rate_limited
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency(offset))
            if self.script.get(offset):
                return await self._scripted(request, self.script[offset].popleft())
            start = 0 if self.ignore_offset else offset
            body = envelope([record(i) for i in range(start, min(self.total, start + limit))])
            return web.Response(body=body, content_type="application/json")
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1

    def _rate_limited(self) -> web.Response | None:
        now = asyncio.get_running_loop().time()
        if self.throttle_after is not None and len(self.log) == self.throttle_after + 1:
            self._throttle_until = now + self.throttle_for
        if now >= self._throttle_until:
            return None
        self.throttled += 1
        retry_after = f"{self._throttle_until - now:.3f}"
        return web.Response(status=429, headers={"Retry-After": retry_after})

    async def _scripted(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        if reply.hang:
            await asyncio.sleep(3600)
        if reply.reset:
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if reply.truncate:
            assert reply.body is not None
            response = web.StreamResponse(
                status=reply.status, headers={"Content-Length": str(len(reply.body))}
            )
            await response.prepare(request)
            await response.write(reply.body[: len(reply.body) // 2])
            assert request.transport is not None
            request.transport.abort()
            return response
        return web.Response(status=reply.status, body=reply.body, headers=reply.headers)

    async def _healthcheck(self, request: web.Request) -> web.Response:
        self.log.append((request.path, dict(request.query)))
        self.authorizations.append(request.headers.get("Authorization"))
        if self.script.get(-1):
            reply = self.script[-1].popleft()
            return web.Response(status=reply.status, body=reply.body)
        return web.json_response({"status": "ok"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/metadata/v1/locations", self._locations)
        app.router.add_get("/realtime/v1/locations", self._locations)
        app.router.add_get("/healthcheck", self._healthcheck)
        return app


@contextlib.asynccontextmanager
async def serve(server: ScriptedServer) -> AsyncIterator[ScriptedServer]:
    """Serve on 127.0.0.1 from a thread of its own, so the test's event loop holds only the
    client's tasks: a leak test can then look at every task, not at names it knows."""
    ready = threading.Event()
    loop = asyncio.new_event_loop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        test_server = TestServer(server.app(), host="127.0.0.1")
        loop.run_until_complete(test_server.start_server(shutdown_timeout=0.1))
        server.url = str(test_server.make_url("")).rstrip("/")
        ready.set()
        loop.run_forever()
        loop.run_until_complete(test_server.close())
        loop.close()

    thread = threading.Thread(target=run, name="scripted-server", daemon=True)
    thread.start()
    await asyncio.to_thread(ready.wait)
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join)
