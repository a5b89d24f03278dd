"""The transport edge: what goes on the wire, and how aiohttp failures come back.

Failures are injected with aioresponses. Its successful responses do not work with aiohttp 3.14
(pnuckowski/aioresponses#289: ClientResponse gained a required ``stream_writer``), so the success
path is checked against a real loopback server instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import aiohttp.web
import pytest
from aioresponses import aioresponses
from conftest import MakeServer
from scripted_server import AUTHORIZATION, KEY, SECRET, envelope, record

from paren_async import AiohttpTransport, Credentials, TimeoutError, TransportError
from paren_async._http import build_request

URL = "https://api.paren.test/metadata/v1/locations?limit=100&offset=0"
CREDENTIALS = Credentials("key", "secret")


@pytest.fixture
async def transport() -> AsyncIterator[AiohttpTransport]:
    transport = AiohttpTransport()
    yield transport
    await transport.aclose()


@pytest.fixture
def mocked() -> aioresponses:
    with aioresponses() as mock:
        yield mock


async def test_sends_basic_auth_and_returns_the_whole_response(make_server: MakeServer) -> None:
    """On the wire: Paren's documented Basic header, and status, headers and body come back whole."""
    server = await make_server(3)
    transport = AiohttpTransport()
    try:
        request = build_request(
            server.url, "/metadata/v1/locations", "limit=2&offset=1", Credentials(KEY, SECRET)
        )
        response = await transport.send(request)
        health = await transport.send(build_request(server.url, "/healthcheck"))
    finally:
        await transport.aclose()
    assert server.authorizations == [AUTHORIZATION, None]
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert response.body == envelope([record(1), record(2)])
    assert health.status == 200


def test_documented_basic_auth_example() -> None:
    """Paren's own example: key `key` and secret `secret` give `Basic a2V5OnNlY3JldA==`."""
    assert CREDENTIALS.authorization == "Basic a2V5OnNlY3JldA=="


@pytest.mark.parametrize(
    ("exception", "error"),
    [
        pytest.param(aiohttp.ClientConnectionError("refused"), TransportError, id="connection"),
        pytest.param(aiohttp.ServerDisconnectedError(), TransportError, id="disconnected"),
        pytest.param(aiohttp.ClientPayloadError("truncated"), TransportError, id="payload"),
        pytest.param(aiohttp.ServerTimeoutError("read"), TimeoutError, id="aiohttp-timeout"),
        pytest.param(asyncio.TimeoutError(), TimeoutError, id="asyncio-timeout"),
    ],
)
async def test_aiohttp_failures_become_ours(
    transport: AiohttpTransport, mocked: aioresponses, exception: Exception, error: type[Exception]
) -> None:
    """Every aiohttp or timeout failure is re-raised as our typed error, chained to the original."""
    mocked.get(URL, exception=exception)
    request = build_request(
        "https://api.paren.test", "/metadata/v1/locations", "limit=100&offset=0", CREDENTIALS
    )
    with pytest.raises(error) as caught:
        await transport.send(request)
    assert type(caught.value) is error
    assert caught.value.__cause__ is exception
    assert caught.value.url == URL


async def test_borrowed_session_survives_aclose(mocked: aioresponses) -> None:
    """aclose() leaves a borrowed session open."""
    async with aiohttp.ClientSession() as session:
        transport = AiohttpTransport(session)
        await transport.aclose()
        assert not session.closed


class TestFailuresARetryCannotChange:
    """Regression (issue 10, 2.9b): these were retried four times; they fail at once."""

    async def test_a_body_in_an_unsupported_content_encoding(self) -> None:
        """`Content-Encoding: br` without a brotli decoder (or any unknown coding): one attempt."""
        from aiohttp import web

        from paren_async import ParenClient, RetryPolicy

        hits: list[str] = []

        async def page(request: web.Request) -> web.Response:
            hits.append(request.path)
            return web.Response(body=b"\x1b\x00garbled", headers={"Content-Encoding": "zz"})

        app = web.Application()
        app.router.add_get("/metadata/v1/locations", page)
        async with serving(app) as base:
            retry = RetryPolicy(max_attempts=4, base_delay=0.0)
            async with ParenClient("k", "s", base_url=base, retry=retry) as client:
                with pytest.raises(TransportError, match="Content-Encoding") as caught:
                    await client.locations().collect()
        assert hits == ["/metadata/v1/locations"]
        assert caught.value.attempts == 1 and not caught.value.transient

    async def test_tls_spoken_to_a_plain_http_port(self) -> None:
        """https:// to a server that speaks plain HTTP: a TLS error, not retried."""
        from aiohttp import web

        from paren_async import ParenClient, RetryPolicy

        hits: list[str] = []

        async def page(request: web.Request) -> web.Response:
            hits.append(request.path)
            return web.Response(body=b"{}")

        app = web.Application()
        app.router.add_get("/metadata/v1/locations", page)
        async with serving(app) as base:
            tls = base.replace("http://", "https://")
            retry = RetryPolicy(max_attempts=4, base_delay=0.0)
            async with ParenClient("k", "s", base_url=tls, retry=retry) as client:
                with pytest.raises(TransportError) as caught:
                    await client.locations().collect()
        assert caught.value.attempts == 1 and not caught.value.transient
        assert hits == []

    async def test_an_invalid_url(self) -> None:
        """A URL aiohttp cannot use (a port out of range) fails at once, typed."""
        from paren_async import ParenClient, ParenError, RetryPolicy

        retry = RetryPolicy(max_attempts=4, base_delay=0.0)
        with pytest.raises(ParenError) as caught:
            async with ParenClient("k", "s", base_url="http://127.0.0.1:99999", retry=retry) as c:
                await c.locations().collect()
        assert caught.value.attempts == 1


class TestTimeoutWiring:
    """Regression (review): connect and read limits reached aiohttp swapped, so a page slower
    than ``connect`` seconds to its first byte failed. Each limit must bound its own phase."""

    @pytest.mark.parametrize(
        ("connect", "read", "completes"),
        [(0.1, 2.0, True), (2.0, 0.1, False)],
        ids=["short-connect-long-read", "long-connect-short-read"],
    )
    async def test_read_limits_the_wait_for_the_response(
        self, connect: float, read: float, completes: bool
    ) -> None:
        from aiohttp import web

        from paren_async import Request, Timeout

        served: list[str] = []

        async def slow(request: web.Request) -> web.Response:
            served.append(request.path)
            await asyncio.sleep(0.4)  # longer than the short limit, shorter than the long one
            return web.Response(body=b"{}")

        app = web.Application()
        app.router.add_get("/slow", slow)
        async with serving(app) as base:
            transport = AiohttpTransport()
            request = Request("GET", f"{base}/slow", timeout=Timeout(5.0, connect, read))
            try:
                if completes:
                    assert (await transport.send(request)).status == 200
                else:
                    with pytest.raises(TimeoutError, match=r"read=0\.1s"):
                        await transport.send(request)
            finally:
                await transport.aclose()
        assert served == ["/slow"]  # the request reached the server: a read wait, not a connect


@contextlib.asynccontextmanager
async def serving(app: aiohttp.web.Application) -> AsyncIterator[str]:
    from aiohttp.test_utils import TestServer

    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
