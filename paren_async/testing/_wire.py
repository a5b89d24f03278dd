"""Bytes on the wire: envelopes, proxy pages and query validation, as pure functions.

A success body is assembled by joining already-encoded records into the envelope, never by
encoding a page: a page costs microseconds however large the dataset.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Mapping, Sequence
from typing import Final

import msgspec

from ._records import utc_iso

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "compress",
    "error_body",
    "html_page",
    "paging",
    "success_body",
]

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 100
# Level 1 keeps the server ahead of the client's decompression; it still shrinks pages ~6x.
_GZIP_LEVEL: Final = 1
_DIGITS: Final = re.compile(r"[0-9]{1,18}")
_ENCODE: Final = msgspec.json.encode


def timestamp(epoch: float) -> bytes:
    return utc_iso(epoch, micros=True).encode()


def success_body(records: Sequence[bytes], *, duration_ms: int, now: float) -> bytes:
    """The documented success envelope, key order as in Paren's reference."""
    return b"".join(
        (
            b'{"data":[',
            b",".join(records),
            b'],"duration":"%dms","status_code":200,"status_message":"Success","timestamp":"'
            % duration_ms,
            timestamp(now),
            b'"}',
        )
    )


def error_body(status: int, message: str, *, now: float) -> bytes:
    """The documented error envelope: ``errors``, ``status_code``, ``timestamp`` only."""
    return _ENCODE(
        {"errors": [message], "status_code": status, "timestamp": utc_iso(now, micros=True)}
    )


def html_page(status: int, reason: str) -> bytes:
    """An nginx-style HTML error page, what a proxy in front of an API really sends."""
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


MAINTENANCE_PAGE: Final = (
    b"<!DOCTYPE html><html><head><title>Paren - Scheduled maintenance</title></head>"
    b"<body><h1>We'll be right back</h1><p>Paren is undergoing scheduled maintenance.</p>"
    b"</body></html>"
)


def paging(query: Mapping[str, str]) -> tuple[int, int] | str:
    """``(limit, offset)`` from the query, or the 400 message naming the bad parameter."""
    limit, offset = DEFAULT_LIMIT, 0
    text = query.get("limit")
    if text is not None:
        if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= MAX_LIMIT:
            return f"Invalid 'limit' parameter {text!r}: must be an integer from 1 to {MAX_LIMIT}"
        limit = int(text)
    text = query.get("offset")
    if text is not None:
        if not _DIGITS.fullmatch(text):
            return f"Invalid 'offset' parameter {text!r}: must be an integer >= 0"
        offset = int(text)
    return limit, offset


def compress(body: bytes) -> bytes:
    # mtime=0: the same page compresses to the same bytes, so runs stay byte-identical.
    return gzip.compress(body, compresslevel=_GZIP_LEVEL, mtime=0)
