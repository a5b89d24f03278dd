"""The request handler: a Paren API, its state, and its misbehaviour, behind one aiohttp handler.

One low-level ``aiohttp.web.Server`` handler routes the three paths itself, so every answer,
404 and 405 included, is a Paren envelope. The order of the checks is part of the contract:

    latency -> auth (401) -> query (400) -> fault draw -> drift -> page (or the fault)

so 401 and 400 stay deterministic under any ``fault_rate``, and faults hit only requests that
would otherwise have succeeded.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import random
import socket
import struct
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType

from aiohttp import web

from . import _wire
from ._faults import Fault, FaultPlan
from ._records import RecordFactory
from ._settings import Settings
from ._stats import REDACTED, Recorder, RequestRecord
from ._store import FILTERS, LocationStore

__all__ = ["FAMILIES", "HEALTHCHECK", "ServerState"]

#: API path -> record family.
FAMILIES = {"/metadata/v1/locations": "metadata", "/realtime/v1/locations": "realtime"}
HEALTHCHECK = "/healthcheck"
_JSON = "application/json"
_HTML = "text/html; charset=utf-8"
_STATUS_FAULTS = {
    Fault.SERVER_ERROR: (500, "Internal Server Error"),
    Fault.BAD_GATEWAY: (502, "Bad Gateway"),
    Fault.SERVICE_UNAVAILABLE: (503, "Service Unavailable"),
    Fault.GATEWAY_TIMEOUT: (504, "Gateway Time-out"),
    Fault.RATE_LIMITED: (429, "Too Many Requests"),
}
# SO_LINGER on, timeout 0: close() sends RST instead of FIN, a real "connection reset by peer".
_RST = struct.pack("ii", 1, 0)


class _Outcome:
    """What one request turned into, filled in as the handler goes, logged when it ends."""

    __slots__ = ("body_size", "fault", "page", "records", "status")

    def __init__(self) -> None:
        self.status: int | None = None
        self.fault: Fault | None = None
        self.records = 0
        self.body_size = 0
        self.page = False


class ServerState:
    """Everything a request may read or change: settings, data, fault plan, counters."""

    def __init__(
        self,
        *,
        factory: RecordFactory,
        store: LocationStore,
        seed: int,
        api_key: str,
        api_secret: str,
        settings: Settings,
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.store = store
        self.plan = FaultPlan(seed)
        self.recorder = Recorder()
        # Separate streams, so that turning jitter on does not move where drift strikes.
        self.drift_rng = random.Random(f"drift:{seed}")
        self._jitter_rng = random.Random(f"jitter:{seed}")
        self._credentials = f"{api_key}:{api_secret}".encode()
        self._clock = clock
        self._closing = asyncio.Event()

    def close(self) -> None:
        """End every pause (hangs, latency) at once; their requests get no response."""
        self._closing.set()

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        started = time.monotonic()
        outcome = _Outcome()
        transport = request.transport
        self.recorder.begin(transport.get_extra_info("peername") if transport else None)
        try:
            return await self._respond(request, outcome, started)
        finally:
            self.recorder.end(
                RequestRecord(
                    method=request.method,
                    path=request.path,
                    query=MappingProxyType({name: request.query[name] for name in request.query}),
                    headers=MappingProxyType(
                        {
                            name: REDACTED if name.lower() == "authorization" else value
                            for name, value in request.headers.items()
                        }
                    ),
                    status=outcome.status,
                    fault=outcome.fault,
                    records=outcome.records,
                    started=started,
                    finished=time.monotonic(),
                ),
                outcome.body_size,
                page=outcome.page,
            )

    async def _respond(
        self, request: web.BaseRequest, outcome: _Outcome, started: float
    ) -> web.StreamResponse:
        path = request.path
        now = self._clock()
        family = FAMILIES.get(path)
        if family is None and path != HEALTHCHECK:
            return _error(outcome, 404, f"Unknown path {path!r}", now)
        if request.method != "GET":
            message = f"Method {request.method} not allowed"
            return _error(outcome, 405, message, now, {"Allow": "GET"})
        if family is None:  # the healthcheck: no auth, no latency, no faults
            body = b'{"status":"ok","timestamp":"%s"}' % _wire.timestamp(now)
            return _reply(outcome, 200, body, _JSON)
        settings = self.settings
        delay = settings.latency + settings.jitter * (2 * self._jitter_rng.random() - 1)
        if delay > 0:
            if await self._pause(delay):
                return _drop(request, outcome)
            now = self._clock()
        if not self._authorized(request.headers.get("Authorization")):
            headers = {"WWW-Authenticate": 'Basic realm="Paren"'}
            return _error(outcome, 401, "Missing or invalid API credentials", now, headers)
        paging = _wire.paging(request.query)
        if isinstance(paging, str):
            return _error(outcome, 400, paging, now)
        limit, offset = paging
        fault = self.plan.pick(
            path=path,
            offset=offset,
            request_key=request.path_qs,
            rate=settings.fault_rate,
            mix=settings.faults,
        )
        outcome.fault = fault
        if settings.drift_rate and self.drift_rng.random() < settings.drift_rate:
            inserted, removed = self.store.drift(self.drift_rng)
            self.recorder.inserted += inserted
            self.recorder.removed += removed
        if fault in _STATUS_FAULTS:
            return self._status_fault(outcome, fault, now)
        if fault is Fault.CONNECTION_RESET:
            return _drop(request, outcome, reset=True)
        if fault is Fault.HANG:
            if await self._pause(settings.hang):
                return _drop(request, outcome)
            now = self._clock()
        if settings.ignore_offset or fault is Fault.IGNORE_OFFSET:
            offset = 0
        count = limit if settings.page_cap is None else min(limit, settings.page_cap)
        if fault is Fault.PAGE_CAP:
            count = min(count, max(1, limit // 2))
        if fault is Fault.HTML_200:
            return _reply(outcome, 200, _wire.MAINTENANCE_PAGE, _HTML)
        if fault is Fault.ERROR_IN_200:
            body = _wire.error_body(500, "Internal server error", now=now)
            return _reply(outcome, 200, body, _JSON)
        records = self._page(family, request.query, offset, count)
        validator: dict[str, str] = {}
        if settings.etag:
            # Weak: over the records, not the envelope (its timestamp changes every response).
            tag = f'W/"{hashlib.blake2b(b"".join(records), digest_size=12).hexdigest()}"'
            if tag in request.headers.get("If-None-Match", ""):
                outcome.page = True
                return _reply(outcome, 304, b"", _JSON, {"ETag": tag})
            validator = {"ETag": tag}
        elapsed = int((time.monotonic() - started) * 1000)
        body = _wire.success_body(records, duration_ms=elapsed, now=now)
        outcome.page = True
        outcome.records = len(records)
        if fault is Fault.TRUNCATED_BODY:
            return await _truncated(request, outcome, body)
        if settings.gzip and "gzip" in request.headers.get("Accept-Encoding", ""):
            headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding", **validator}
            return _reply(outcome, 200, _wire.compress(body), _JSON, headers)
        return _reply(outcome, 200, body, _JSON, validator or None)

    def _page(self, family: str, query: Mapping[str, str], offset: int, count: int) -> list[bytes]:
        filters = {name: query[name] for name in FILTERS if query.get(name)}
        keys = self.store.keys(filters)[offset : offset + count]
        factory = self.factory
        if family == "metadata":
            return [factory.metadata(key) for key in keys]
        bucket = factory.bucket()
        return [factory.realtime(key, bucket) for key in keys]

    def _authorized(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, self._credentials)

    def _status_fault(self, outcome: _Outcome, fault: Fault, now: float) -> web.StreamResponse:
        status, reason = _STATUS_FAULTS[fault]
        if fault is Fault.RATE_LIMITED:
            headers = {"Retry-After": format(self.settings.retry_after, "g")}
            return _error(outcome, status, "Rate limit exceeded", now, headers)
        if fault is Fault.SERVICE_UNAVAILABLE:
            return _reply(outcome, status, b"", None)
        if fault is Fault.SERVER_ERROR:
            return _error(outcome, status, "Internal server error", now)
        return _reply(outcome, status, _wire.html_page(status, reason), _HTML)

    async def _pause(self, seconds: float) -> bool:
        """Sleep ``seconds``; True when the emulator started closing meanwhile."""
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except asyncio.TimeoutError:
            return False
        return True


def _reply(
    outcome: _Outcome,
    status: int,
    body: bytes,
    content_type: str | None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    outcome.status = status
    outcome.body_size = len(body)
    response = web.Response(status=status, body=body, headers=headers)
    if content_type is not None:
        response.headers["Content-Type"] = content_type
    return response


def _error(
    outcome: _Outcome,
    status: int,
    message: str,
    now: float,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    return _reply(outcome, status, _wire.error_body(status, message, now=now), _JSON, headers)


def _drop(request: web.BaseRequest, outcome: _Outcome, *, reset: bool = False) -> web.Response:
    """Close the connection without a response (a reset sends RST, otherwise FIN)."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if reset and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST)
        transport.abort()
    # aiohttp's attempt to send this meets the closed transport and is dropped quietly.
    return web.Response(status=500)


async def _truncated(
    request: web.BaseRequest, outcome: _Outcome, body: bytes
) -> web.StreamResponse:
    """Announce the whole body, send half of it, then close: the client sees a payload error."""
    response = web.StreamResponse(status=200, headers={"Content-Type": _JSON})
    response.content_length = len(body)
    await response.prepare(request)
    half = body[: len(body) // 2]
    await response.write(half)
    outcome.status = 200
    outcome.body_size = len(half)
    outcome.page, outcome.records = False, 0  # nothing usable was delivered
    if request.transport is not None:
        request.transport.close()  # flushes what was written, then FIN
    return response
