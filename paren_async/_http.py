"""Pure protocol logic: build requests, decipher responses. No I/O, no async, no aiohttp."""

from __future__ import annotations

import dataclasses
import email.utils
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Final, Generic, TypeVar
from urllib.parse import urlencode, urljoin, urlsplit

import msgspec

from ._config import DEFAULT_TIMEOUT, Credentials, Timeout
from ._exceptions import APIError, RateLimitError, RedirectError, UsageError, error_for_status

T = TypeVar("T")

REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
_EXCERPT_CHARS: Final = 300


@dataclass(frozen=True, slots=True)
class Request:
    """What to send. ``credentials`` are applied by the transport and never shown.

    ``offset`` is the page offset fetched (for events and traces; None outside walks);
    ``headers`` are extra (name, value) pairs, e.g. a conditional request's ``If-None-Match``.
    """

    method: str
    url: str
    credentials: Credentials | None = field(default=None, repr=False, compare=False)
    timeout: Timeout = DEFAULT_TIMEOUT
    offset: int | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Response:
    """What came back: status, headers (case-insensitive mapping) and the whole body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Envelope(msgspec.Struct, Generic[T], frozen=True, gc=False):
    """Success and error envelopes in one shape, so one decode tells which arrived."""

    data: tuple[T, ...] | None = None
    errors: tuple[Any, ...] | None = None
    # Only `data` must have its documented type; the rest is read leniently (``is_error_status``,
    # ``parse_duration``, ``parse_timestamp``), so an odd value never costs a page.
    status_code: Any = None
    status_message: Any = None
    duration: Any = None
    timestamp: Any = None


def is_error_status(status_code: object) -> bool:
    """An envelope's ``status_code`` that states an HTTP error (OCPI's 1000-style codes do not)."""
    return isinstance(status_code, int) and 400 <= status_code < 600


class _ErrorEnvelope(msgspec.Struct, frozen=True, gc=False):
    errors: Any = ()  # documented as a list of strings; tolerate anything
    status_code: Any = None


_error_decoder: Final = msgspec.json.Decoder(_ErrorEnvelope)
_timestamp_decoder: Final = msgspec.json.Decoder(datetime)


def _format_param(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise UsageError(
        f"query parameter {name!r} must be a str, int, float or bool, got {type(value).__name__}"
    )


def encode_filters(filters: Mapping[str, object]) -> str:
    """The filters as the start of a query string, checked once per walk (``UsageError``)."""
    clash = {"limit", "offset"}.intersection(name.strip().lower() for name in filters)
    if clash:  # the walk owns these: a filter of the same name would silently break paging
        raise UsageError(
            f"{', '.join(sorted(clash))} is set by the walk; use page_size=, offset= or max_items="
        )
    pairs = [
        (name, _format_param(name, value)) for name, value in filters.items() if value is not None
    ]
    return urlencode(pairs) + "&" if pairs else ""


def page_query(encoded_filters: str, limit: int, offset: int) -> str:
    return f"{encoded_filters}limit={limit}&offset={offset}"


def build_request(
    base_url: str,
    path: str,
    query: str = "",
    credentials: Credentials | None = None,
    *,
    timeout: Timeout = DEFAULT_TIMEOUT,
    offset: int | None = None,
) -> Request:
    url = f"{base_url}{path}?{query}" if query else f"{base_url}{path}"
    return Request("GET", url, credentials, timeout, offset)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, parts.hostname or "", parts.port or default_port


def follow_redirect(request: Request, response: Response) -> Request:
    """The request a redirect leads to, credentials included, or ``RedirectError``.

    Only same-origin redirects are followed (same scheme, host and port), so the Authorization
    header never reaches another host and never travels downgraded to plain http.
    """
    location = header(response.headers, "Location")
    shown, reason = None, "redirect without a Location header"
    if location:
        target = urljoin(request.url, location)
        (scheme, host, port), here = _origin(target), _origin(request.url)
        if (scheme, host, port) == here:
            return dataclasses.replace(request, url=target)
        shown = urlsplit(target)._replace(query="", fragment="").geturl()
        problem = (
            "downgrades https to http"
            if (scheme, here[0]) == ("http", "https")
            else f"leads to another origin ({scheme}://{host})"
        )
        reason = f"redirect not followed: it {problem}, and the credentials must not go there"
    raise RedirectError(
        f"HTTP {response.status} {reason}",
        status=response.status,
        location=shown,
        method=request.method,
        url=request.url,
    )


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup that also works on plain dicts."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """``Retry-After`` as seconds from ``now`` (epoch seconds), or None if it is not RFC 9110.

    Only delta-seconds (ASCII digits alone) or an HTTP-date count; anything else (``1e3``,
    ``1_000``, ``+3``, ``-3``, other scripts' digits) is ignored rather than guessed at.
    """
    value = (value or "").strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # the obsolete forms RFC 9110 still accepts (asctime) are GMT too
        when = when.replace(tzinfo=timezone.utc)
    seconds = when.timestamp() - now
    return max(0.0, seconds) if math.isfinite(seconds) else None


_DURATION_UNITS: Final = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART: Final = re.compile(r"(\d+(?:\.\d+)?)\s*(ns|[uµμ]s|ms|s|m|h)?")


def parse_duration(text: object) -> float | None:
    """Server time such as ``"512ms"``, ``"1.5s"`` or Go's ``"1m2.5s"``, in seconds; None if odd."""
    if not text or not isinstance(text, str):
        return None
    text = text.strip()
    total, position = 0.0, 0
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            return None
        number, unit = match.groups()
        unit = "us" if unit in ("µs", "μs") else unit or "s"  # micro sign or Greek mu
        total += float(number) * _DURATION_UNITS[unit]
        position = match.end()
    return total


def parse_timestamp(text: object) -> datetime | None:
    if not text or not isinstance(text, str):
        return None
    try:
        when = _timestamp_decoder.decode(msgspec.json.encode(text))
    except msgspec.DecodeError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def scrubbed(request: Request, body: bytes) -> bytes:
    """The body without the request's Basic token, should a server echo it back, also written
    with JSON escapes (``\\/`` as PHP writes ``/`` by default, or ``\\u002b``)."""
    if request.credentials is None:
        return body
    return _echoed(request.credentials.authorization.split()[-1]).sub(b"***", body)


def _echoed(token: str) -> re.Pattern[bytes]:
    """The token written literally or with JSON escapes, character by character."""

    def written(char: str) -> str:
        forms = [re.escape(char), rf"\\u{ord(char):04x}", rf"\\u{ord(char):04X}"]
        return "(?:" + "|".join([*forms, r"\\/"] if char == "/" else forms) + ")"

    return re.compile("".join(map(written, token)).encode())


def excerpt(body: bytes) -> str:
    text = body[: _EXCERPT_CHARS * 4].decode("utf-8", "replace")
    text = re.sub(r"<[^>]*>", " ", text) if text.lstrip().startswith("<") else text
    return " ".join(text.split())[:_EXCERPT_CHARS]


def error_messages(body: bytes) -> tuple[tuple[str, ...], int | None]:
    """The ``errors`` list and ``status_code`` of an error body, when it is an error envelope."""
    try:
        envelope = _error_decoder.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return (), None
    raw = envelope.errors
    raw = () if raw is None else raw if isinstance(raw, (list, tuple)) else (raw,)
    texts = tuple(e if isinstance(e, str) else msgspec.json.encode(e).decode() for e in raw)
    return texts, envelope.status_code


def make_api_error(
    request: Request, status: int, errors: tuple[str, ...], *, detail: str = ""
) -> APIError:
    reason = "; ".join(errors) or detail or "no details in the response body"
    message = f"HTTP {status}: {reason}"
    cls = error_for_status(status)
    return cls(message, status=status, errors=errors, method=request.method, url=request.url)


def decipher_error(request: Request, response: Response, *, now: float) -> APIError:
    """The typed error for an error status, whatever the body: error envelope, HTML or empty."""
    body = scrubbed(request, response.body)
    error = make_api_error(request, response.status, error_messages(body)[0], detail=excerpt(body))
    if isinstance(error, RateLimitError):
        error.retry_after = parse_retry_after(header(response.headers, "Retry-After"), now=now)
    return error
