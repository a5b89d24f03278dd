"""The one module that imports aiohttp: ``send(request) -> response`` and ``aclose()``.

Every aiohttp or timeout failure leaves as a ``TransportError`` (``raise ... from``).
``MockTransport`` answers from a function instead of the network, for tests without sockets.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import ssl
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, Protocol

import aiohttp
import anyio

from ._config import DEFAULT_MAX_RESPONSE_SIZE, Timeout
from ._exceptions import DecodeError, TimeoutError, TransportError, UsageError
from ._http import Request, Response

_USER_AGENT: Final = "paren-async"
#: Content codings aiohttp decodes without optional packages; any other is refused, not retried.
_DECODED: Final = frozenset({"", "identity", "gzip", "x-gzip", "deflate"})


class Transport(Protocol):
    """What the client needs from HTTP: one request in, one complete response out."""

    async def send(self, request: Request) -> Response: ...

    async def aclose(self) -> None: ...


class AiohttpTransport:
    """Sends requests through the caller's ``aiohttp.ClientSession`` (never closed here) or its
    own, created on first use inside the running loop and closed by ``aclose()``. TLS is always
    verified (against ``ssl_context`` if given). Bodies over ``max_response_size`` bytes after
    decompression raise ``DecodeError``."""

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        pool_size: int = 100,
        ssl_context: ssl.SSLContext | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
    ) -> None:
        if session is not None and trace_configs:
            raise UsageError(
                "trace_configs apply to a session the client creates; "
                "add them to your own ClientSession instead"
            )
        if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
            raise UsageError("ssl_context must be an ssl.SSLContext")
        self._session = session
        self._owns_session = session is None
        self._pool_size = pool_size
        self._ssl: ssl.SSLContext | bool = True if ssl_context is None else ssl_context
        self._max_response_size = max_response_size
        self._trace_configs = list(trace_configs)
        self._timeouts: dict[Timeout, aiohttp.ClientTimeout] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": _USER_AGENT, "Accept": "application/json"},
                raise_for_status=False,
                trace_configs=self._trace_configs or None,
            )
        return self._session

    async def send(self, request: Request) -> Response:
        session = self._get_session()
        timeout = request.timeout
        # The header value is a masked str: a traceback formatted with its locals shows '***'.
        headers = {} if request.credentials is None else request.credentials.headers
        if request.headers:
            headers = {**headers, **dict(request.headers)}
        # aiohttp's total timeout counts the wait for a pooled connection: fine for an own pool
        # (as large as the client's cap), not for a borrowed one, so that gets fail_after.
        owned = self._owns_session
        client_timeout = self._timeouts.get(timeout)
        if client_timeout is None:
            total = timeout.attempt if owned else None
            client_timeout = aiohttp.ClientTimeout(
                total=total, sock_connect=timeout.connect, sock_read=timeout.read
            )
            self._timeouts[timeout] = client_timeout
        try:
            with contextlib.nullcontext() if owned else anyio.fail_after(timeout.attempt):
                async with session.request(
                    request.method,
                    request.url,
                    headers=headers,
                    timeout=client_timeout,
                    allow_redirects=False,
                    ssl=self._ssl,
                ) as response:
                    _check_coding(request, response.headers.get("Content-Encoding", ""))
                    body = await self._read(request, response)
                    return Response(response.status, response.headers, body)
        except (asyncio.TimeoutError, builtins.TimeoutError) as exc:  # distinct before 3.11
            raise TimeoutError(
                f"no complete response in time ({_describe(timeout)})",
                method=request.method,
                url=request.url,
            ) from exc
        except aiohttp.ClientError as exc:
            raise TransportError(
                f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
                method=request.method,
                url=request.url,
                transient=_transient(exc),
            ) from exc

    async def _read(self, request: Request, response: aiohttp.ClientResponse) -> bytes:
        limit = self._max_response_size
        length = response.content_length
        compressed = response.headers.get("Content-Encoding", "identity") != "identity"
        if length is not None and length > limit:
            raise _too_large(request, response.status, limit)
        if length is not None and not compressed:
            return await response.read()  # exactly `length` bytes: the fast path
        # Unknown or compressed length: count what decompression really produces.
        chunks, size = [], 0
        async for chunk in response.content.iter_chunked(1 << 16):
            size += len(chunk)
            if size > limit:
                raise _too_large(request, response.status, limit)
            chunks.append(chunk)
        return b"".join(chunks)

    async def aclose(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None


def _transient(exc: aiohttp.ClientError) -> bool:
    """False for failures the same request would meet again: a retry cannot change them."""
    if isinstance(exc, (aiohttp.InvalidURL, aiohttp.ClientSSLError)):
        return False  # an unusable URL; TLS refused, or spoken to a plain-HTTP port
    return not (
        isinstance(exc, aiohttp.ClientResponseError) and "content-encoding" in str(exc).lower()
    )


def _check_coding(request: Request, coding: str) -> None:
    if coding.strip().lower() not in _DECODED:
        raise TransportError(
            f"response body in an unsupported Content-Encoding {coding!r}",
            method=request.method,
            url=request.url,
            transient=False,
        )


class MockTransport:
    """Answers every request from ``handler(request) -> Response`` (or an awaitable of one), no
    network; the handler raises ``TransportError`` to simulate a failed connection. ``requests``
    keeps every request seen, in order. Use ``ParenClient(transport=MockTransport(handler))``."""

    def __init__(self, handler: Callable[[Request], Response | Awaitable[Response]]) -> None:
        self._handler = handler
        self.requests: list[Request] = []
        #: Requests being handled now, and the most at once (a handler that awaits shows them).
        self.in_flight = self.max_in_flight = 0

    async def send(self, request: Request) -> Response:
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response = self._handler(request)
            if not isinstance(response, Response):
                response = await response
            return response
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        pass


def _too_large(request: Request, status: int, limit: int) -> DecodeError:
    return DecodeError(
        f"response body larger than max_response_size ({limit:,} bytes); refused",
        method=request.method,
        url=request.url,
        status=status,
    )


def _describe(timeout: Timeout) -> str:
    limits = {"attempt": timeout.attempt, "connect": timeout.connect, "read": timeout.read}
    return ", ".join(f"{name}={value:g}s" for name, value in limits.items() if value is not None)
