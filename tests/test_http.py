"""Pure protocol logic: request building and response deciphering, over recorded samples."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import msgspec
import pytest

from paren_async import (
    APIError,
    AuthenticationError,
    BadRequestError,
    Credentials,
    DecodeError,
    Location,
    NotFoundError,
    RateLimitError,
    ServerError,
    UsageError,
)
from paren_async._decoding import RAW, codec_for, decode_page
from paren_async._http import (
    Request,
    Response,
    build_request,
    decipher_error,
    encode_filters,
    page_query,
    parse_duration,
    parse_retry_after,
)

Sample = Callable[[str], bytes]
DECODER = codec_for(Location)
REQUEST = Request("GET", "https://api.test/metadata/v1/locations?limit=100&offset=0")
NOW = 1_700_000_000.0


def decode(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> object:
    response = Response(status, headers or {}, body)
    return decode_page(REQUEST, response, DECODER, offset=0, limit=100, now=NOW)


class TestBuildQuery:
    def test_filters_then_limit_and_offset(self) -> None:
        """Filters come first, URL-encoded, and the walk appends its own limit and offset."""
        query = page_query(encode_filters({"state": "NY", "city": "New York"}), 50, 200)
        assert query == "state=NY&city=New+York&limit=50&offset=200"

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            pytest.param(True, "true", id="bool-true"),
            pytest.param(False, "false", id="bool-false"),
            pytest.param(7, "7", id="int"),
            pytest.param(0.5, "0.5", id="float"),
        ],
    )
    def test_scalar_values_are_formatted_for_the_wire(self, value: object, expected: str) -> None:
        """Booleans become lowercase words and numbers their shortest decimal form."""
        assert page_query(encode_filters({"x": value}), 1, 0).startswith(f"x={expected}&")

    def test_none_filters_are_left_out(self) -> None:
        """A filter set to None is not sent at all."""
        assert page_query(encode_filters({"state": None}), 1, 0) == "limit=1&offset=0"

    @pytest.mark.parametrize("name", ["limit", "offset"])
    def test_filters_cannot_override_paging(self, name: str) -> None:
        """limit and offset belong to the walk; a filter of that name is refused."""
        with pytest.raises(UsageError, match=name):
            page_query(encode_filters({name: 5}), 1, 0)

    def test_injection_attempts_stay_inside_one_value(self) -> None:
        """Characters that would start another parameter are percent-encoded."""
        query = page_query(encode_filters({"state": "NY&limit=1000#"}), 1, 0)
        assert query == "state=NY%26limit%3D1000%23&limit=1&offset=0"

    @pytest.mark.parametrize(
        "value",
        [pytest.param(["a"], id="list"), pytest.param(float("nan"), id="nan")],
    )
    def test_unsupported_values_are_refused(self, value: object) -> None:
        """Only plain scalars are sent; anything else is a UsageError, not a garbled URL."""
        with pytest.raises(UsageError):
            page_query(encode_filters({"x": value}), 1, 0)


def test_request_repr_never_shows_credentials() -> None:
    """A Request prints its method and URL but not the credentials it carries."""
    request = build_request("https://h", "/p", "a=1", Credentials("key", "s3cr3t-value"))
    assert request.url == "https://h/p?a=1"
    assert "s3cr3t" not in repr(request)
    assert "a2V5" not in repr(request)  # base64 of "key:..."


class TestParseRetryAfter:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            pytest.param("3", 3.0, id="seconds"),
            pytest.param(" 7 ", 7.0, id="surrounding-space"),
            pytest.param("1.5", None, id="fractional-is-not-rfc-9110"),
            pytest.param("-4", None, id="negative"),
            pytest.param("-3", None, id="negative-3"),
            pytest.param("+3", None, id="plus-sign"),
            pytest.param("1_000", None, id="underscores"),
            pytest.param("1e3", None, id="exponent"),
            pytest.param("\u0663", None, id="arabic-indic-digit"),
            pytest.param("\uff13", None, id="fullwidth-digit"),
            pytest.param("Tue, 14 Nov 2023 22:13:30 GMT", 10.0, id="http-date"),
            pytest.param("Tue, 14 Nov 2023 22:13:00 GMT", 0.0, id="http-date-in-past"),
            pytest.param(None, None, id="absent"),
            pytest.param("", None, id="empty"),
            pytest.param("soon", None, id="garbage"),
            pytest.param("inf", None, id="infinite"),
        ],
    )
    def test_values(self, value: str | None, expected: float | None) -> None:
        """Only RFC 9110 forms count: ASCII delta-seconds or an HTTP date; the rest is None."""
        now = datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc).timestamp()
        assert parse_retry_after(value, now=now) == expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("512ms", 0.512, id="ms"),
        pytest.param("1.5s", 1.5, id="s"),
        pytest.param("250us", 0.00025, id="us"),
        pytest.param("1m2.5s", 62.5, id="go-style"),
        pytest.param("2", 2.0, id="bare-number"),
        pytest.param("fast", None, id="garbage"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_parse_duration(text: str | None, seconds: float | None) -> None:
    """The envelope's duration is read leniently in any common unit."""
    result = parse_duration(text)
    assert result == (pytest.approx(seconds) if seconds is not None else None)


class TestDecodePage:
    def test_success_envelope(self, sample: Sample) -> None:
        """A success envelope becomes a Page with its records, duration and timestamp."""
        page = decode(sample("metadata_page.json"))
        assert [loc.id for loc in page.items] == ["NY-44174", "NY-44176"]  # type: ignore[attr-defined]
        assert page.duration == pytest.approx(0.512)  # type: ignore[attr-defined]
        assert page.timestamp == datetime(2025, 5, 13, 20, 22, 24, 898517, tzinfo=timezone.utc)  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        ("status", "body", "error", "errors"),
        [
            pytest.param(400, "error_400.json", BadRequestError, ("limit must be between 1 and 100",), id="400"),
            pytest.param(401, "error_400.json", AuthenticationError, ("limit must be between 1 and 100",), id="401"),
            pytest.param(403, "", AuthenticationError, (), id="403-empty"),
            pytest.param(404, "", NotFoundError, (), id="404-empty"),
            pytest.param(418, "", APIError, (), id="unknown-4xx"),
            pytest.param(500, "error_in_200.json", ServerError, ("upstream database unavailable",), id="500"),
            pytest.param(502, "proxy_502.html", ServerError, (), id="502-html"),
            pytest.param(503, "", ServerError, (), id="503-empty"),
            pytest.param(400, "odd_error.json", BadRequestError, ('{"code":"E42","detail":"offset too large"}',), id="non-string-errors"),
        ],
    )  # fmt: skip
    def test_error_statuses(
        self, sample: Sample, status: int, body: str, error: type[APIError], errors: tuple[str, ...]
    ) -> None:
        """Every error status maps to its typed error, whatever the body holds."""
        with pytest.raises(error) as caught:
            decode(sample(body) if body else b"", status)
        assert type(caught.value) is error
        assert caught.value.status == status
        assert caught.value.errors == errors
        assert caught.value.url == REQUEST.url
        assert caught.value.method == "GET"

    def test_html_error_page_is_summarised(self, sample: Sample) -> None:
        """An HTML proxy page is reduced to its text in the error message."""
        with pytest.raises(ServerError, match="502 Bad Gateway nginx"):
            decode(sample("proxy_502.html"), 502)

    def test_rate_limit_carries_retry_after(self) -> None:
        """A 429 exposes the server's Retry-After in seconds."""
        with pytest.raises(RateLimitError) as caught:
            decode(b"", 429, {"retry-after": "7"})
        assert caught.value.retry_after == 7.0

    def test_error_envelope_inside_200_is_the_error_it_states(self, sample: Sample) -> None:
        """An error envelope that arrives with HTTP 200 raises the error of its status_code."""
        with pytest.raises(ServerError) as caught:
            decode(sample("error_in_200.json"), 200)
        assert caught.value.status == 500
        assert caught.value.errors == ("upstream database unavailable",)

    def test_errors_without_status_inside_200(self) -> None:
        """A 200 carrying errors but no status_code is still an error, never a page."""
        with pytest.raises(APIError, match="boom") as caught:
            decode(b'{"errors": ["boom"]}', 200)
        assert caught.value.status == 200

    @pytest.mark.parametrize(
        ("body", "match"),
        [
            pytest.param("truncated.json", "not valid JSON", id="truncated"),
            pytest.param("proxy_502.html", "not valid JSON", id="html-on-200"),
            pytest.param("no_data.json", "without a 'data'", id="no-data"),
        ],
    )
    def test_undecodable_bodies(self, sample: Sample, body: str, match: str) -> None:
        """A 200 whose body is not a valid envelope raises DecodeError, never a msgspec error."""
        with pytest.raises(DecodeError, match=match) as caught:
            decode(sample(body))
        assert caught.value.status == 200
        assert caught.value.url == REQUEST.url
        assert not isinstance(caught.value.__cause__, msgspec.MsgspecError)

    def test_a_record_of_the_wrong_type_is_rejected_alone(self, sample: Sample) -> None:
        """A record the model cannot take becomes a BadRecord: id, offset, JSON path, raw bytes."""
        page = decode(sample("wrong_types.json"))
        assert page.items == ()  # type: ignore[attr-defined]
        (bad,) = page.rejected  # type: ignore[attr-defined]
        assert (bad.id, bad.offset, bad.path) == ("NY-1", 0, "$.charging_pool.evses")
        assert bad.raw == b'{"id": "NY-1", "charging_pool": {"evses": "not-a-list"}}'

    def test_decipher_error_without_envelope(self) -> None:
        """A bare error status with an empty body says so."""
        error = decipher_error(REQUEST, Response(503, {}, b""), now=NOW)
        assert isinstance(error, ServerError)
        assert "no details" in str(error)


def page_of(*records: bytes, headers: dict[str, str] | None = None) -> Any:
    body = b'{"data": [' + b", ".join(records) + b'], "status_code": 200}'
    return decode(body, 200, headers)


class TestMessyRecords:
    """Real operator data is messy: coerce where the meaning is clear, else reject one record."""

    @pytest.mark.parametrize(
        ("record", "check"),
        [
            pytest.param(
                b'{"id": "a", "address": {"coordinates": {"latitude": " 7.8532", "longitude": "1"}}}',
                lambda loc: loc.address.coordinates.latitude == 7.8532,
                id="decimal-string-with-spaces",
            ),
            pytest.param(
                b'{"id": "a", "charging_pool": {"evses": null}}',
                lambda loc: loc.charging_pool.evses == (),
                id="null-evses",
            ),
            pytest.param(
                b'{"id": "a", "charging_pool": {"evses": [null, {"id": "e1", "connectors": null}]}}',
                lambda loc: (
                    [e.id for e in loc.charging_pool.evses] == ["e1"]
                    and loc.charging_pool.evses[0].connectors == ()
                ),
                id="null-in-evses-and-null-connectors",
            ),
            pytest.param(
                b'{"id": "a", "address": null, "charging_pool": null}',
                lambda loc: loc.address.city is None and loc.charging_pool.evses == (),
                id="null-address-and-pool",
            ),
            pytest.param(
                b'{"id": "a", "last_updated": ""}',
                lambda loc: loc.last_updated is None,
                id="empty-timestamp",
            ),
            pytest.param(
                b'{"id": "a", "last_updated": "2025-05-13"}',
                lambda loc: loc.last_updated == datetime(2025, 5, 13, tzinfo=timezone.utc),
                id="bare-date",
            ),
            pytest.param(
                b'{"id": "a", "last_updated": "2025-05-13T10:00:00"}',
                lambda loc: loc.last_updated == datetime(2025, 5, 13, 10, tzinfo=timezone.utc),
                id="zone-less-timestamp-is-utc",
            ),
            pytest.param(
                b'{"id": 17}', lambda loc: loc.id == "17", id="number-where-a-string-belongs"
            ),
        ],
    )
    def test_clear_meanings_are_coerced(self, record: bytes, check: Callable[[Any], bool]) -> None:
        """Each messy value is repaired, and the records around it are untouched."""
        page = page_of(b'{"id": "before"}', record, b'{"id": "after"}')
        assert page.rejected == ()
        assert [loc.id for loc in page.items][::2] == ["before", "after"]
        assert check(page.items[1])

    def test_timestamps_are_always_timezone_aware(self) -> None:
        """Zone-less and zoned timestamps side by side compare and sort (no TypeError)."""
        page = page_of(
            b'{"id": "a", "last_updated": "2025-05-13T10:00:00Z"}',
            b'{"id": "b", "last_updated": "2025-05-13T11:00:00"}',
            b'{"id": "c", "last_updated": "2025-05-13T12:00:00+02:00"}',
        )
        stamps = [loc.last_updated for loc in page.items]
        assert all(stamp.tzinfo is not None for stamp in stamps)
        assert max(stamps) == stamps[1]

    @pytest.mark.parametrize(
        ("record", "path"),
        [
            pytest.param(b'{"id": null}', "$.id", id="null-id"),
            pytest.param(
                b'{"id": "x", "charging_pool": {"evses": "many"}}',
                "$.charging_pool.evses",
                id="string-evses",
            ),
            pytest.param(
                b'{"id": "x", "last_updated": "yesterday"}', "$.last_updated", id="prose-timestamp"
            ),
            pytest.param(
                b'{"id": "x", "address": {"coordinates": {"latitude": "north"}}}',
                "$.address.coordinates.latitude",
                id="prose-number",
            ),
        ],
    )
    def test_unclear_records_are_rejected_alone(self, record: bytes, path: str) -> None:
        """A record still undecodable after repair is a BadRecord; its page mates decode."""
        page = page_of(b'{"id": "before"}', record, b'{"id": "after"}', b"[1]")
        assert [loc.id for loc in page.items] == ["before", "after"]
        bad = page.rejected[0]
        assert (bad.offset, bad.path, bad.raw) == (1, path, record)
        assert page.rejected[1].offset == 3  # not even an object: rejected too

    def test_a_latin_1_body_is_transcoded(self) -> None:
        """A body declared iso-8859-1 is read as such, on the typed and the raw path alike."""
        body = '{"data": [{"id": "caf\u00e9", "name": "Caf\u00e9 \u00c9toile"}]}'.encode("latin-1")
        headers = {"Content-Type": "application/json; charset=iso-8859-1"}
        typed = decode_page(
            REQUEST, Response(200, headers, body), DECODER, offset=0, limit=100, now=NOW
        )
        raw = decode_page(REQUEST, Response(200, headers, body), RAW, offset=0, limit=100, now=NOW)
        assert typed.items[0].name == "Caf\u00e9 \u00c9toile"
        assert msgspec.json.decode(bytes(raw.items[0]))["id"] == "caf\u00e9"
        bytes(raw.items[0]).decode("utf-8")  # the raw path hands on UTF-8, never latin-1

    def test_an_unknown_charset_is_a_decode_error(self) -> None:
        """A charset nobody can read is refused with a DecodeError naming it."""
        headers = {"Content-Type": "application/json; charset=x-klingon"}
        with pytest.raises(DecodeError, match="x-klingon"):
            page_of(b'{"id": "a"}', headers=headers)


@pytest.mark.parametrize(
    "value",
    ["Tuesday, 14-Nov-23 22:13:30 GMT", "Tue Nov 14 22:13:30 2023"],
    ids=["rfc-850", "asctime"],
)
def test_obsolete_retry_after_dates_are_read_as_gmt(value: str) -> None:
    """RFC 9110 says recipients must accept the obsolete date forms too; they are GMT."""
    now = datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc).timestamp()
    assert parse_retry_after(value, now=now) == 10.0
