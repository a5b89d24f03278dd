"""The one module that imports aiohttp: ``send(request) -> response`` and ``aclose()``.

Every aiohttp or timeout failure leaves here as a ``TransportError`` (``raise ... from``), so no
caller ever has to know which HTTP library is underneath.
"""

from __future__ import annotations

import asyncio
import builtins
from typing import Final, Protocol

import aiohttp
import anyio

from ._config import Timeout
from ._exceptions import TimeoutError, TransportError
from ._http import Request, Response

__all__ = ["AiohttpTransport", "Transport"]

_USER_AGENT: Final = "paren-async"


class Transport(Protocol):
    """What the client needs from HTTP: one request in, one complete response out."""

    async def send(self, request: Request) -> Response: ...

    async def aclose(self) -> None: ...


class AiohttpTransport:
    """Sends requests through an ``aiohttp.ClientSession``: the caller's, or one of its own.

    A borrowed session is never closed here. An own session is created on first use (it must be
    created inside the running event loop) and closed by ``aclose()``.
    """

    def __init__(self, session: aiohttp.ClientSession | None = None, *, pool_size: int = 100):
        self._session = session
        self._owns_session = session is None
        self._pool_size = pool_size

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": _USER_AGENT, "Accept": "application/json"},
                raise_for_status=False,
            )
        return self._session

    async def send(self, request: Request) -> Response:
        session = self._get_session()
        timeout = request.timeout
        headers = {}
        if request.credentials is not None:
            headers["Authorization"] = request.credentials.authorization
        # aiohttp's own total timeout would count waiting for a pooled connection; the attempt
        # limit is applied around the request instead, and only connect/read go to aiohttp.
        client_timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=timeout.connect, sock_read=timeout.read
        )
        try:
            with anyio.fail_after(timeout.attempt):
                async with session.request(
                    request.method,
                    request.url,
                    headers=headers,
                    timeout=client_timeout,
                    allow_redirects=False,
                ) as response:
                    body = await response.read()
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
            ) from exc

    async def aclose(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None


def _describe(timeout: Timeout) -> str:
    return ", ".join(
        f"{name}={value:g}s"
        for name, value in (("attempt", timeout.attempt), ("connect", timeout.connect),
                            ("read", timeout.read))
        if value is not None
    )  # fmt: skip
