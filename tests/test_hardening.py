"""Production hardening: plain-http refusal, TLS, redirects, size limits, hooks, tracing, logging."""

from __future__ import annotations

import contextlib
import gzip
import logging
import ssl
import subprocess
import sys
import time
import traceback
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import trustme
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import FAST_RETRY, MakeServer, client_for
from scripted_server import AUTHORIZATION, KEY, SECRET, Reply, envelope, record

from paren_async import (
    AuthenticationError,
    DecodeError,
    EventHooks,
    Location,
    PageEvent,
    ParenClient,
    ParenError,
    RedirectError,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    Timeout,
    TransportError,
    UsageError,
)
from paren_async._http import Request, Response, follow_redirect

TOKEN = AUTHORIZATION.split()[1]


@contextlib.asynccontextmanager
async def serving(app: web.Application, **kwargs: Any) -> AsyncIterator[TestServer]:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(shutdown_timeout=0.1, **kwargs)
    try:
        yield server
    finally:
        await server.close()


def page_app(records: int = 3, seen: list[str | None] | None = None) -> web.Application:
    async def locations(request: web.Request) -> web.Response:
        if seen is not None:
            seen.append(request.headers.get("Authorization"))
        offset = int(request.query.get("offset", 0))
        body = envelope([record(i) for i in range(offset, records)])
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/metadata/v1/locations", locations)
    return app


class TestPlainHttp:
    @pytest.mark.parametrize(
        "url",
        [
            pytest.param("http://api.paren.app", id="public-host"),
            pytest.param("http://10.0.0.5:8080", id="private-address"),
        ],
    )
    def test_refused_for_non_loopback_hosts(self, url: str) -> None:
        """Basic auth over plain http to another host is refused before anything is sent."""
        with pytest.raises(UsageError, match="clear text"):
            ParenClient(KEY, SECRET, base_url=url)

    @pytest.mark.parametrize(
        "url",
        [
            pytest.param("http://127.0.0.1:8080", id="ipv4-loopback"),
            pytest.param("http://[::1]:8080", id="ipv6-loopback"),
            pytest.param("http://localhost:8080", id="localhost"),
        ],
    )
    def test_allowed_for_loopback(self, url: str) -> None:
        """A local emulator over plain http is fine."""
        assert ParenClient(KEY, SECRET, base_url=url).base_url == url

    def test_explicit_opt_in(self) -> None:
        """allow_insecure_http=True is the caller's explicit choice."""
        client = ParenClient(KEY, SECRET, base_url="http://api.paren.app", allow_insecure_http=True)
        assert client.base_url == "http://api.paren.app"

    def test_environment_url_is_checked_too(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """PAREN_BASE_URL goes through the same check."""
        monkeypatch.setenv("PAREN_BASE_URL", "http://api.paren.app")
        with pytest.raises(UsageError):
            ParenClient(KEY, SECRET)

    def test_credentials_in_url_refused(self) -> None:
        """A base URL carrying user:password is refused, not silently sent."""
        with pytest.raises(UsageError, match="credentials"):
            ParenClient(base_url="https://user:pw@api.paren.app")


class TestTLS:
    @pytest.fixture
    def ca(self) -> trustme.CA:
        return trustme.CA()

    async def test_verification_is_on_and_a_custom_context_is_used(self, ca: trustme.CA) -> None:
        """An untrusted certificate fails; the same server works with an SSLContext that trusts it."""
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(server_context)
        client_context = ssl.create_default_context()
        ca.configure_trust(client_context)
        async with serving(page_app(), ssl=server_context) as server:
            url = f"https://127.0.0.1:{server.port}"
            async with ParenClient(KEY, SECRET, base_url=url, retry=None) as client:
                with pytest.raises(TransportError, match=r"(?i)certificate"):
                    await client.locations()
            async with ParenClient(KEY, SECRET, base_url=url, ssl_context=client_context) as client:
                assert len(await client.locations().collect()) == 3

    def test_ssl_context_must_be_a_context(self) -> None:
        """ssl_context=False (verification off) is not accepted."""
        with pytest.raises(UsageError):
            ParenClient(KEY, SECRET, ssl_context=False)  # type: ignore[arg-type]


class TestRedirects:
    async def test_same_origin_redirect_is_followed_with_credentials(self) -> None:
        """A redirect within the base URL's origin keeps the credentials."""
        seen: list[str | None] = []
        app = page_app(seen=seen)

        async def old(request: web.Request) -> web.Response:
            raise web.HTTPTemporaryRedirect(f"/metadata/v1/locations?{request.query_string}")

        app.router.add_get("/old/locations", old)
        async with (
            serving(app) as server,
            ParenClient(KEY, SECRET, base_url=str(server.make_url("")).rstrip("/")) as client,
        ):
            page = await client.paginate("/old/locations", model=Location)
        assert len(page.items) > 0
        assert seen == [AUTHORIZATION]

    async def test_redirect_to_another_origin_is_refused(self) -> None:
        """A redirect to another host (here another port) raises, and that host receives nothing."""
        elsewhere: list[str | None] = []
        async with serving(page_app(seen=elsewhere)) as other:
            target = str(other.make_url("/metadata/v1/locations"))

            async def moved(request: web.Request) -> web.Response:
                raise web.HTTPFound(str(other.make_url("/metadata/v1/locations?token=abc")))

            app = web.Application()
            app.router.add_get("/metadata/v1/locations", moved)
            async with serving(app) as server:
                base = str(server.make_url("")).rstrip("/")
                async with ParenClient(KEY, SECRET, base_url=base, retry=FAST_RETRY) as client:
                    with pytest.raises(RedirectError) as caught:
                        await client.locations()
        assert elsewhere == []
        assert caught.value.status == 302
        assert caught.value.location == target
        assert caught.value.attempts == 1  # not retried
        assert "another origin" in str(caught.value)

    def test_https_to_http_downgrade_is_refused(self) -> None:
        """A redirect from https to http on the same host is still refused."""
        request = Request("GET", "https://api.paren.app/metadata/v1/locations")
        response = Response(301, {"Location": "http://api.paren.app/metadata/v1/locations"}, b"")
        with pytest.raises(RedirectError, match="downgrades https to http"):
            follow_redirect(request, response)

    def test_relative_location_resolves_against_the_request(self) -> None:
        """A relative Location stays on the same origin and keeps the credentials object."""
        from paren_async import Credentials

        credentials = Credentials(KEY, SECRET)
        request = Request("GET", "https://api.paren.app/a/b?x=1", credentials)
        target = follow_redirect(request, Response(308, {"location": "/c?x=1"}, b""))
        assert target.url == "https://api.paren.app/c?x=1"
        assert target.credentials is credentials

    async def test_redirect_loop_gives_up(self) -> None:
        """A redirect loop ends with a RedirectError, not a hang."""

        async def loop(request: web.Request) -> web.Response:
            raise web.HTTPFound("/metadata/v1/locations")

        app = web.Application()
        app.router.add_get("/metadata/v1/locations", loop)
        async with (
            serving(app) as server,
            ParenClient(KEY, SECRET, base_url=str(server.make_url("")).rstrip("/")) as client,
        ):
            with pytest.raises(RedirectError, match="more than 5 redirects"):
                await client.locations()


class TestUntrustedInput:
    @pytest.mark.parametrize(
        "compress", [pytest.param(False, id="plain"), pytest.param(True, id="gzip-bomb")]
    )
    async def test_oversized_bodies_are_decode_errors(self, compress: bool) -> None:
        """A body over max_response_size (after decompression) is refused as a DecodeError."""
        huge = envelope([record(0)] * 2000)  # ~250 kB, highly compressible

        async def big(request: web.Request) -> web.Response:
            if compress:
                return web.Response(body=gzip.compress(huge), headers={"Content-Encoding": "gzip"})
            return web.Response(body=huge)

        app = web.Application()
        app.router.add_get("/metadata/v1/locations", big)
        async with serving(app) as server:
            base = str(server.make_url("")).rstrip("/")
            async with ParenClient(KEY, SECRET, base_url=base, max_response_size=100_000) as client:
                with pytest.raises(DecodeError, match="max_response_size"):
                    await client.locations()
            async with ParenClient(KEY, SECRET, base_url=base) as client:
                assert len((await client.locations()).items) == 100

    def test_deeply_nested_json_is_a_decode_error(self) -> None:
        """Pathological nesting is a DecodeError from the decoder, not a crash."""
        from paren_async._decoding import codec_for, decode_page

        body = b'{"data": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
        with pytest.raises(DecodeError):
            decode_page(
                Request("GET", "u"),
                Response(200, {}, body),
                codec_for(Location),
                offset=0,
                limit=1,
                now=0,
            )


class TestHooks:
    async def test_events_carry_the_right_data(self, make_server: MakeServer) -> None:
        """Each attempt, retry and page reaches its hook with method, URL, status, attempt and offset."""
        events: list[object] = []
        hooks = EventHooks(
            on_request=events.append,
            on_response=events.append,
            on_retry=events.append,
            on_page=events.append,
        )
        server = await make_server(150)
        server.at(99, Reply(status=503))
        async with client_for(server, hooks=hooks, concurrency=1) as client:
            assert len(await client.locations().collect()) == 150
        requests = [e for e in events if isinstance(e, RequestEvent)]
        responses = [e for e in events if isinstance(e, ResponseEvent)]
        retries = [e for e in events if isinstance(e, RetryEvent)]
        pages = [e for e in events if isinstance(e, PageEvent)]
        assert [(e.offset, e.attempt) for e in requests] == [(0, 1), (99, 1), (99, 2), (149, 1)]
        assert [e.status for e in responses] == [200, 503, 200, 200]
        assert all(e.elapsed >= 0 and e.url.startswith(server.url) for e in responses)
        assert isinstance(responses[1].error, ParenError)
        assert [(e.offset, e.attempt, e.error.status) for e in retries] == [(99, 1, 503)]  # type: ignore[attr-defined]
        assert [(e.path, e.offset, e.records) for e in pages] == [
            ("/metadata/v1/locations", 0, 100),
            ("/metadata/v1/locations", 100, 50),
        ]
        assert not any(SECRET in repr(e) or TOKEN in repr(e) for e in events)

    async def test_a_failing_hook_does_not_break_the_walk(
        self, make_server: MakeServer, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A hook that raises is logged and the walk carries on."""

        def broken(event: object) -> None:
            raise RuntimeError("metrics backend down")

        server = await make_server(10)
        async with client_for(server, hooks=EventHooks(on_page=broken)) as client:
            assert len(await client.locations().collect()) == 10
        assert "event hook raised" in caplog.text

    async def test_aiohttp_trace_configs_pass_through(self, make_server: MakeServer) -> None:
        """TraceConfig callbacks given to the client see its requests."""
        started: list[str] = []
        trace = aiohttp.TraceConfig()

        async def on_start(
            session: object, context: object, params: aiohttp.TraceRequestStartParams
        ) -> None:
            started.append(str(params.url))

        trace.on_request_start.append(on_start)
        server = await make_server(5)
        async with client_for(server, trace_configs=[trace]) as client:
            await client.locations().collect()
        assert started and started[0].startswith(server.url + "/metadata/v1/locations")

    async def test_trace_configs_with_borrowed_session_refused(self) -> None:
        """trace_configs belong on your own session when you bring one."""
        async with aiohttp.ClientSession() as session:
            with pytest.raises(UsageError, match="trace_configs"):
                ParenClient(KEY, SECRET, session=session, trace_configs=[aiohttp.TraceConfig()])


class TestOpenTelemetry:
    async def test_walk_span_with_a_child_span_per_page_request(
        self, make_server: MakeServer
    ) -> None:
        """A walk is one span; each page request is a CLIENT child with HTTP attributes and offset."""
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from opentelemetry.trace import SpanKind

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        server = await make_server(150)
        server.at(99, Reply(status=503))
        async with client_for(server, tracer_provider=provider, concurrency=1) as client:
            await client.locations().collect()
        spans = exporter.get_finished_spans()
        walk = next(s for s in spans if s.name == "paren_async.walk")
        requests = [s for s in spans if s.name == "GET"]
        assert walk.attributes["paren.records"] == 150  # type: ignore[index]
        assert len(requests) == 4  # one CLIENT span per attempt: the 503 and its retry
        assert all(
            s.parent is not None and s.parent.span_id == walk.context.span_id for s in requests
        )  # type: ignore[union-attr]
        assert all(s.kind is SpanKind.CLIENT for s in requests)
        by_offset = {s.attributes["paren.offset"]: s.attributes for s in requests}  # type: ignore[index]
        assert by_offset[99]["http.request.resend_count"] == 1  # the last attempt at 99
        assert by_offset[99]["http.response.status_code"] == 200
        statuses = sorted(
            s.attributes["http.response.status_code"]
            for s in requests
            if s.attributes["paren.offset"] == 99  # type: ignore[index]
        )
        assert statuses == [200, 503]
        assert by_offset[0]["url.full"] == server.url + "/metadata/v1/locations?limit=100&offset=0"
        assert by_offset[0]["server.address"] == "127.0.0.1"
        assert not any(TOKEN in str(s.to_json()) or SECRET in str(s.to_json()) for s in spans)

    async def test_client_spans_measure_the_http_exchange_only(
        self, make_server: MakeServer
    ) -> None:
        """Regression: a 30 ms request showed a 507 ms span, queueing for the rate limit inside."""
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        server = await make_server(450, latency=lambda offset: 0.03)
        async with client_for(server, tracer_provider=provider, rate_limit=2) as client:
            started = time.monotonic()
            await client.locations(concurrency=4).collect()
            walked = time.monotonic() - started
        requests = [s for s in exporter.get_finished_spans() if s.name == "GET"]
        durations = [(s.end_time - s.start_time) / 1e9 for s in requests]  # type: ignore[operator]
        assert len(requests) >= 5 and walked > 1.0  # the rate limit made requests queue
        assert max(durations) < 0.25  # each span: about the 30 ms exchange, not the queueing

    async def test_no_spans_without_a_configured_provider(self, make_server: MakeServer) -> None:
        """With only OpenTelemetry's default proxy provider, the client creates no spans."""
        from paren_async._telemetry import Telemetry

        assert Telemetry()._tracer() is None
        server = await make_server(5)
        async with client_for(server) as client:
            assert len(await client.locations().collect()) == 5


class TestLogging:
    def test_quiet_by_default_and_on_with_paren_log(self, tmp_path: Any) -> None:
        """Without configuration nothing reaches stderr; PAREN_LOG=info prints retries and walk summaries."""
        script = tmp_path / "walk.py"
        script.write_text(
            "import asyncio, logging\n"
            "from paren_async import ParenClient\n"
            "async def main():\n"
            "    async with ParenClient('k', 's', base_url='http://127.0.0.1:9', retry=None) as c:\n"
            "        logging.getLogger('paren_async').warning('a library warning')\n"
            "        try:\n"
            "            await c.locations().collect()\n"
            "        except Exception:\n"
            "            pass\n"
            "asyncio.run(main())\n"
        )
        quiet = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            env={"PATH": ""},
            check=True,
        )
        assert quiet.stderr == ""
        loud = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            env={"PAREN_LOG": "info"},
            check=True,
        )
        assert "a library warning" in loud.stderr
        assert "walk of /metadata/v1/locations stopped" in loud.stderr


class TestSecrets:
    @pytest.mark.parametrize(
        "reply",
        [
            pytest.param(Reply(status=401, body=b'{"errors": ["bad key"]}'), id="401"),
            pytest.param(Reply(status=503), id="503-exhausted"),
            pytest.param(Reply(reset=True), id="reset"),
            pytest.param(Reply(hang=True), id="timeout"),
            pytest.param(Reply(body=b"<html>oops</html>"), id="decode"),
            pytest.param(
                Reply(truncate=True, body=b'{"data": [' + b" " * 1000 + b"]}"), id="truncated"
            ),
            pytest.param(
                Reply(status=302, headers={"Location": "http://127.0.0.2:1/x?secret=1"}),
                id="redirect",
            ),
        ],
    )
    async def test_no_error_path_shows_the_secret(
        self, make_server: MakeServer, caplog: pytest.LogCaptureFixture, reply: Reply
    ) -> None:
        """Across every error path, at DEBUG on every logger, no text shows the secret or the token."""
        caplog.set_level(logging.DEBUG)  # root: aiohttp's and asyncio's loggers included
        server = await make_server(1000)
        server.at(0, *[reply] * 8)  # aiohttp itself may repeat a GET on a reset connection
        texts: list[str] = []
        hooks = EventHooks(
            on_response=lambda e: texts.append(repr(e)), on_retry=lambda e: texts.append(repr(e))
        )
        async with client_for(server, hooks=hooks, timeout=Timeout(attempt=0.3)) as client:
            with pytest.raises(ParenError) as caught:
                await client.locations().collect()
            error = caught.value
            texts += [
                str(error),
                repr(error),
                "".join(traceback.format_exception(error)),
                repr(client),
            ]
            cause = error.__cause__
            while cause is not None:
                texts += [str(cause), repr(cause)]
                cause = cause.__cause__
            texts.append(repr(client.statistics()))
        texts.append(caplog.text)
        for text in texts:
            assert SECRET not in text
            assert TOKEN not in text
        if isinstance(error, AuthenticationError):
            assert error.errors == ("bad key",)
