"""ParenClient end to end against a real loopback server: walks, lifecycle, errors, retries."""

from __future__ import annotations

import asyncio
import logging
import time
import traceback

import aiohttp
import pytest
from conftest import FAST_RETRY, MakeServer, client_for, fetch_tasks, settle
from scripted_server import AUTHORIZATION, KEY, SECRET, Reply, envelope, record

from paren_async import (
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    DecodeError,
    Location,
    NotFoundError,
    PaginationError,
    ParenClient,
    RetryPolicy,
    ServerError,
    Timeout,
    TimeoutError,
    TransportError,
    UsageError,
)


def ids(total: int, start: int = 0) -> list[str]:
    return [f"LOC-{i:07d}" for i in range(start, total)]


def page_at(k: int, page_size: int = 100) -> int:
    """Offset of the k-th request of a walk: pages after the first overlap by one record."""
    return k * (page_size - 1)


class TestWalk:
    @pytest.mark.parametrize("total", [0, 1, 99, 100, 101, 1000, 1234])
    @pytest.mark.parametrize("concurrency", [1, 3, 8])
    async def test_every_record_once_in_order(
        self, make_server: MakeServer, total: int, concurrency: int
    ) -> None:
        """A walk yields each record of the collection exactly once, in server order."""
        server = await make_server(total)
        async with client_for(server, concurrency=concurrency) as client:
            assert [loc.id async for loc in client.locations()] == ids(total)

    async def test_pages_arrive_in_offset_order_whatever_order_they_complete(
        self, make_server: MakeServer
    ) -> None:
        """Later pages that complete first still wait for their turn."""
        server = await make_server(1000, latency=lambda offset: 0.002 * ((offset // 100 * 7) % 5))
        async with client_for(server) as client:
            pages = [page async for page in client.locations().pages()]
        assert [p.offset for p in pages[1:]] == [p.next_offset for p in pages[:-1]]
        assert pages[-1].next_offset == 1000
        assert [loc.id for p in pages for loc in p.items] == ids(1000)

    async def test_window_is_bounded_by_concurrency(self, make_server: MakeServer) -> None:
        """No more than `concurrency` requests are ever in flight."""
        server = await make_server(3000, latency=lambda offset: 0.003)
        async with client_for(server, concurrency=4) as client:
            assert len(await client.locations().collect()) == 3000
        assert 2 <= server.max_in_flight <= 4

    async def test_walk_level_concurrency_overrides_client(self, make_server: MakeServer) -> None:
        """concurrency= on a walk replaces the client's default for that walk."""
        server = await make_server(2000, latency=lambda offset: 0.003)
        async with client_for(server, concurrency=8) as client:
            await client.locations(concurrency=2).collect()
        assert server.max_in_flight <= 2

    async def test_short_collection_is_confirmed_without_fan_out(
        self, make_server: MakeServer
    ) -> None:
        """The first page is fetched alone; a short one is confirmed by one more page, no fan-out."""
        server = await make_server(42)
        async with client_for(server) as client:
            assert len(await client.locations().collect()) == 42
        assert server.offsets() == [0, 41]  # the overlap back alone, after a short page: the end

    @pytest.mark.parametrize(
        ("max_items", "page_size", "offsets"),
        [
            pytest.param(250, 100, [0, 99, 198], id="250"),
            pytest.param(100, 100, [0], id="one-full-page"),
            pytest.param(5, 100, [0], id="less-than-a-page"),
            pytest.param(30, 7, [0, 6, 12, 18, 24], id="small-pages"),
        ],
    )
    async def test_max_items_is_exact_and_fetches_nothing_extra(
        self, make_server: MakeServer, max_items: int, page_size: int, offsets: list[int]
    ) -> None:
        """max_items yields exactly that many records and requests no page beyond them."""
        server = await make_server(10_000)
        async with client_for(server) as client:
            got = [
                loc.id async for loc in client.locations(max_items=max_items, page_size=page_size)
            ]
        assert got == ids(max_items)
        assert sorted(server.offsets()) == offsets
        limits = [int(q["limit"]) for _, q in server.log]
        assert sum(limits) - (len(limits) - 1) == max_items  # each later page repeats one record

    async def test_offset_starts_mid_collection(self, make_server: MakeServer) -> None:
        """offset= starts the walk at that record."""
        server = await make_server(500)
        async with client_for(server) as client:
            assert [loc.id async for loc in client.locations(offset=450)] == ids(500, start=450)

    async def test_await_gives_the_first_page_only(self, make_server: MakeServer) -> None:
        """Awaiting a pager fetches and returns its first Page and nothing else."""
        server = await make_server(1000)
        async with client_for(server) as client:
            page = await client.locations(page_size=10, offset=20)
        assert (page.offset, page.limit, len(page.items)) == (20, 10, 10)
        assert page.items[0].id == "LOC-0000020"
        assert page.duration == pytest.approx(0.001)
        assert server.offsets() == [20]

    async def test_raw_records_are_the_exact_bytes_sent(self, make_server: MakeServer) -> None:
        """raw() yields each record's bytes exactly as the server wrote them, unknown fields included."""
        server = await make_server(250)
        async with client_for(server) as client:
            raws = [r async for r in client.locations().raw()]
            raw_pages = [p async for p in client.locations(page_size=50).raw_pages()]
        assert raws == [record(i) for i in range(250)]
        assert {type(r) for r in raws} == {bytes}  # its own copy, not a view pinning the page
        assert [r for p in raw_pages for r in p.items] == raws
        assert [p.offset for p in raw_pages] == [0, 50, 99, 148, 197, 246]
        assert b"unknown_extra" in raws[0]

    async def test_realtime_walks_its_own_path_with_filters(self, make_server: MakeServer) -> None:
        """realtime_locations() calls the Realtime path and passes filters through as query parameters."""
        server = await make_server(3)
        async with client_for(server) as client:
            locs = await client.realtime_locations(state="NY", fast=True).collect()
        assert len(locs) == 3
        path, query = server.log[0]
        assert path == "/realtime/v1/locations"
        assert query == {"state": "NY", "fast": "true", "limit": "100", "offset": "0"}

    async def test_server_ignoring_offset_is_a_pagination_error(
        self, make_server: MakeServer
    ) -> None:
        """A server that returns the same page for every offset raises instead of looping."""
        server = await make_server(1000, ignore_offset=True)
        async with client_for(server) as client:
            seen = []
            with pytest.raises(PaginationError) as caught:
                async for loc in client.locations():
                    seen.append(loc.id)
        assert seen == ids(100)
        assert caught.value.resume is not None
        assert caught.value.resume.last_ids == tuple(ids(100)[-8:])  # resumes after LOC-0000099
        assert len(server.log) <= 2 + 8

    async def test_server_ignoring_offset_with_one_record_pages(
        self, make_server: MakeServer
    ) -> None:
        """Pages of one record cannot overlap, and the repeated page is still caught."""
        server = await make_server(50, ignore_offset=True)
        async with client_for(server) as client:
            with pytest.raises(PaginationError):
                await client.locations(page_size=1).collect()
        assert len(server.log) <= 2 + 8

    async def test_server_ignoring_offset_with_a_short_first_page(
        self, make_server: MakeServer
    ) -> None:
        """A server repeating its only, short page is stopped after a few requests, not looped."""
        server = await make_server(50, ignore_offset=True)
        async with client_for(server) as client:
            seen: list[str] = []
            with pytest.raises(PaginationError, match="does not seem to honour offset"):
                async for loc in client.locations():
                    seen.append(loc.id)
        assert seen == ids(50)
        assert len(server.log) <= 1 + 10 + 2 * 8  # the first page, the stall limit, one buffer

    async def test_a_slow_page_holds_the_window_but_never_widens_it(
        self, make_server: MakeServer
    ) -> None:
        """A slow page delays the walk by its own latency only, never past `concurrency` in flight."""
        server = await make_server(
            100_000, latency=lambda offset: 0.3 if offset == page_at(1) else 0.0
        )
        async with client_for(server, concurrency=4) as client:
            started = time.monotonic()
            records = await client.locations(max_items=3000).collect()
            elapsed = time.monotonic() - started
        assert [r.id for r in records] == ids(3000)
        assert server.max_in_flight <= 4
        assert elapsed < 0.3 + 2.0

    async def test_surplus_records_beyond_limit_are_not_yielded_twice(
        self, make_server: MakeServer
    ) -> None:
        """A page with more records than asked is cut at the limit; the next page has the rest."""
        server = await make_server(30)
        server.at(0, Reply(body=envelope([record(i) for i in range(15)])))
        async with client_for(server) as client:
            assert [loc.id async for loc in client.locations(page_size=10)] == ids(30)


class TestArguments:
    @pytest.mark.parametrize(
        "kwargs",
        [
            pytest.param({"page_size": 0}, id="page-size-0"),
            pytest.param({"page_size": 101}, id="page-size-101"),
            pytest.param({"page_size": "10"}, id="page-size-str"),
            pytest.param({"offset": -1}, id="negative-offset"),
            pytest.param({"max_items": -5}, id="negative-max-items"),
            pytest.param({"concurrency": 0}, id="concurrency-0"),
            pytest.param({"limit": 5}, id="limit-as-filter"),
            pytest.param({"state": ["NY"]}, id="list-filter"),
        ],
    )
    async def test_invalid_arguments_are_refused_before_sending(
        self, make_server: MakeServer, kwargs: dict[str, object]
    ) -> None:
        """Out-of-range or ill-typed walk arguments raise UsageError and send nothing."""
        server = await make_server(10)
        async with client_for(server) as client:
            with pytest.raises(UsageError):
                client.locations(**kwargs)  # type: ignore[arg-type]
        assert server.log == []

    async def test_max_items_zero_sends_nothing(self, make_server: MakeServer) -> None:
        """max_items=0 is an empty walk and an empty first page, without a request."""
        server = await make_server(10)
        async with client_for(server) as client:
            assert await client.locations(max_items=0).collect() == []
            assert (await client.locations(max_items=0)).items == ()
        assert server.log == []

    @pytest.mark.parametrize(
        "kwargs",
        [
            pytest.param({"concurrency": 0}, id="concurrency"),
            pytest.param({"timeout": 0}, id="zero-timeout"),
            pytest.param({"timeout": -1.0}, id="negative-timeout"),
            pytest.param({"retry": 3}, id="retry-not-a-policy"),
            pytest.param({"base_url": "api.paren.app"}, id="base-url-without-scheme"),
        ],
    )
    def test_invalid_client_options(self, kwargs: dict[str, object]) -> None:
        """Nonsensical client options fail at construction with a UsageError."""
        with pytest.raises(UsageError):
            ParenClient("k", "s", **kwargs)  # type: ignore[arg-type]


class TestCredentials:
    async def test_missing_credentials_fail_before_sending(
        self, make_server: MakeServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An authenticated call without credentials is a clear UsageError and no request."""
        monkeypatch.delenv("PAREN_API_KEY", raising=False)
        monkeypatch.delenv("PAREN_API_SECRET", raising=False)
        server = await make_server(10)
        async with ParenClient(base_url=server.url) as client:
            assert await client.healthcheck()
            with pytest.raises(UsageError, match="PAREN_API_KEY"):
                client.locations()
        assert server.paths() == ["/healthcheck"]

    def test_half_credentials_are_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A key without a secret (or the reverse) is a configuration error, not a silent anonymous client."""
        monkeypatch.delenv("PAREN_API_SECRET", raising=False)
        with pytest.raises(UsageError, match="api_secret"):
            ParenClient(api_key="k")

    async def test_environment_supplies_credentials_and_base_url(
        self, make_server: MakeServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """PAREN_API_KEY, PAREN_API_SECRET and PAREN_BASE_URL configure a client built without arguments."""
        server = await make_server(5)
        monkeypatch.setenv("PAREN_API_KEY", KEY)
        monkeypatch.setenv("PAREN_API_SECRET", SECRET)
        monkeypatch.setenv("PAREN_BASE_URL", server.url + "/")
        async with ParenClient(retry=FAST_RETRY) as client:
            assert client.base_url == server.url
            assert len(await client.locations().collect()) == 5
        assert server.authorizations == [AUTHORIZATION, AUTHORIZATION]

    async def test_wrong_credentials_cost_one_request(self, make_server: MakeServer) -> None:
        """A 401 is raised at once: not retried, no fan-out."""
        server = await make_server(1000)
        async with ParenClient(KEY, "wrong", base_url=server.url) as client:
            with pytest.raises(AuthenticationError) as caught:
                await client.locations().collect()
        assert caught.value.status == 401
        assert caught.value.errors == ("invalid credentials",)
        assert caught.value.resume_offset == 0
        assert len(server.log) == 1


class TestLifecycle:
    async def test_closed_client_refuses_reuse(self, make_server: MakeServer) -> None:
        """Every call on a closed client raises ClientClosedError."""
        server = await make_server(10)
        client = client_for(server)
        async with client:
            pass
        with pytest.raises(ClientClosedError):
            client.locations()
        with pytest.raises(ClientClosedError):
            await client.healthcheck()
        with pytest.raises(ClientClosedError):
            async with client:
                pass
        await client.aclose()  # idempotent

    async def test_borrowed_session_is_never_closed(self, make_server: MakeServer) -> None:
        """A caller's session stays open and usable after the client closes."""
        server = await make_server(10)
        async with aiohttp.ClientSession() as session:
            async with client_for(server, session=session) as client:
                assert len(await client.locations().collect()) == 10
            assert not session.closed
            async with session.get(server.url + "/healthcheck") as response:
                assert response.status == 200

    async def test_own_session_is_closed(self, make_server: MakeServer) -> None:
        """The session a client created is closed with it (no 'Unclosed client session')."""
        server = await make_server(10)
        async with client_for(server) as client:
            await client.locations().collect()
            session = client._sender._transport._session  # type: ignore[attr-defined]
            assert session is not None and not session.closed
        assert session.closed

    async def test_break_cancels_every_fetch_in_flight(self, make_server: MakeServer) -> None:
        """Breaking out of async for leaves no fetch running and nothing to warn about."""
        server = await make_server(100_000, latency=lambda offset: 0.0 if offset == 0 else 0.05)
        async with client_for(server, concurrency=8) as client:
            async for loc in client.locations():
                assert loc.id == "LOC-0000000"
                break
            await settle()
            assert fetch_tasks() == set()
            assert (
                len(await client.locations(max_items=3).collect()) == 3
            )  # the client is still usable
        assert len(server.log) <= 1 + 8 + 1

    async def test_cancelling_the_consumer_cancels_the_walk(self, make_server: MakeServer) -> None:
        """Cancelling the task that walks cancels its fetches at once."""
        server = await make_server(100_000, latency=lambda offset: 0.0 if offset < 200 else 10.0)
        async with client_for(server) as client:

            async def consume() -> None:
                async for _ in client.locations():
                    pass

            task = asyncio.create_task(consume())
            await asyncio.sleep(0.2)
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await settle()
            assert fetch_tasks() == set()
            assert time.monotonic() - started < 1.0

    async def test_closing_the_client_cancels_open_walks_without_waiting(
        self, make_server: MakeServer
    ) -> None:
        """aclose() cancels walks still in flight and returns promptly."""
        server = await make_server(100_000, latency=lambda offset: 0.0 if offset == 0 else 10.0)
        client = client_for(server)
        pages = client.locations().pages()
        assert (await pages.__anext__()).offset == 0
        await asyncio.sleep(0.05)
        assert len(fetch_tasks()) == 2  # slow start: one more page per full page
        started = time.monotonic()
        await client.aclose()
        assert time.monotonic() - started < 1.0
        await settle()
        assert fetch_tasks() == set()

    async def test_pages_context_manager_closes_deterministically(
        self, make_server: MakeServer
    ) -> None:
        """Leaving `async with pager.pages()` cancels the speculative fetches immediately."""
        server = await make_server(100_000, latency=lambda offset: 0.0 if offset == 0 else 10.0)
        async with client_for(server) as client:
            async with client.locations().pages() as pages:
                async for _ in pages:
                    break
            await settle()
            assert fetch_tasks() == set()


class TestHealthcheck:
    async def test_healthy(self, make_server: MakeServer) -> None:
        """A 2xx healthcheck is True and sends no Authorization header."""
        server = await make_server(0)
        async with client_for(server) as client:
            assert await client.healthcheck() is True

    async def test_server_error_is_unhealthy(self, make_server: MakeServer) -> None:
        """A 5xx healthcheck answer is False, in one attempt."""
        server = await make_server(0)
        server.at(-1, Reply(status=503))
        async with client_for(server) as client:
            assert await client.healthcheck() is False

    async def test_unreachable_is_unhealthy(self) -> None:
        """Nothing listening means False, not an exception."""
        async with ParenClient(base_url="http://127.0.0.1:9") as client:
            assert await client.healthcheck() is False

    async def test_not_found_is_a_configuration_error(self, make_server: MakeServer) -> None:
        """A 404 means a wrong base_url: raised, not reported as 'down'."""
        server = await make_server(0)
        server.at(-1, Reply(status=404))
        async with client_for(server) as client:
            with pytest.raises(NotFoundError):
                await client.healthcheck()


class TestFaults:
    @pytest.mark.parametrize(
        "reply",
        [
            pytest.param(
                Reply(status=500, body=b'{"errors": ["oops"], "status_code": 500}'), id="500"
            ),
            pytest.param(
                Reply(status=502, body=b"<html><h1>502 Bad Gateway</h1></html>"), id="502-html"
            ),
            pytest.param(Reply(status=503), id="503-empty"),
            pytest.param(Reply(status=504, body=b"gateway timeout"), id="504-text"),
            pytest.param(Reply(status=429, headers={"Retry-After": "0"}), id="429"),
            pytest.param(Reply(reset=True), id="connection-reset"),
            pytest.param(
                Reply(truncate=True, body=envelope([record(0)] * 50)), id="truncated-body"
            ),
            pytest.param(
                Reply(body=b'{"errors": ["db down"], "status_code": 503}'),
                id="error-envelope-in-200",
            ),
        ],
    )
    async def test_transient_faults_are_retried_transparently(
        self, make_server: MakeServer, reply: Reply
    ) -> None:
        """A transient fault mid-walk is retried and the walk still yields every record in order."""
        server = await make_server(1000)
        server.at(page_at(3), reply, reply)
        async with client_for(server) as client:
            assert [loc.id async for loc in client.locations()] == ids(1000)
            stats = client.statistics()
        assert server.offsets().count(page_at(3)) == 3
        # aiohttp itself repeats a GET once when a reused keep-alive connection is reset.
        assert stats.retries == 2 or (reply.reset and stats.retries == 1)

    async def test_hang_times_out_and_is_retried(self, make_server: MakeServer) -> None:
        """A response that never comes is a timeout after the attempt limit, then retried."""
        server = await make_server(250)
        server.at(page_at(1), Reply(hang=True))
        async with client_for(server, timeout=0.3) as client:
            assert len(await client.locations().collect()) == 250
            assert client.statistics().retries_by_reason == {"timeout": 1}

    async def test_retry_after_is_honoured(self, make_server: MakeServer) -> None:
        """After a 429 the request waits the server's Retry-After before trying again."""
        server = await make_server(10)
        server.at(0, Reply(status=429, headers={"Retry-After": "1"}))
        async with client_for(server, retry=RetryPolicy(base_delay=0.0)) as client:
            started = time.monotonic()
            await client.locations().collect()
            assert time.monotonic() - started >= 1.0
            assert client.statistics().rate_limited == 1

    @pytest.mark.parametrize(
        ("status", "error"),
        [
            pytest.param(400, BadRequestError, id="400"),
            pytest.param(401, AuthenticationError, id="401"),
            pytest.param(403, AuthenticationError, id="403"),
            pytest.param(404, NotFoundError, id="404"),
        ],
    )
    async def test_client_errors_are_never_retried(
        self, make_server: MakeServer, status: int, error: type[Exception]
    ) -> None:
        """400, 401, 403 and 404 are raised after one attempt."""
        server = await make_server(1000)
        server.at(0, Reply(status=status, body=b'{"errors": ["no"], "status_code": %d}' % status))
        async with client_for(server) as client:
            with pytest.raises(error):
                await client.locations().collect()
        assert server.offsets() == [0]

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(b"<html>maintenance</html>", id="html-on-200"),
            pytest.param(b"", id="empty-200"),
            pytest.param(b'{"data": [{"id": "a"}, {"id": "b"', id="cut-short"),
        ],
    )
    async def test_garbled_pages_are_fetched_again_then_decode_errors(
        self, make_server: MakeServer, body: bytes
    ) -> None:
        """A 200 whose body is not JSON is fetched again like a 5xx; for good, a DecodeError."""
        server = await make_server(1000)
        server.at(page_at(2), Reply(body=body))
        async with client_for(server) as client:
            assert [r.id for r in await client.locations().collect()] == ids(1000)
            assert client.statistics().retries_by_reason == {"decode": 1}
        assert server.offsets().count(page_at(2)) == 2
        server.at(page_at(2), *[Reply(body=body)] * 4)
        async with client_for(server) as client:
            with pytest.raises(DecodeError, match="not valid JSON") as caught:
                await client.locations().collect()
        assert caught.value.resume_offset == page_at(2) + 1  # just after the last record yielded
        assert caught.value.attempts == 4

    async def test_a_record_of_the_wrong_shape_costs_only_itself(
        self, make_server: MakeServer
    ) -> None:
        """A record the model cannot take is left out and reported; the page and walk go on."""
        bad = b'{"id": {"not": "a string"}}'
        server = await make_server(300)
        records = [record(i) for i in range(page_at(1), page_at(1) + 100)]
        records[10] = bad
        server.at(page_at(1), Reply(body=envelope(records)))
        async with client_for(server) as client:
            pager = client.locations()
            got = [r.id for r in await pager.collect()]
        assert got == [i for i in ids(300) if i != f"LOC-{page_at(1) + 10:07d}"]
        stats = pager.statistics()
        assert (stats.bad_records, stats.complete) == (1, False)

    async def test_exhausted_retries_carry_the_resume_offset(self, make_server: MakeServer) -> None:
        """When retries run out, the error says where to resume, and resuming loses nothing."""
        server = await make_server(1000)
        server.at(page_at(4), *[Reply(status=503)] * 4)
        seen: list[str] = []
        async with client_for(server) as client:
            with pytest.raises(ServerError) as caught:
                async for loc in client.locations():
                    seen.append(loc.id)
            error = caught.value
            assert (error.status, error.attempts, error.resume_offset) == (503, 4, 397)
            assert len(seen) == 397
            assert "resume with offset=397" in str(error)
            seen += [loc.id async for loc in client.locations(offset=error.resume_offset)]
        assert seen == ids(1000)

    async def test_failure_stops_fetches_past_the_failed_page(
        self, make_server: MakeServer
    ) -> None:
        """Once a page has failed for good, no page after it is requested any more."""
        server = await make_server(100_000, latency=lambda offset: 0.05 if offset < 495 else 0.0)
        server.at(page_at(5), Reply(status=400))
        async with client_for(server, concurrency=8) as client:
            with pytest.raises(BadRequestError) as caught:
                await client.locations().collect()
        assert caught.value.resume_offset == page_at(5) + 1
        assert max(server.offsets()) <= page_at(5 + 8)

    async def test_connection_refused_is_a_transport_error(self) -> None:
        """Nothing listening is a TransportError with the URL, after the retries."""
        async with ParenClient("k", "s", base_url="http://127.0.0.1:9", retry=FAST_RETRY) as client:
            with pytest.raises(TransportError) as caught:
                await client.locations()
        assert not isinstance(caught.value, TimeoutError)
        assert caught.value.url == "http://127.0.0.1:9/metadata/v1/locations?limit=100&offset=0"
        assert caught.value.attempts == 4

    async def test_timeout_is_also_the_builtin_timeout_error(self, make_server: MakeServer) -> None:
        """Our TimeoutError can be caught as the builtin TimeoutError too."""
        server = await make_server(10)
        server.at(0, Reply(hang=True))
        async with client_for(server, timeout=Timeout(attempt=0.2), retry=None) as client:
            with pytest.raises(builtins_timeout()):
                await client.locations()


def builtins_timeout() -> type[BaseException]:
    import builtins

    return builtins.TimeoutError


class TestSecrets:
    async def test_secret_never_shown(
        self, make_server: MakeServer, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Neither the secret nor the Authorization value appears in a repr, a log line or a traceback."""
        caplog.set_level(logging.DEBUG)
        server = await make_server(1000)
        server.at(0, Reply(status=503), Reply(status=401, body=b'{"errors": ["bad"]}'))
        texts: list[str] = []
        async with client_for(server) as client:
            texts.append(repr(client))
            pager = client.locations()
            texts.append(repr(pager))
            with pytest.raises(AuthenticationError) as caught:
                await pager.collect()
            texts += [repr(caught.value), str(caught.value)]
            texts.append("".join(traceback.format_exception(caught.value)))
            texts.append(repr(client.statistics()))
        texts.append(caplog.text)
        assert "retrying GET" in caplog.text
        token = AUTHORIZATION.split()[1]
        for text in texts:
            assert SECRET not in text
            assert token not in text
        assert KEY in repr(client)

    def test_credentials_are_masked_and_not_picklable(self) -> None:
        """Credentials print masked and refuse to be pickled."""
        import pickle

        from paren_async import Credentials

        credentials = Credentials(KEY, SECRET)
        assert SECRET not in repr(credentials) and SECRET not in str(credentials)
        with pytest.raises(TypeError):
            pickle.dumps(credentials)


def test_location_type_is_public() -> None:
    """The pager's items are the public Location model."""
    assert Location.__module__ == "paren_async.models"
