"""Pure page decoding: a response to a ``Page``, one bad record costing only itself.

The typed decoder reads the whole envelope in one call; only when that fails are the records
decoded one by one, each failing value repaired where its meaning is clear (``paren-api.md``
section 7) at the JSON path msgspec names, and a record still undecodable becomes a ``BadRecord``.
A body declared in another charset is transcoded to UTF-8 first, so typed and raw paths agree.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Generic, TypeVar

import msgspec

from . import _http
from ._exceptions import APIError, DecodeError, RecordError, UsageError
from ._http import Envelope, Request, Response
from .models import BadRecord, Page

T = TypeVar("T")

_MAX_REPAIRS: Final = 16  # per record; each repair fixes one value
_CHARSET: Final = re.compile(r"charset\s*=\s*\"?([\w.:-]+)", re.IGNORECASE)
_PATH: Final = re.compile(r" - at `(\$[^`]*)`$")
_MISSING: Final = re.compile(r"missing required field `([^`]+)`")
_STEP: Final = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_NUMBER: Final = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NAIVE: Final = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?")
_DROP: Final = object()


class _IdOnly(msgspec.Struct, gc=False):
    id: object = None


_ID_ONLY: Final = msgspec.json.Decoder(_IdOnly)


def raw_id(record: bytes | msgspec.Raw) -> object:
    """A raw record's ``id``, or None when it has none or is not a JSON object."""
    try:
        return _hashable(_ID_ONLY.decode(record).id)
    except (msgspec.DecodeError, RecursionError):
        return None


def _hashable(value: object) -> object:
    """An id as sent, or its JSON text when it is an object or array (ids are compared in sets)."""
    return msgspec.json.encode(value).decode() if isinstance(value, (list, dict)) else value


@dataclass(frozen=True)
class Codec(Generic[T]):
    """The decoders of one record type, built once: compiling a type costs more than a page."""

    page: msgspec.json.Decoder[Envelope[T]]
    record: msgspec.json.Decoder[T] | None


RAW: Final[Codec[msgspec.Raw]] = Codec(msgspec.json.Decoder(Envelope[msgspec.Raw]), None)


@cache
def codec_for(model: type[T]) -> Codec[T]:
    """The codec of a msgspec Struct type (numbers as strings accepted: ``strict=False``)."""
    return Codec(
        msgspec.json.Decoder(Envelope[model], strict=False),  # type: ignore[valid-type]
        msgspec.json.Decoder(model, strict=False),
    )


def decode_record(raw: bytes | msgspec.Raw, model: type[T]) -> T:
    """One record's JSON as ``model`` (a Struct such as ``Location``), as leniently as walks do.

    Still undecodable after repair: ``RecordError``, whose ``record`` is the ``BadRecord``.
    """
    if not isinstance(raw, (bytes, msgspec.Raw)):
        raise UsageError(f"decode_record takes a record's JSON bytes, got {type(raw).__name__}")
    decoder: msgspec.json.Decoder[T] | None = codec_for(model).record  # type: ignore[arg-type]
    assert decoder is not None
    result = _decode_leniently(raw, decoder)
    if isinstance(result, BadRecord):
        message = f"record {result.id!r} cannot be decoded: {result.reason}"
        raise RecordError(message, record=result, method=None, url=None)
    return result


def utf8_body(request: Request, response: Response) -> bytes:
    """The body as UTF-8: transcoded from the charset ``Content-Type`` declares, if another."""
    match = _CHARSET.search(_http.header(response.headers, "Content-Type") or "")
    if match is None:
        return response.body
    try:
        charset = codecs.lookup(match[1]).name
    except LookupError:
        message = f"response declares an unknown charset {match[1]!r}"
        raise _decode_error(request, response, message) from None
    try:
        return response.body if charset == "utf-8" else response.body.decode(charset).encode()
    except UnicodeDecodeError as exc:
        raise _decode_error(request, response, f"body is not valid {charset}: {exc}") from None


def decode_page(
    request: Request, response: Response, codec: Codec[T], *, offset: int, limit: int, now: float
) -> Page[T]:
    """A page from a response, or the typed error the response states.

    An error status raises the matching ``APIError``; so does an error envelope (or a
    ``status_code`` >= 400) that arrived with HTTP 200. A body that is not JSON raises a transient
    ``DecodeError`` (the walk fetches it again); one that is JSON but not an envelope raises a
    permanent one. Records the model rejects go to ``Page.rejected``, never fail the page.
    """
    if not 200 <= response.status < 300:
        raise _http.decipher_error(request, response, now=now)
    body = utf8_body(request, response)
    rejected: list[BadRecord] = []
    try:
        envelope: Envelope[Any] = codec.page.decode(body)
    except (msgspec.DecodeError, RecursionError):
        envelope = _raw_envelope(request, response, body)
        if envelope.data is not None and codec.record is not None:
            items = []
            for index, raw in enumerate(envelope.data):
                record = _decode_leniently(raw, codec.record)
                if isinstance(record, BadRecord):
                    rejected.append(msgspec.structs.replace(record, offset=offset + index))
                else:
                    items.append(record)
            envelope = msgspec.structs.replace(envelope, data=tuple(items))
    if envelope.data is None or envelope.errors or _http.is_error_status(envelope.status_code):
        raise _refusal(request, response, body, "success envelope without a 'data' array")
    return Page(
        offset=offset,
        limit=limit,
        items=envelope.data,
        duration=_http.parse_duration(envelope.duration),
        timestamp=_http.parse_timestamp(envelope.timestamp),
        rejected=tuple(rejected),
    )


def _raw_envelope(request: Request, response: Response, body: bytes) -> Envelope[msgspec.Raw]:
    """The envelope with raw records, after the typed decode failed; or why there is none."""
    try:
        return RAW.page.decode(body)
    except msgspec.ValidationError as exc:
        raise _refusal(request, response, body, f"unexpected response shape: {exc}") from None
    except RecursionError:  # msgspec's guard against pathological nesting
        raise _decode_error(request, response, "response JSON is nested too deeply") from None
    except msgspec.DecodeError as exc:  # cut short or garbled in transit: fetched again
        message = f"response is not valid JSON: {exc}"
        raise _decode_error(request, response, message, transient=True) from None


def _refusal(request: Request, response: Response, body: bytes, why: str) -> APIError | DecodeError:
    """The error a 2xx envelope states (``errors``, error ``status_code``), else a DecodeError."""
    errors, status_code = _http.error_messages(_http.scrubbed(request, body))
    if _http.is_error_status(status_code):
        return _http.make_api_error(request, status_code, errors)  # type: ignore[arg-type]
    if errors:
        return _http.make_api_error(request, response.status, errors)
    return _decode_error(request, response, why)


def _decode_leniently(raw: bytes | msgspec.Raw, decoder: msgspec.json.Decoder[T]) -> T | BadRecord:
    """The record decoded, after lenient repairs if needed, or a ``BadRecord`` saying why not.

    Repairs, each where msgspec names the failing value: ``null`` where an object or array
    belongs is dropped (so the field takes its default, or the list loses the null); a number
    sent as a string with spaces is stripped; a number where a string belongs becomes the string;
    an empty timestamp is dropped, a bare date is midnight UTC, a zone-less timestamp is UTC.
    """
    try:
        return decoder.decode(raw)
    except (msgspec.DecodeError, RecursionError) as exc:
        reason = str(exc)
    raw = bytes(raw)
    try:
        tree = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):  # not JSON msgspec can hold (1e400, bad UTF-8)
        return BadRecord(offset=0, id=raw_id(raw), path=_path_of(reason), reason=reason, raw=raw)
    for _ in range(_MAX_REPAIRS):
        if not _repair_at(tree, reason):
            break
        try:
            return decoder.decode(msgspec.json.encode(tree))
        except (msgspec.ValidationError, RecursionError) as exc:
            reason = str(exc)
    record_id = _hashable(tree.get("id")) if isinstance(tree, dict) else None  # as repaired
    return BadRecord(offset=0, id=record_id, path=_path_of(reason), reason=reason, raw=raw)


def _path_of(reason: str) -> str:
    if match := _PATH.search(reason):
        return match[1]
    missing = _MISSING.search(reason)  # "Object missing required field `id`" names no path
    return f"$.{missing[1]}" if missing else "$"


def _repair_at(tree: Any, reason: str) -> bool:
    """Fix in place the one value ``reason`` names, if its meaning is clear."""
    steps = [key or int(index) for key, index in _STEP.findall(_path_of(reason)[1:])]
    if not steps:
        return False
    parent = tree
    try:
        for step in steps[:-1]:
            parent = parent[step]
        fixed = _fixed(parent[steps[-1]], reason)
    except (KeyError, IndexError, TypeError):
        return False
    if fixed is _DROP:
        del parent[steps[-1]]
    elif fixed is not None:
        parent[steps[-1]] = fixed
    return fixed is not None


def _fixed(value: object, reason: str) -> object:
    """The value meant, ``_DROP`` to remove it, or None when the meaning is unclear."""
    if value is None:
        return _DROP if "got `null`" in reason else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value) if "`str" in reason else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if "datetime" in reason:
        match = _NAIVE.fullmatch(text)
        return f"{match[1]}T{match[2] or '00:00:00'}Z" if match else (None if text else _DROP)
    is_number = ("`float" in reason or "`int" in reason) and _NUMBER.fullmatch(text)
    return text if is_number and text != value else None


def _decode_error(
    request: Request, response: Response, message: str, *, transient: bool = False
) -> DecodeError:
    return DecodeError(
        message,
        method=request.method,
        url=request.url,
        status=response.status,
        body_excerpt=_http.excerpt(_http.scrubbed(request, response.body)),
        transient=transient,
    )
