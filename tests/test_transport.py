"""The transport edge: what goes on the wire, and how aiohttp failures come back.

Failures are injected with aioresponses. Its successful responses do not work with aiohttp 3.14
(pnuckowski/aioresponses#289: ClientResponse gained a required ``stream_writer``), so the success
path is checked against a real loopback server instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
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
