"""The emulator speaks Paren's documented wire format: envelopes, auth, paging, errors."""

from __future__ import annotations

import gzip
from collections.abc import Mapping

import pytest
from emulator_support import METADATA, REALTIME, TIMESTAMP, api_for, basic

from paren_async.testing import EmulatorFactory, ParenEmulator


async def test_healthcheck_needs_no_credentials(paren_emulator: ParenEmulator) -> None:
    """GET /healthcheck answers 200 with a small JSON status and no Authorization header."""
    async with api_for(paren_emulator) as api:
        reply = await api.get("/healthcheck", auth=None)
    assert reply.status == 200
    assert reply.json()["status"] == "ok"
    assert TIMESTAMP.fullmatch(reply.json()["timestamp"])


@pytest.mark.parametrize(
    "path", [pytest.param(METADATA, id="metadata"), pytest.param(REALTIME, id="realtime")]
)
async def test_success_envelope_is_exactly_the_documented_one(
    paren_emulator: ParenEmulator, path: str
) -> None:
    """A page carries data, duration, status_code, status_message and timestamp, in that order."""
    async with api_for(paren_emulator) as api:
        reply = await api.get(path, limit=3)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    envelope = reply.json()
    assert list(envelope) == ["data", "duration", "status_code", "status_message", "timestamp"]
    assert len(envelope["data"]) == 3
    assert envelope["duration"].endswith("ms") and envelope["duration"][:-2].isdigit()
    assert envelope["status_code"] == 200
    assert envelope["status_message"] == "Success"
    assert TIMESTAMP.fullmatch(envelope["timestamp"])


@pytest.mark.parametrize(
    "auth",
    [
        pytest.param(None, id="missing"),
        pytest.param(basic("demo", "wrong"), id="wrong-secret"),
        pytest.param(basic("other", "demo"), id="wrong-key"),
        pytest.param("Bearer ZGVtbzpkZW1v", id="wrong-scheme"),
        pytest.param("Basic !!!not-base64!!!", id="malformed"),
    ],
)
async def test_bad_credentials_get_401_error_envelope(
    paren_emulator: ParenEmulator, auth: str | None
) -> None:
    """Missing or wrong Basic credentials get 401 with the error envelope and a challenge."""
    async with api_for(paren_emulator) as api:
        reply = await api.get(METADATA, auth=auth)
    assert reply.status == 401
    assert reply.headers["WWW-Authenticate"].startswith("Basic")
    body = reply.json()
    assert set(body) == {"errors", "status_code", "timestamp"}
    assert body["status_code"] == 401 and body["errors"]
    assert TIMESTAMP.fullmatch(body["timestamp"])


async def test_documented_example_credentials_are_accepted(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """Paren's own example header (key "key", secret "secret") authenticates."""
    emulator = await paren_emulator_factory(locations=5, api_key="key", api_secret="secret")
    async with api_for(emulator) as api:
        reply = await api.get(METADATA, auth="Basic a2V5OnNlY3JldA==")
    assert reply.status == 200 and len(reply.data) == 5


@pytest.mark.parametrize(
    ("params", "named"),
    [
        pytest.param({"limit": "abc"}, "limit", id="limit-not-a-number"),
        pytest.param({"limit": "0"}, "limit", id="limit-zero"),
        pytest.param({"limit": "101"}, "limit", id="limit-too-big"),
        pytest.param({"limit": "-5"}, "limit", id="limit-negative"),
        pytest.param({"limit": "1.5"}, "limit", id="limit-fraction"),
        pytest.param({"offset": "-1"}, "offset", id="offset-negative"),
        pytest.param({"offset": "x"}, "offset", id="offset-not-a-number"),
        pytest.param({"offset": ""}, "offset", id="offset-empty"),
    ],
)
async def test_invalid_paging_gets_400_naming_the_parameter(
    paren_emulator: ParenEmulator, params: dict[str, str], named: str
) -> None:
    """Bad limit or offset values are rejected with 400 and a message naming the parameter."""
    async with api_for(paren_emulator) as api:
        reply = await api.get(METADATA, **params)
    assert reply.status == 400
    body = reply.json()
    assert body["status_code"] == 400
    assert f"'{named}'" in body["errors"][0]


async def test_paging_defaults_and_bounds(paren_emulator: ParenEmulator) -> None:
    """limit defaults to 100, offset to 0; limits 1 and 100 are accepted."""
    async with api_for(paren_emulator) as api:
        default = await api.get(METADATA)
        first = await api.get(METADATA, limit=1)
        hundred = await api.get(METADATA, limit=100, offset=0)
    assert len(default.data) == 100
    assert first.ids == default.ids[:1]
    assert hundred.ids == default.ids


async def test_offsets_partition_the_collection(paren_emulator: ParenEmulator) -> None:
    """Consecutive pages are disjoint, ordered, and join into the emulator's id list."""
    async with api_for(paren_emulator) as api:
        walked = await api.walk(limit=37)
    assert walked == paren_emulator.ids()
    assert len(set(walked)) == len(walked) == 1_000


@pytest.mark.parametrize(
    "offset", [pytest.param(1_000, id="at-end"), pytest.param(10**12, id="far-past-end")]
)
async def test_past_the_end_is_an_empty_success(paren_emulator: ParenEmulator, offset: int) -> None:
    """An offset at or past the end returns 200 with an empty data array."""
    async with api_for(paren_emulator) as api:
        reply = await api.get(METADATA, offset=offset)
    assert reply.status == 200
    assert reply.data == []


async def test_last_page_is_short(paren_emulator: ParenEmulator) -> None:
    """The final page holds only the remaining records."""
    async with api_for(paren_emulator) as api:
        reply = await api.get(METADATA, offset=990, limit=100)
    assert len(reply.data) == 10


async def test_unknown_path_gets_404_envelope(paren_emulator: ParenEmulator) -> None:
    """An unknown path answers 404 with the error envelope, not aiohttp's text page."""
    async with api_for(paren_emulator) as api:
        reply = await api.get("/v2/locations")
    assert reply.status == 404
    assert reply.json()["status_code"] == 404
    assert "/v2/locations" in reply.json()["errors"][0]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("POST", METADATA, id="post-metadata"),
        pytest.param("DELETE", REALTIME, id="delete-realtime"),
        pytest.param("POST", "/healthcheck", id="post-healthcheck"),
    ],
)
async def test_other_methods_get_405_envelope(
    paren_emulator: ParenEmulator, method: str, path: str
) -> None:
    """Methods other than GET answer 405 with Allow: GET and the error envelope."""
    async with (
        api_for(paren_emulator) as api,
        api.session.request(method, paren_emulator.url + path) as response,
    ):
        body = await response.json()
    assert response.status == 405
    assert response.headers["Allow"] == "GET"
    assert body["status_code"] == 405


@pytest.mark.parametrize(
    "path", [pytest.param(METADATA, id="metadata"), pytest.param(REALTIME, id="realtime")]
)
async def test_state_and_city_filters_match_the_address(
    paren_emulator: ParenEmulator, path: str
) -> None:
    """state= and city= filter on the address, case-insensitively; unknown parameters are ignored."""
    async with api_for(paren_emulator) as api:
        everything = await api.walk(path)
        in_ny = await api.walk(path, state="ny", some_unknown_filter="x")
        city = (await api.get(path, limit=1)).data[0]["address"]["city"]
        page = await api.get(path, city=city.upper())
        nowhere = await api.get(path, state="ZZ")
    assert in_ny == everything  # every station of the data set is in New York
    assert page.data and all(record["address"]["city"] == city for record in page.data)
    assert len(page.data) < 100
    assert nowhere.status == 200 and nowhere.data == []


async def test_filtered_view_pages_without_gaps(paren_emulator: ParenEmulator) -> None:
    """Offsets count within the filtered view, so walking a filter meets each match once."""
    async with api_for(paren_emulator) as api:
        everything = (await api.get(METADATA, limit=100)).data
        city = max(
            {r["address"]["city"] for r in everything},
            key=lambda c: sum(r["address"]["city"] == c for r in everything),
        )
        walked = await api.walk(METADATA, limit=2, city=city)
        all_ids = await api.walk(METADATA)
    assert len(walked) >= 2
    assert walked == [i for i in all_ids if i in set(walked)]  # same relative order
    assert len(set(walked)) == len(walked)


async def test_gzip_only_when_enabled_and_accepted(paren_emulator_factory: EmulatorFactory) -> None:
    """With gzip=True a client accepting gzip gets a compressed body, others get plain JSON."""
    emulator = await paren_emulator_factory(locations=200, gzip=True)
    async with api_for(emulator, auto_decompress=False) as api:
        zipped = await api.get(METADATA, headers={"Accept-Encoding": "gzip"})
        plain = await api.get(METADATA, headers={"Accept-Encoding": "identity"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert len(zipped.body) * 3 < len(plain.body)
    unzipped = gzip.decompress(zipped.body)
    assert unzipped.split(b'"duration"')[0] == plain.body.split(b'"duration"')[0]
    assert "Content-Encoding" not in plain.headers


async def test_request_log_redacts_authorization(paren_emulator: ParenEmulator) -> None:
    """The request log keeps method, path, query and headers, but never the credentials."""
    async with api_for(paren_emulator) as api:
        await api.get(METADATA, limit=5, offset=10, state="NY")
    (record,) = paren_emulator.requests
    assert (record.method, record.path, record.status, record.records) == ("GET", METADATA, 200, 5)
    assert dict(record.query) == {"limit": "5", "offset": "10", "state": "NY"}
    assert record.offset == 10
    assert record.headers["Authorization"] == "<redacted>"
    assert "ZGVtbzpkZW1v" not in repr(paren_emulator.requests)
    assert record.started <= record.finished


async def test_statistics_count_statuses_pages_and_connections(
    paren_emulator: ParenEmulator,
) -> None:
    """statistics() counts requests by status, pages, records and keep-alive connections."""
    async with api_for(paren_emulator) as api:
        await api.get(METADATA, limit=10)
        await api.get(METADATA, auth=None)
        await api.get(METADATA, limit=0)
    stats = paren_emulator.statistics()
    assert stats.requests == 3
    assert dict(stats.by_status) == {200: 1, 401: 1, 400: 1}
    assert (stats.pages_served, stats.records_served) == (1, 10)
    assert stats.connections == 1  # one keep-alive session
    assert stats.in_flight == 0 and stats.max_in_flight == 1
    with pytest.raises(TypeError):
        stats.by_status[200] = 5  # type: ignore[index]
    paren_emulator.reset_statistics()
    assert paren_emulator.statistics().requests == 0
    assert paren_emulator.requests == ()


async def test_etags_are_opt_in_weak_and_answered_304(
    paren_emulator_factory: EmulatorFactory,
) -> None:
    """`etag=True`: a weak ETag over a page's records; If-None-Match with it gets an empty 304;
    a changed page gets a new tag. Off by default, as Paren documents none."""
    plain = await paren_emulator_factory(locations=300)
    async with api_for(plain) as api:
        assert "etag" not in {k.lower() for k in (await api.get(limit=100, offset=0)).headers}
    emulator = await paren_emulator_factory(locations=300, etag=True)
    async with api_for(emulator) as api:
        first = await api.get(limit=100, offset=0)
        tag = etag_of(first.headers)
        assert tag.startswith('W/"')
        again = await api.get(limit=100, offset=0, headers={"If-None-Match": tag})
        assert (again.status, again.body, etag_of(again.headers)) == (304, b"", tag)
        emulator.remove(1, at=5)
        changed = await api.get(limit=100, offset=0, headers={"If-None-Match": tag})
        assert changed.status == 200 and etag_of(changed.headers) != tag


def etag_of(headers: Mapping[str, str]) -> str:
    return next(value for name, value in headers.items() if name.lower() == "etag")
