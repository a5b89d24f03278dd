"""Pure protocol logic: request building and response deciphering, over recorded samples."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

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
from paren_async._http import (
    Envelope,
    Request,
    Response,
    build_query,
    build_request,
    decipher_error,
    decode_page,
    parse_duration,
    parse_retry_after,
)

Sample = Callable[[str], bytes]
DECODER = msgspec.json.Decoder(Envelope[Location], strict=False)
REQUEST = Request("GET", "https://api.test/metadata/v1/locations?limit=100&offset=0")
NOW = 1_700_000_000.0


def decode(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> object:
    response = Response(status, headers or {}, body)
    return decode_page(REQUEST, response, DECODER, offset=0, limit=100, now=NOW)


class TestBuildQuery:
    def test_filters_then_limit_and_offset(self) -> None:
        """Filters come first, URL-encoded, and the walk appends its own limit and offset."""
        query = build_query({"state": "NY", "city": "New York"}, limit=50, offset=200)
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
        assert build_query({"x": value}, limit=1, offset=0).startswith(f"x={expected}&")

    def test_none_filters_are_left_out(self) -> None:
        """A filter set to None is not sent at all."""
        assert build_query({"state": None}, limit=1, offset=0) == "limit=1&offset=0"

    @pytest.mark.parametrize("name", ["limit", "offset"])
    def test_filters_cannot_override_paging(self, name: str) -> None:
        """limit and offset belong to the walk; a filter of that name is refused."""
        with pytest.raises(UsageError, match=name):
            build_query({name: 5}, limit=1, offset=0)

    def test_injection_attempts_stay_inside_one_value(self) -> None:
        """Characters that would start another parameter are percent-encoded."""
        query = build_query({"state": "NY&limit=1000#"}, limit=1, offset=0)
        assert query == "state=NY%26limit%3D1000%23&limit=1&offset=0"

    @pytest.mark.parametrize(
        "value",
        [pytest.param(["a"], id="list"), pytest.param(float("nan"), id="nan")],
    )
    def test_unsupported_values_are_refused(self, value: object) -> None:
        """Only plain scalars are sent; anything else is a UsageError, not a garbled URL."""
        with pytest.raises(UsageError):
            build_query({"x": value}, limit=1, offset=0)


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
            pytest.param(" 1.5 ", 1.5, id="fractional-seconds"),
            pytest.param("-4", 0.0, id="negative-clamped"),
            pytest.param("Tue, 14 Nov 2023 22:13:30 GMT", 10.0, id="http-date"),
            pytest.param("Tue, 14 Nov 2023 22:13:00 GMT", 0.0, id="http-date-in-past"),
            pytest.param(None, None, id="absent"),
            pytest.param("", None, id="empty"),
            pytest.param("soon", None, id="garbage"),
            pytest.param("inf", None, id="infinite"),
        ],
    )
    def test_values(self, value: str | None, expected: float | None) -> None:
        """Delta-seconds and HTTP dates become seconds from now; nonsense becomes None."""
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
            pytest.param("wrong_types.json", r"evses", id="wrong-types"),
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

    def test_decipher_error_without_envelope(self) -> None:
        """A bare error status with an empty body says so."""
        error = decipher_error(REQUEST, Response(503, {}, b""), now=NOW)
        assert isinstance(error, ServerError)
        assert "no details" in str(error)
