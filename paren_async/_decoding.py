"""Pure page decoding: a response to a ``Page``, one bad record costing only itself.

The fast path decodes the whole envelope with the typed decoder in one call. Only when that fails
does a page take the slow path: the envelope is split into raw records, each is decoded alone,
a record that fails is repaired where the meaning is clear (``repair``), and a record still
undecodable becomes a ``BadRecord`` of its page. Real feeds are messy, so the repairs are those of
``paren-api.md`` section 7, applied at exactly the JSON path msgspec names, one at a time.

Text is UTF-8 on every path: a body declared in another charset is transcoded before any decode,
typed or raw, so both paths see the same text.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Generic, TypeVar

import msgspec

from ._exceptions import DecodeError, RecordError, UsageError
from ._http import (
    Envelope,
    Request,
    Response,
    decipher_error,
    error_messages,
    excerpt,
    header,
    is_error_status,
    make_api_error,
    parse_duration,
    parse_timestamp,
    scrubbed,
)
from .models import BadRecord, Page

__all__ = ["RAW", "Codec", "codec_for", "decode_page", "decode_record", "repair", "utf8_body"]

T = TypeVar("T")

#: Repairs tried on one record before it is declared bad (each fixes one value).
MAX_REPAIRS: Final = 16
_PATH: Final = re.compile(r" - at `(\$[^`]*)`$")
_MISSING: Final = re.compile(r"missing required field `([^`]+)`")
_STEP: Final = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_NUMBER: Final = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAIVE: Final = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


class _IdOnly(msgspec.Struct, gc=False):
    id: object = None


_ID_ONLY: Final = msgspec.json.Decoder(_IdOnly)


def raw_id(record: bytes | msgspec.Raw) -> object:
    """A raw record's ``id``, or None when it has none or is not a JSON object."""
    try:
        return hashable(_ID_ONLY.decode(record).id)
    except (msgspec.DecodeError, RecursionError):
        return None


def hashable(value: object) -> object:
    """An id as sent, or its JSON text when it is an object or array (ids are compared in sets)."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    return msgspec.json.encode(value).decode()


@dataclass(frozen=True)
class Codec(Generic[T]):
    """The decoders of one record type, built once: compiling a type costs more than a page."""

    page: msgspec.json.Decoder[Envelope[T]]
    record: msgspec.json.Decoder[T] | None


RAW: Final[Codec[msgspec.Raw]] = Codec(msgspec.json.Decoder(Envelope[msgspec.Raw]), None)
_RAW_PAGE: Final = RAW.page


@cache
def codec_for(model: type[T]) -> Codec[T]:
    """The codec of a msgspec Struct type (numbers as strings accepted: ``strict=False``)."""
    return Codec(
        msgspec.json.Decoder(Envelope[model], strict=False),  # type: ignore[valid-type]
        msgspec.json.Decoder(model, strict=False),
    )


def decode_record(raw: bytes | msgspec.Raw, model: type[T]) -> T:
    """One record's JSON as ``model``, as leniently as walks decode pages (see ``repair``).

    ``model`` is a msgspec Struct type (``Location``, ``RealtimeLocation``...). A record still
    undecodable after repair raises ``RecordError``, whose ``record`` is the ``BadRecord``.
    """
    if not isinstance(raw, (bytes, msgspec.Raw)):
        raise UsageError(f"decode_record takes a record's JSON bytes, got {type(raw).__name__}")
    decoder = codec_for(model).record  # type: ignore[arg-type]
    assert decoder is not None
    try:
        record: T = decoder.decode(raw)
        return record
    except (msgspec.ValidationError, RecursionError) as exc:
        result = repair(bytes(raw), decoder.decode, str(exc))
    except msgspec.DecodeError as exc:
        result = BadRecord(offset=0, id=None, path="$", reason=str(exc), raw=bytes(raw))
    if isinstance(result, BadRecord):
        raise RecordError(
            f"record {result.id!r} cannot be decoded: {result.reason}",
            record=result, method=None, url=None,
        )  # fmt: skip
    repaired: T = result
    return repaired


def utf8_body(request: Request, response: Response) -> bytes:
    """The body as UTF-8: transcoded from the charset ``Content-Type`` declares, if another."""
    content_type = header(response.headers, "Content-Type") or ""
    if "charset" not in content_type.lower():
        return response.body
    match = re.search(r"charset\s*=\s*\"?([\w.:-]+)", content_type, re.IGNORECASE)
    if match is None:
        return response.body
    try:
        charset = codecs.lookup(match.group(1)).name
    except LookupError:
        raise _decode_error(
            request, response, f"response declares an unknown charset {match.group(1)!r}"
        ) from None
    if charset == "utf-8":
        return response.body
    try:
        return response.body.decode(charset).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise _decode_error(request, response, f"body is not valid {charset}: {exc}") from None


def decode_page(
    request: Request,
    response: Response,
    codec: Codec[T],
    *,
    offset: int,
    limit: int,
    now: float,
) -> Page[T]:
    """A page from a response, or the typed error the response states.

    An error status raises the matching ``APIError``; so does an error envelope (or a
    ``status_code`` >= 400) that arrived with HTTP 200. A body that is not JSON raises a transient
    ``DecodeError`` (the walk fetches it again); one that is JSON but not an envelope raises a
    permanent one. Records the model rejects go to ``Page.rejected``, never fail the page.
    """
    if not 200 <= response.status < 300:
        raise decipher_error(request, response, now=now)
    body = utf8_body(request, response)
    rejected: tuple[BadRecord, ...] = ()
    try:
        envelope: Envelope[Any] = codec.page.decode(body)
    except msgspec.ValidationError:
        envelope = _envelope_or_error(request, response, body)
        if envelope.data is not None and codec.record is not None:
            items, rejected = _decode_records(envelope.data, codec.record, offset)
            envelope = msgspec.structs.replace(envelope, data=items)
    except msgspec.DecodeError as exc:
        # Cut short or garbled in transit (fetched again), unless only a record is at fault
        # (invalid UTF-8 in one string, a number out of range): then that record alone.
        try:
            envelope = _RAW_PAGE.decode(body)
        except (msgspec.DecodeError, RecursionError):
            raise _decode_error(
                request, response, f"response is not valid JSON: {exc}", transient=True
            ) from None
        if envelope.data is not None and codec.record is not None:
            items, rejected = _decode_records(envelope.data, codec.record, offset)
            envelope = msgspec.structs.replace(envelope, data=items)
    except RecursionError:  # msgspec's guard against pathological nesting
        raise _decode_error(request, response, "response JSON is nested too deeply") from None
    if envelope.errors or is_error_status(envelope.status_code):
        errors = tuple(
            scrubbed(request, str(e).encode()).decode("utf-8", "replace")
            for e in envelope.errors or ()
        )
        raise make_api_error(request, _stated_status(envelope.status_code, response), errors)
    if envelope.data is None:
        raise _decode_error(request, response, "success envelope without a 'data' array")
    return Page(
        offset=offset,
        limit=limit,
        items=envelope.data,
        duration=parse_duration(envelope.duration),
        timestamp=parse_timestamp(envelope.timestamp),
        rejected=rejected,
    )


def _envelope_or_error(request: Request, response: Response, body: bytes) -> Envelope[Any]:
    """The envelope with raw records, after the typed decode failed; or the error it states."""
    try:
        envelope: Envelope[Any] = _RAW_PAGE.decode(body)
        return envelope
    except msgspec.ValidationError as exc:
        # A 200 may carry an error envelope whose other fields do not fit the success shape.
        errors, status_code = error_messages(scrubbed(request, body))
        if errors or is_error_status(status_code):
            raise make_api_error(request, _stated_status(status_code, response), errors) from None
        raise _decode_error(request, response, f"unexpected response shape: {exc}") from None
    except (msgspec.DecodeError, RecursionError) as exc:
        raise _decode_error(request, response, f"response is not valid JSON: {exc}") from None


def _decode_records(
    records: tuple[msgspec.Raw, ...], decoder: msgspec.json.Decoder[T], offset: int
) -> tuple[tuple[T, ...], tuple[BadRecord, ...]]:
    items: list[T] = []
    rejected: list[BadRecord] = []
    for index, raw in enumerate(records):
        try:
            items.append(decoder.decode(raw))
        except (msgspec.DecodeError, RecursionError) as exc:
            record = repair(bytes(raw), decoder.decode, str(exc))
            if isinstance(record, BadRecord):
                rejected.append(msgspec.structs.replace(record, offset=offset + index))
            else:
                items.append(record)
    return tuple(items), tuple(rejected)


def repair(raw: bytes, decode: Callable[[bytes], T], reason: str) -> T | BadRecord:
    """The record decoded after lenient repairs, or a ``BadRecord`` saying what is wrong.

    Repairs, each where msgspec names the failing value: ``null`` where an object or array
    belongs is dropped (so the field takes its default, or the list loses the null); a number
    sent as a string with spaces is stripped; a number where a string belongs becomes the string;
    an empty timestamp is dropped, a bare date is midnight UTC, a zone-less timestamp is UTC.
    """
    try:
        tree = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):  # not JSON msgspec can hold (1e400, bad UTF-8)
        return BadRecord(offset=0, id=raw_id(raw), path=_path_of(reason), reason=reason, raw=raw)
    path = "$"
    for _ in range(MAX_REPAIRS):
        path = _path_of(reason)
        if not _repair_at(tree, path, reason):
            break
        try:
            return decode(msgspec.json.encode(tree))
        except (msgspec.ValidationError, RecursionError) as exc:
            reason = str(exc)
    record_id = hashable(tree.get("id")) if isinstance(tree, dict) else None
    return BadRecord(offset=0, id=record_id, path=path, reason=reason, raw=raw)


def _path_of(reason: str) -> str:
    match = _PATH.search(reason)
    if match:
        return match.group(1)
    missing = _MISSING.search(reason)  # "Object missing required field `id`" names no path
    return f"$.{missing.group(1)}" if missing else "$"


def _repair_at(tree: Any, path: str, reason: str) -> bool:
    """Fix the one value at ``path`` in place if its meaning is clear; False when it is not."""
    steps = [key if key else int(index) for key, index in _STEP.findall(path[1:])]
    if not steps:
        return False
    parent = tree
    try:
        for step in steps[:-1]:
            parent = parent[step]
        value = parent[steps[-1]]
    except (KeyError, IndexError, TypeError):
        return False
    fixed = _fixed(value, reason)
    if fixed is _DROP:
        del parent[steps[-1]]
    elif fixed is _UNCLEAR:
        return False
    else:
        parent[steps[-1]] = fixed
    return True


_DROP: Final = object()
_UNCLEAR: Final = object()


def _fixed(value: object, reason: str) -> object:
    if value is None and "got `null`" in reason:
        return _DROP
    if isinstance(value, str):
        text = value.strip()
        if "datetime" in reason:
            if not text:
                return _DROP
            if _DATE.fullmatch(text):
                return f"{text}T00:00:00Z"
            if _NAIVE.fullmatch(text):
                return text.replace(" ", "T") + "Z"
            return _UNCLEAR
        if ("`float" in reason or "`int" in reason) and _NUMBER.fullmatch(text) and text != value:
            return text
        return _UNCLEAR
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "`str" in reason:
        return str(value)
    return _UNCLEAR


def _stated_status(status_code: object, response: Response) -> int:
    """The status an error envelope states; with none, the HTTP status (a plain ``APIError``)."""
    return status_code if is_error_status(status_code) else response.status  # type: ignore[return-value]


def _decode_error(
    request: Request, response: Response, message: str, *, transient: bool = False
) -> DecodeError:
    return DecodeError(
        message,
        method=request.method,
        url=request.url,
        status=response.status,
        body_excerpt=excerpt(scrubbed(request, response.body)),
        transient=transient,
    )
