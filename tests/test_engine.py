"""The walk's guarantees at its edges, on the mock transport: deterministic, no sockets.

Each test is a regression test for an input of issue 10 section 2, written for its whole kind.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import time
from typing import Any

import pytest
from conftest import fetch_tasks, settle
from engine_support import FAST_RETRY, Collection, body_of, mock_client

from paren_async import (
    AuthenticationError,
    BadRecordEvent,
    DecodeError,
    EventHooks,
    MockTransport,
    PaginationError,
    ParenClient,
    RecordError,
    Response,
    ResumePoint,
    TimeoutError,
    TransportError,
)


class TestCappedPages:
    @pytest.mark.parametrize(
        ("total", "cap", "page_size", "max_items", "expected"),
        [
            pytest.param(300, 1, 100, None, 300, id="cap-1-of-100"),
            pytest.param(300, 1, 2, None, 300, id="cap-1-page-size-2"),
            pytest.param(300, 2, 2, None, 300, id="cap-equal-to-page-size-2"),
            pytest.param(300, 50, 100, 101, 101, id="max-items-101-cap-50"),
            pytest.param(300, 1, 100, 101, 101, id="max-items-101-cap-1"),
            pytest.param(1000, 37, 100, None, 1000, id="odd-cap"),
        ],
    )
    @pytest.mark.parametrize("concurrency", [1, 4])
    async def test_a_capped_server_is_walked_to_its_real_end(
        self, total: int, cap: int, page_size: int, max_items: int | None, expected: int,
        concurrency: int,
    ) -> None:  # fmt: skip
        """Regression: pages holding only the overlap record ended the walk (1 of 300)."""
        collection = Collection.of(total, cap=cap)
        client, _ = mock_client(collection, concurrency=concurrency)
        async with client:
            pager = client.locations(page_size=page_size, max_items=max_items)
            got = [loc.id async for loc in pager]
        assert got == collection.ids[:expected]
        assert pager.statistics().complete


class TestCapChanges:
    @pytest.mark.parametrize("caps", [(1,), (5, 1), (2,), (37, 100)])
    @pytest.mark.parametrize("concurrency", [1, 8])
    async def test_a_cap_lowered_mid_walk_is_walked_through(
        self, caps: tuple[int, ...], concurrency: int
    ) -> None:
        """A server that starts capping pages (down to one record) mid-walk: nothing is lost."""
        collection = Collection.of(300)
        served: list[int] = []

        def lower_after_each_page(offset: int, limit: int) -> None:
            served.append(offset)
            # The cap changes after the 2nd and the 8th request. (Lowered to exactly one record
            # right after a short page, it would read as the end: see the README.)
            if len(served) in (2, 8) and (len(served) > 2) < len(caps):
                collection.cap = caps[len(served) > 2]

        collection.before = lower_after_each_page
        client, _ = mock_client(collection, concurrency=concurrency)
        async with client:
            pager = client.locations()
            got = [loc.id async for loc in pager]
        assert got == collection.ids
        assert pager.statistics().complete


class TestInsertBursts:
    @pytest.mark.parametrize("inserted", [1, 9, 10, 15, 25, 40, 300])
    @pytest.mark.parametrize("concurrency", [1, 4])
    async def test_a_burst_of_inserts_before_the_cursor(
        self, inserted: int, concurrency: int
    ) -> None:
        """Inserting a page or more at once behind the cursor repeats nothing and raises nothing
        (page_size - 1 inserts make one page look like the one before it)."""
        collection = Collection.of(200)
        originals = list(collection.ids)
        requests = 0

        def burst(offset: int, limit: int) -> None:
            nonlocal requests
            requests += 1
            if requests == 3:
                collection.insert(inserted, at=0)

        collection.before = burst
        client, _ = mock_client(collection, concurrency=concurrency)
        async with client:
            pager = client.locations(page_size=10)
            got = [loc.id async for loc in pager]
        if inserted <= 25:  # a re-read reaches back a page: bursts within it are stitched exactly
            assert [i for i in got if not i.startswith("new")] == originals
            assert len(got) == len(set(got))
            assert pager.statistics().complete
        else:  # beyond: repeats are possible, and then the walk says it is not complete
            assert len(got) == len(set(got)) or not pager.statistics().complete


class TestMaxItems:
    async def test_max_items_counts_records_yielded_under_drift(self) -> None:
        """Regression: 5 records inserted behind the cursor gave 245 of max_items=250."""
        collection = Collection.of(1000)
        served_99 = False

        def drift(offset: int, limit: int) -> None:
            nonlocal served_99
            if offset > 99 and not served_99:
                served_99 = True
                collection.insert(5, at=10)

        collection.before = drift
        client, _ = mock_client(collection, concurrency=1)
        async with client:
            got = [loc.id async for loc in client.locations(max_items=250)]
        assert len(got) == 250
        assert len(set(got)) == 250
        assert got == [i for i in collection.ids if not i.startswith("new")][:250]


class TestDriftRepair:
    async def test_a_gap_that_moves_again_during_its_re_read_is_recovered(self) -> None:
        """Regression: remove 2 behind the cursor, re-insert 2 before the re-read: nothing lost."""
        collection = Collection.of(3000)
        originals = list(collection.ids)
        state = {"removed": False, "reinserted": False, "last": -1}

        def drift(offset: int, limit: int) -> None:
            if state["last"] == 99 and not state["removed"]:
                collection.remove(2, at=10)
                state["removed"] = True
            elif state["removed"] and not state["reinserted"] and offset < state["last"]:
                collection.insert(2, at=10)  # the client's re-read of the earlier span arrives
                state["reinserted"] = True
            state["last"] = offset

        collection.before = drift
        client, _ = mock_client(collection, concurrency=1)
        async with client:
            pager = client.locations()
            got = [loc.id async for loc in pager]
        assert state["reinserted"], "the scenario's re-read was never requested"
        assert len(got) == len(set(got))
        missing = set(originals) - set(got)
        stats = pager.statistics()
        # Either recovered, or counted: never a silent loss reported as complete.
        assert missing == set() or (stats.unrecovered_drift > 0 and not stats.complete)
        assert missing == set()
        assert stats.complete

    @pytest.mark.parametrize("concurrency", [1, 3, 8])
    @pytest.mark.parametrize("seed", range(6))
    async def test_random_drift_loses_nothing_unreported(self, concurrency: int, seed: int) -> None:
        """Inserts and removals anywhere, any time: every record present throughout is yielded
        once, or the walk says it is not complete."""
        import random

        rng = random.Random(seed)
        collection = Collection.of(2000, latency=0.0005)
        originals = set(collection.ids)
        touched: set[str] = set()

        def drift(offset: int, limit: int) -> None:
            if rng.random() < 0.3:
                at = rng.randrange(0, len(collection.ids))
                if rng.random() < 0.5:
                    collection.insert(rng.randint(1, 3), at=at, tag=f"n{rng.random()}")
                else:
                    touched.update(collection.remove(rng.randint(1, 3), at=at))

        collection.before = drift
        client, _ = mock_client(collection, concurrency=concurrency)
        async with client:
            pager = client.locations()
            got = [loc.id async for loc in pager]
        assert len(got) == len(set(got)), "a record was yielded twice"
        lost = (originals - touched) - set(got)
        stats = pager.statistics()
        assert not lost or not stats.complete, f"lost {sorted(lost)[:5]} yet reported complete"


class TestResume:
    async def test_resume_after_removals_while_stopped_loses_nothing(self) -> None:
        """Regression: a walk failed near 500, 5 records before it removed, resume skipped 5."""
        collection = Collection.of(2000)
        collection.script[page_at(5)] = [TransportError("connection reset")] * 4
        client, _ = mock_client(collection, concurrency=1)
        async with client:
            first: list[str] = []
            with pytest.raises(TransportError) as caught:
                async for loc in client.locations():
                    first.append(loc.id)
            point = caught.value.resume
            assert isinstance(point, ResumePoint)
            assert point.offset == len(first)
            removed = collection.remove(5, at=200)
            rest = [loc.id async for loc in client.locations(resume=point)]
        assert first + rest == [
            i for i in Collection.of(2000).ids if i not in removed or i in first
        ]
        assert len(set(first + rest)) == len(first + rest)

    @pytest.mark.parametrize("change", ["insert", "remove", "none"])
    async def test_a_resume_point_survives_json_and_any_small_shift(self, change: str) -> None:
        """A stored ResumePoint continues exactly where the walk stopped, shifts either way."""
        import msgspec

        collection = Collection.of(1000)
        client, _ = mock_client(collection)
        async with client:
            pager = client.locations()
            first = []
            async for loc in pager:
                first.append(loc.id)
                if len(first) == 333:
                    break
            stored = msgspec.json.encode(pager.resume)
            if change == "insert":
                collection.insert(7, at=100)
            elif change == "remove":
                collection.remove(7, at=100)
            point = msgspec.json.decode(stored, type=ResumePoint)
            rest = [loc.id async for loc in client.locations(resume=point)]
        expected_rest = [i for i in collection.ids if i not in first and not i.startswith("new")]
        assert rest == expected_rest


def page_at(k: int, page_size: int = 100) -> int:
    return k * (page_size - 1)


class TestRequestsSpent:
    @pytest.mark.parametrize(
        ("total", "concurrency", "needed"),
        [
            # 100 records: the second page holds only its overlap record, which is the end or a
            # server now capping pages at one record; a third request tells which.
            pytest.param(100, 8, 3, id="100-at-8"),
            pytest.param(1234, 8, 14, id="1234-at-8"),
            pytest.param(1000, 32, 12, id="1000-at-32"),
            pytest.param(0, 8, 1, id="empty"),
            pytest.param(50, 8, 2, id="one-short-page"),
        ],
    )
    async def test_speculation_past_the_end_is_bounded(
        self, total: int, concurrency: int, needed: int
    ) -> None:
        """Regression: 100 records at concurrency 8 cost 9 requests; now at most c-1 extra."""
        collection = Collection.of(total)
        client, transport = mock_client(collection, concurrency=concurrency)
        async with client:
            pager = client.locations()
            assert len(await pager.collect()) == total
        sent = len(transport.requests)
        assert needed <= sent <= needed + concurrency - 1
        past_end = [offset for offset, _, n in collection.served if n == 0 and offset >= total]
        assert len(past_end) <= max(concurrency - 1, 1)

    async def test_a_small_walk_costs_its_pages_plus_one(self) -> None:
        """With slow start, 250 records at concurrency 8 cost about what they need."""
        collection = Collection.of(250)
        client, transport = mock_client(collection, concurrency=8)
        async with client:
            await client.locations().collect()
        assert len(transport.requests) <= 3 + 1 + 1


class TestConcurrencyBound:
    async def test_never_more_than_concurrency_in_flight_under_retries_and_drift(self) -> None:
        """Regression: concurrency=2 with a few 503s showed 3 requests in flight."""
        collection = Collection.of(3000, latency=0.002)
        for k in (3, 7, 8, 15):
            collection.script[page_at(k)] = [Response(503, {}, b"")]
        collection.script[page_at(20)] = [Response(200, {}, b"<html>oops</html>")]
        removed = False

        def drift(offset: int, limit: int) -> None:
            nonlocal removed
            if offset > 1000 and not removed:
                removed = True
                collection.remove(3, at=500)  # forces a re-read while the window is busy

        collection.before = drift
        client, transport = mock_client(collection, concurrency=2)
        async with client:
            pager = client.locations()
            got = await pager.collect()
        assert [r.id for r in got] == Collection.of(3000).ids  # the removed ones were yielded
        assert sum(1 for _, _, n in collection.served if n == -1) == 5  # every fault was served
        assert pager.statistics().drift_events >= 1
        assert transport.max_in_flight <= 2


class TestAbandonedWalks:
    """Every way to leave a walk cancels its fetches at once; leftovers are found by looking at
    every task, not at names."""

    @pytest.mark.parametrize("keep_reference", [True, False])
    @pytest.mark.parametrize("form", ["items", "pages", "raw", "raw_pages"])
    async def test_break(self, form: str, keep_reference: bool) -> None:
        """Regression: breaking out of `.pages()` with a reference kept left 16 tasks pending."""
        client, _ = mock_client(Collection.of(100_000, hang_from=200), concurrency=8)
        async with client:
            pager = client.locations()
            walk: Any = {
                "items": lambda: pager,
                "pages": pager.pages,
                "raw": pager.raw,
                "raw_pages": pager.raw_pages,
            }[form]()
            async for _ in walk:
                await asyncio.sleep(0.01)  # let the window fill with hanging fetches
                break
            if not keep_reference:
                del walk
            await settle()
            assert fetch_tasks() == set()

    async def test_an_exception_in_the_loop_body(self) -> None:
        """An error raised by the caller's own code leaves nothing behind."""
        client, _ = mock_client(Collection.of(100_000, hang_from=200))
        async with client:
            with pytest.raises(ZeroDivisionError):
                async for _ in client.locations():
                    await asyncio.sleep(0.01)
                    1 / 0  # noqa: B018
            await settle()
            assert fetch_tasks() == set()

    async def test_garbage_collection_of_a_cycle(self) -> None:
        """A walk kept alive only by a reference cycle is closed when the collector runs."""
        client, _ = mock_client(Collection.of(100_000, hang_from=200))
        async with client:
            holder: dict[str, Any] = {}
            holder["self"] = holder
            holder["pages"] = client.locations().pages()
            await holder["pages"].__anext__()
            await asyncio.sleep(0.01)
            del holder
            gc.collect()
            await settle()
            assert fetch_tasks() == set()

    async def test_closing_the_client_ends_its_walks_with_a_typed_error(self) -> None:
        """A walk interrupted by `aclose()` raises ClientClosedError, not a stray CancelledError."""
        from paren_async import ClientClosedError

        client, _ = mock_client(Collection.of(100_000, hang_from=200))
        pages = client.locations().pages()
        await pages.__anext__()

        async def close_soon() -> None:
            await asyncio.sleep(0.01)
            await client.aclose()

        closer = asyncio.ensure_future(close_soon())
        with pytest.raises(ClientClosedError):
            async for _ in pages:
                pass
        await closer
        await settle()
        assert fetch_tasks() == set()


class TestEventLoops:
    def test_a_client_used_from_a_second_event_loop_says_what_to_do(self) -> None:
        """Regression: a module-level client in two asyncio.run() calls raised a raw RuntimeError."""
        from paren_async import UsageError

        client, _ = mock_client(Collection.of(10))
        assert asyncio.run(client.locations().collect())
        with pytest.raises(UsageError, match="another event loop"):
            asyncio.run(client.locations().collect())


class TestErrorsCarryTheirContext:
    async def test_pagination_error_has_method_url_and_resume(self) -> None:
        """Regression: PaginationError carried no method or URL."""
        collection = Collection.of(500, ignore_offset=True)
        client, _ = mock_client(collection, concurrency=1)
        async with client:
            with pytest.raises(PaginationError) as caught:
                await client.locations().collect()
        error = caught.value
        assert error.method == "GET"
        assert error.url is not None and "offset=198" in error.url  # the third identical page
        assert error.resume is not None
        assert error.resume.last_ids == tuple(collection.ids[92:100])

    async def test_walk_deadline_has_method_url_and_resume(self) -> None:
        """Regression: the walk-deadline TimeoutError carried no method or URL."""
        client, _ = mock_client(Collection.of(100_000, hang_from=300), concurrency=2)
        async with client:
            with pytest.raises(TimeoutError) as caught:
                await client.locations(deadline=0.2).collect()
        error = caught.value
        assert error.method == "GET" and error.url is not None and "offset=" in error.url
        assert error.resume is not None and error.resume.offset > 0


class TestBadRecords:
    def _collection(self) -> Collection:
        collection = Collection.of(300)
        good = [b'{"id": "%s"}' % i.encode() for i in collection.ids[99:199]]
        good[5] = b'{"id": "L00104", "charging_pool": {"evses": "many"}}'
        body = b'{"data": [' + b", ".join(good) + b"]}"
        collection.script[99] = [Response(200, {}, body)]
        return collection

    async def test_one_bad_record_costs_only_itself_and_is_reported(self) -> None:
        """The rest of its page and the walk go on; the hook gets id, offset, path and bytes."""
        reported: list[BadRecordEvent] = []
        client, _ = mock_client(self._collection(), hooks=EventHooks(on_bad_record=reported.append))
        async with client:
            pager = client.locations()
            got = [loc.id async for loc in pager]
        assert got == [i for i in Collection.of(300).ids if i != "L00104"]
        (event,) = reported
        assert (event.record.id, event.record.offset) == ("L00104", 104)
        assert event.record.path == "$.charging_pool.evses"
        assert b'"many"' in event.record.raw
        stats = pager.statistics()
        assert (stats.bad_records, stats.complete) == (1, False)
        assert client.statistics().bad_records == 1

    async def test_the_raw_path_keeps_the_bad_record(self) -> None:
        """`.raw()` never decodes a record, so it hands on the odd one with the others."""
        client, _ = mock_client(self._collection())
        async with client:
            got = [raw async for raw in client.locations().raw()]
        assert len(got) == 300

    async def test_raise_policy(self) -> None:
        """`bad_records="raise"` stops at the record with a RecordError holding it."""
        client, _ = mock_client(self._collection())
        async with client:
            with pytest.raises(RecordError) as caught:
                await client.locations(bad_records="raise").collect()
        assert caught.value.record.id == "L00104"
        assert isinstance(caught.value, DecodeError)

    async def test_a_latin_1_body_reaches_both_paths_as_the_same_text(self) -> None:
        """A body declared iso-8859-1 is transcoded for the typed and the raw path alike."""
        collection = Collection.of(0)
        body = '{"data": [{"id": "caf\u00e9", "name": "Caf\u00e9"}]}'.encode("latin-1")
        headers = {"Content-Type": "application/json; charset=iso-8859-1"}
        collection.script[0] = [Response(200, headers, body), Response(200, headers, body)]
        client, _ = mock_client(collection)
        async with client:
            (typed,) = (await client.locations()).items
            raw = [r async for r in client.locations(max_items=1).raw()]
        assert typed.name == "Caf\u00e9"
        assert raw == ['{"id": "caf\u00e9", "name": "Caf\u00e9"}'.encode()]


class TestGenericWalks:
    async def test_paginate_any_path_typed_or_raw(self) -> None:
        """`paginate(path, model=...)` walks an undocumented endpoint with the same guarantees."""
        import msgspec

        class Thing(msgspec.Struct):
            id: str

        collection = Collection.of(250)
        client, transport = mock_client(collection)
        async with client:
            things = await client.paginate("/v2/things", model=Thing, region="east").collect()
            raws = await client.paginate("/v2/things").collect()
        assert [t.id for t in things] == collection.ids
        assert [msgspec.json.decode(r)["id"] for r in raws] == collection.ids
        assert transport.requests[0].url.startswith("http://127.0.0.1:9/v2/things?region=east&")

    async def test_endpoint_paths_can_be_overridden(self) -> None:
        """The assumed Metadata path is an option, not a release."""
        client, transport = mock_client(Collection.of(5), metadata_path="/metadata/v2/locations")
        async with client:
            await client.locations().collect()
        assert transport.requests[0].url.startswith("http://127.0.0.1:9/metadata/v2/locations?")


class TestSecrets:
    async def test_the_secret_is_in_no_traceback_locals(self) -> None:
        """Regression: the Authorization header sat in a local dict of `_transport.py`."""
        import traceback

        secret = "s3cr3t-value-that-must-not-leak"
        token = "Basic a2V5OnMzY3IzdC12YWx1ZS10aGF0LW11c3Qtbm90LWxlYWs="
        client = ParenClient("key", secret, base_url="http://127.0.0.1:9", retry=None)
        async with client:
            with pytest.raises(TransportError) as caught:
                await client.locations().collect()
        error = caught.value
        assert error.__traceback__ is not None
        frames = error.__traceback__.tb_next  # all but this test's own frame, which holds `secret`
        text = "".join(
            traceback.TracebackException(type(error), error, frames, capture_locals=True).format()
        )
        assert "_transport.py" in text  # the frames that held the header were formatted
        assert secret not in text and token not in text and token.split()[1] not in text
        with pytest.raises(Exception) as failed_init:  # noqa: PT011
            ParenClient("key", secret, base_url="ftp://nowhere")
        error = failed_init.value
        assert error.__traceback__ is not None
        text = "".join(
            traceback.TracebackException(
                type(error), error, error.__traceback__.tb_next, capture_locals=True
            ).format()
        )
        assert "api_key" in text  # ParenClient.__init__'s frame was formatted
        assert secret not in text


async def test_time_limits_do_not_count_queueing() -> None:
    """The walk keeps time; a test that needs a clock can rely on time.monotonic."""
    assert time.monotonic() > 0


class TestHostileReview:
    """Regressions for what a hostile review of the new engine found."""

    @pytest.mark.parametrize("form", ["items", "raw"])
    async def test_break_with_the_iterator_kept(self, form: str) -> None:
        """`it = pager.raw(); async for x in it: break` with `it` kept leaves no fetch behind."""
        client, _ = mock_client(Collection.of(100_000, hang_from=200), concurrency=8)
        async with client:
            pager = client.locations()
            kept = pager.raw() if form == "raw" else pager
            async for _ in kept:
                await asyncio.sleep(0.01)
                break
            await settle()
            assert fetch_tasks() == set()
            del kept

    async def test_a_dropped_stream_is_collected_although_its_fetches_run(self) -> None:
        """Fetch tasks and the pager hold their walk weakly: dropping the stream cancels them."""
        client, _ = mock_client(Collection.of(100_000, hang_from=200), concurrency=8)
        async with client:
            pager = client.locations()  # kept: it must not keep the walk alive
            stream = pager.pages()
            await stream.__anext__()
            await asyncio.sleep(0.01)
            del stream
            gc.collect()
            await settle()
            assert fetch_tasks() == set()
            assert pager.statistics().records == 100  # its account outlives it

    @pytest.mark.parametrize(
        "record",
        [
            pytest.param(b'{"id": {"a": 1}}', id="object-id"),
            pytest.param(b'{"id": [1, 2]}', id="array-id"),
            pytest.param(b'{"id": "bad-utf8", "name": "caf\xe9"}', id="invalid-utf8"),
            pytest.param(
                b'{"id": "huge", "address": {"coordinates": {"latitude": 1e400}}}', id="1e400"
            ),
        ],
    )
    async def test_one_odd_record_costs_only_itself(self, record: bytes) -> None:
        """Odd ids, a string that is not UTF-8, a number out of range: that record, not the walk."""
        collection = Collection.of(300)
        records = [b'{"id": "%s"}' % i.encode() for i in collection.ids[99:199]]
        records[5] = record
        collection.script[99] = [Response(200, {}, b'{"data": [' + b", ".join(records) + b"]}")]
        client, _ = mock_client(collection)
        async with client:
            pager = client.locations()
            got = [loc.id async for loc in pager]
        assert len(got) == 299 and collection.ids[104] not in got
        assert pager.statistics().bad_records == 1

    @pytest.mark.parametrize(
        "envelope",
        [
            b'{"data": [{"id": "a"}], "status_code": "200"}',
            b'{"data": [{"id": "a"}], "status_code": 1000}',
            b'{"data": [{"id": "a"}], "status_message": 5, "duration": 5, "timestamp": 7}',
        ],
    )
    async def test_odd_envelope_fields_never_cost_the_page(self, envelope: bytes) -> None:
        """Only `data` must be as documented; both paths read the rest leniently, alike."""
        collection = Collection.of(0)
        collection.script[0] = [Response(200, {}, envelope), Response(200, {}, envelope)]
        client, _ = mock_client(collection)
        async with client:
            typed = await client.locations().collect()
            raw = await client.locations().raw_pages().next_page()
        assert [loc.id for loc in typed] == ["a"]
        assert raw.items == (b'{"id": "a"}',)

    async def test_paginate_checks_its_model_and_path_up_front(self) -> None:
        """A model without `id`, or a path leaving base_url, is a UsageError before any request."""
        import msgspec

        from paren_async import UsageError

        class NoId(msgspec.Struct):
            name: str = ""

        client, transport = mock_client(Collection.of(5))
        async with client:
            for bad in (
                lambda: client.paginate("/x", model=NoId),
                lambda: client.paginate("/x", model=dict),
            ):  # type: ignore[arg-type]
                with pytest.raises(UsageError, match="id"):
                    bad()
            for path in ("//evil.example/x", "/a/../../etc", "relative"):
                with pytest.raises(UsageError):
                    client.paginate(path)
            with pytest.raises(UsageError):
                client.locations(LIMIT=5)
            with pytest.raises(UsageError):
                client.locations(resume=ResumePoint(-5))
            with pytest.raises(UsageError):
                client.locations(offset=7, resume=ResumePoint(10))
        assert transport.requests == []

    def test_construction_errors_format_with_locals(self) -> None:
        """A traceback with locals of a failed construction neither crashes nor shows a secret."""
        import traceback

        from paren_async import Credentials, UsageError

        secret = "s3cr3t-in-the-url"
        for make in (
            lambda: Credentials("k:x", "s"),
            lambda: Credentials("k", ""),
            lambda: ParenClient("k", "s", base_url=f"https://user:{secret}@api.example"),
        ):
            with pytest.raises(UsageError) as caught:
                make()
            error = caught.value
            frames = error.__traceback__
            while frames is not None and "paren_async" not in frames.tb_frame.f_code.co_filename:
                frames = frames.tb_next  # the library's frames only: the test's hold `secret`
            assert frames is not None
            text = "".join(
                traceback.TracebackException(
                    type(error), error, frames, capture_locals=True
                ).format()
            )
            assert "__init__" in text
            assert secret not in text


class TestSecondReview:
    """Regressions for what a second hostile review found."""

    async def test_a_removal_right_after_a_short_page_is_repaired(self) -> None:
        """The page confirming a short page keeps its overlap: a removal in between is seen."""
        collection = Collection.of(200, cap=5)
        originals = list(collection.ids)
        served = 0

        def remove_once(offset: int, limit: int) -> None:
            nonlocal served
            served += 1
            if served == 2:
                collection.remove(1, at=0)

        collection.before = remove_once
        client, _ = mock_client(collection, concurrency=1)
        async with client:
            pager = client.locations(page_size=10)
            got = [loc.id async for loc in pager]
        assert set(originals[1:]) <= set(got)
        assert len(got) == len(set(got))

    async def test_a_record_error_resumes_before_its_page(self) -> None:
        """`bad_records="raise"`: the error's resume point re-reads the page; nothing is lost."""
        collection = Collection.of(40)
        records = [b'{"id": "%s"}' % i.encode() for i in collection.ids[9:19]]
        records[6] = b'{"id": "L00015", "charging_pool": {"evses": "many"}}'
        collection.script[9] = [Response(200, {}, b'{"data": [' + b", ".join(records) + b"]}")]
        client, _ = mock_client(collection, concurrency=1)
        async with client:
            first: list[str] = []
            with pytest.raises(RecordError) as caught:
                async for loc in client.locations(page_size=10, bad_records="raise"):
                    first.append(loc.id)
            assert caught.value.resume is not None
            rest = [loc.id async for loc in client.locations(resume=caught.value.resume)]
        assert first + rest == collection.ids

    async def test_closing_the_client_as_a_page_arrives(self) -> None:
        """aclose() from another task at any moment: ClientClosedError, never an IndexError."""
        from paren_async import ClientClosedError

        for delay in (0, 0.0001, 0.0003, 0.001):
            client, _ = mock_client(Collection.of(5000, latency=0.0002), concurrency=4)
            pages = client.locations().pages()

            async def close_soon(client: ParenClient = client, delay: float = delay) -> None:
                await asyncio.sleep(delay)
                await client.aclose()

            closer = asyncio.ensure_future(close_soon())
            try:
                async for _ in pages:
                    pass
            except ClientClosedError:
                pass
            await closer
            await settle()
            assert fetch_tasks() == set()

    async def test_a_bad_record_without_id_at_a_page_boundary_counts_once(self) -> None:
        """The overlap record may be a record with no id: it is still the overlap."""
        collection = Collection.of(30)
        page = [b'{"id": "%s"}' % i.encode() for i in collection.ids[0:9]] + [b'{"id": null}']
        overlap = [b'{"id": null}'] + [b'{"id": "%s"}' % i.encode() for i in collection.ids[10:19]]
        collection.script[0] = [Response(200, {}, b'{"data": [' + b", ".join(page) + b"]}")]
        collection.script[9] = [Response(200, {}, b'{"data": [' + b", ".join(overlap) + b"]}")]
        client, _ = mock_client(collection, concurrency=1)
        async with client:
            pager = client.locations(page_size=10)
            await pager.collect()
        assert pager.statistics().bad_records == 1

    async def test_an_echoed_token_is_scrubbed_from_errors(self) -> None:
        """A server echoing the Authorization value back: the error shows '***'."""
        token = "a2V5OnNlY3JldA=="  # key:secret
        collection = Collection.of(5)
        body = b'{"errors": ["bad header Basic %s"], "status_code": 400}' % token.encode()
        collection.script[0] = [Response(400, {}, body)]
        client, _ = mock_client(collection)
        async with client:
            with pytest.raises(Exception) as caught:  # noqa: PT011
                await client.locations().collect()
        assert token not in str(caught.value) and "***" in str(caught.value)

    @pytest.mark.parametrize("status", [200, 401])
    @pytest.mark.parametrize("written", ["as is", "slash escaped", "unicode escaped"])
    async def test_an_echoed_token_is_scrubbed_however_json_writes_it(
        self, status: int, written: str
    ) -> None:
        """Regression (review): PHP writes '/' as '\\/' by default, other encoders '+' as
        '\\u002B'; a token echoed in an error envelope (in a 200 or a 401) never shows."""
        token = base64.b64encode(b"key:s3cr/et??>>").decode()  # holds '/', '+' and '='
        assert {"/", "+"} <= set(token)
        echoed = {
            "as is": token,
            "slash escaped": token.replace("/", "\\/"),
            "unicode escaped": "".join(f"\\u{ord(c):04X}" if c in "/+=" else c for c in token),
        }[written]
        body = b'{"errors": ["bad header Basic %s"], "status_code": 401}' % echoed.encode()
        transport = MockTransport(lambda request: Response(status, {}, body))
        options: dict[str, Any] = {"transport": transport, "retry": FAST_RETRY}
        async with ParenClient(
            "key", "s3cr/et??>>", base_url="http://127.0.0.1:9", **options
        ) as client:
            with pytest.raises(AuthenticationError) as caught:
                await client.locations().collect()
        shown = f"{caught.value} {caught.value!r} {caught.value.errors}"
        assert token not in shown and echoed not in shown and "Basic ***" in shown
        assert transport.requests  # the envelope was served

    async def test_resume_on_a_capping_server_after_inserts_before_the_point(self) -> None:
        """The resumed walk checks every page against the last ids until it meets the last one:
        records inserted before the point come first, the point's own records never twice."""
        collection = Collection.of(30, cap=2)
        client, _ = mock_client(collection, concurrency=1)
        async with client:
            pager = client.locations(page_size=10)
            first = []
            async for loc in pager:
                first.append(loc.id)
                if len(first) == 3:
                    break
            collection.insert(4, at=2)  # just before the last record yielded
            rest = [loc.id async for loc in client.locations(page_size=10, resume=pager.resume)]
        assert len(first + rest) == len(set(first + rest))
        assert [i for i in first + rest if not i.startswith("new")] == Collection.of(30).ids

    @pytest.mark.parametrize(
        ("cap", "taken"), [(7, 20), (7, 60), (30, 45), (1, 20), (3, 100), (49, 120)]
    )
    @pytest.mark.parametrize("meanwhile", ["nothing", "3 removed", "3 inserted"])
    async def test_resume_on_a_server_capping_below_the_re_read(
        self, cap: int, taken: int, meanwhile: str
    ) -> None:
        """Regression (review): with pages capped below the half page re-read before the point,
        the records of that re-read came again (cap 7, 20 taken: 307 of 300). Pages that end
        short of the point's last ids, holding none of them, were yielded by the earlier walk."""
        collection = Collection.of(300, cap=cap)
        client, transport = mock_client(collection, concurrency=2)
        async with client:
            pager = client.locations()
            first = []
            async for loc in pager:
                first.append(loc.id)
                if len(first) == taken:
                    break
            removed = collection.remove(3, at=taken - 12) if meanwhile == "3 removed" else []
            if meanwhile == "3 inserted":
                collection.insert(3, at=taken - 12, tag="behind")  # behind the cursor
            sent = len(transport.requests)
            resumed = client.locations(resume=pager.resume)
            rest = [loc.id async for loc in resumed]
        assert transport.requests[sent].url.endswith(f"offset={taken - min(taken, 50)}")
        everything = first + rest
        assert len(everything) == len(set(everything))  # nothing twice
        assert [i for i in everything if not i.startswith("behind")] == Collection.of(300).ids
        assert set(removed) <= set(first)  # what was removed had been yielded already
        assert resumed.statistics().complete

    @pytest.mark.parametrize("cap", [3, 7, 20])
    async def test_resume_whose_last_ids_are_all_gone_loses_nothing(self, cap: int) -> None:
        """Beyond what a resume point can anchor (every one of its last ids removed while
        stopped), the records held back before it are yielded, not lost, and the walk says so."""
        collection = Collection.of(300, cap=cap)
        client, _ = mock_client(collection, concurrency=2)
        async with client:
            pager = client.locations()
            first: list[str] = []
            async for loc in pager:
                first.append(loc.id)
                if len(first) == 60:
                    break
            collection.remove(12, at=48)  # the 8 last ids yielded and 4 before them
            resumed = client.locations(resume=pager.resume)
            rest = [loc.id async for loc in resumed]
        assert set(collection.ids) <= set(first + rest)
        assert not resumed.statistics().complete


class TestConditionalRequests:
    """Validators the server sends make the next walk's pages conditional; a 304 stands for the
    same records. Paren does not document them, so nothing depends on them."""

    async def test_an_unchanged_collection_is_answered_304_page_by_page(self) -> None:
        from paren_async import PageValidators

        collection = Collection.of(450, etag=True)
        validators = PageValidators()
        client, transport = mock_client(collection, concurrency=2)
        async with client:
            first = [
                r
                async for p in client.locations().raw_pages(validators=validators)
                for r in p.items
            ]
            sent_before = len(transport.requests)
            pages = [p async for p in client.locations().raw_pages(validators=validators)]
        assert len(first) == 450
        assert all(p.items == () for p in pages)
        assert [i for p in pages for i in p.unchanged] == collection.ids
        assert validators.hits == sum(1 for _, _, n in collection.served if n == -304) > 0
        conditional = transport.requests[sent_before:]
        assert all(dict(r.headers).get("If-None-Match") for r in conditional[:3])

    async def test_a_changed_page_comes_back_whole_and_drift_still_stitches(self) -> None:
        from paren_async import PageValidators

        collection = Collection.of(450, etag=True)
        validators = PageValidators()
        client, _ = mock_client(collection, concurrency=1)
        async with client:
            await client.locations().raw_pages(validators=validators).next_page()
            async for _ in client.locations().raw_pages(validators=validators):
                pass
            collection.ids[250] = "changed"
            collection.remove(3, at=10)  # every later page shifts: none of them is a 304
            seen: list[object] = []
            async for page in client.locations().raw_pages(validators=validators):
                seen += page.unchanged or [msgspec_id(r) for r in page.items]
        assert seen == collection.ids

    async def test_without_validators_from_the_server_nothing_changes(self) -> None:
        from paren_async import PageValidators

        collection = Collection.of(300)  # no ETag
        validators = PageValidators()
        client, transport = mock_client(collection)
        async with client:
            for _ in range(2):
                records = [
                    r
                    async for p in client.locations().raw_pages(validators=validators)
                    for r in p.items
                ]
                assert len(records) == 300
        assert len(validators) == 0
        assert all(not r.headers for r in transport.requests)


def msgspec_id(record: bytes) -> object:
    import msgspec

    return msgspec.json.decode(record)["id"]


class TestThirdReview:
    """Regressions for what a third hostile review found (conditional requests, drift)."""

    async def test_an_empty_tail_page_with_a_full_re_read_keeps_reading(self) -> None:
        """Inserts before the cursor after the empty tail page was answered: the re-read for it
        comes back full, so the gap is not closed there; the record after it is not lost."""
        collection = Collection.of(10)
        tail_answered = asyncio.Event()
        inserted = False

        async def handler(request: Any) -> Response:
            nonlocal inserted
            offset = int(request.url.split("offset=")[1])
            if offset == 10 and not tail_answered.is_set():
                tail_answered.set()
                return Response(200, {}, body_of([]))
            if offset == 5 and not inserted:
                await tail_answered.wait()
                inserted = True
                collection.insert(2, at=0)
            return await collection(request)

        client, transport = mock_client(collection, concurrency=8)
        transport._handler = handler  # type: ignore[attr-defined]
        async with client:
            pager = client.locations(page_size=6)
            got = [loc.id async for loc in pager]
        originals = [f"L{i:05d}" for i in range(10)]
        assert set(originals) <= set(got) or not pager.statistics().complete
        assert len(got) == len(set(got))

    async def test_walks_sharing_validators_while_a_server_drops_its_etag(self) -> None:
        """A 304 stands for the ids its own conditional request was sent with: never a KeyError."""
        from paren_async import PageValidators

        collection = Collection.of(30, etag=True)
        validators = PageValidators()
        client, _ = mock_client(collection, concurrency=2)
        async with client:
            await client.locations(page_size=10).raw_pages(validators=validators).next_page()
            first = client.locations(page_size=10).raw_pages(validators=validators)
            collection.etag = False  # the server stops sending validators for a while
            other = [
                p async for p in client.locations(page_size=10).raw_pages(validators=validators)
            ]
            collection.etag = True
            pages = [p async for p in first]
        covered = [i for p in pages for i in (p.unchanged or [msgspec_id(r) for r in p.items])]
        assert covered == collection.ids and other
