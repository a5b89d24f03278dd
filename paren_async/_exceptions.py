"""The one error tree of paren-async.

::

    ParenError                      every error this library raises
    ├── UsageError (ValueError)     the caller's mistake, found before anything is sent
    │   └── ClientClosedError       the client was closed and refuses reuse
    ├── TransportError              no usable HTTP response: connection refused/reset, TLS...
    │   └── TimeoutError            ...or no response in time (also a builtin TimeoutError)
    ├── DecodeError                 a response body that is not the JSON it should be
    │   └── RecordError             one record the typed model cannot take (``bad_records="raise"``)
    ├── PaginationError             the server broke the paging contract (e.g. ignores offset)
    └── APIError                    the server answered with an error status or error envelope
        ├── RedirectError           3xx we will not follow (other host, https to http, a loop)
        ├── BadRequestError         400
        ├── AuthenticationError     401, 403
        ├── NotFoundError           404
        ├── RateLimitError          429, with ``retry_after``
        └── ServerError             5xx (whatever the body: envelope, HTML or empty)

Every error raised by a request carries ``method`` and ``url`` (never credentials); every error
raised from a walk also carries ``resume`` (a ``ResumePoint``): pass it as ``resume=`` to continue
the walk with nothing lost and nothing repeated, even if records were removed meanwhile.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import msgspec

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "DecodeError",
    "NotFoundError",
    "PaginationError",
    "ParenError",
    "RateLimitError",
    "RecordError",
    "RedirectError",
    "ResumePoint",
    "ServerError",
    "TimeoutError",
    "TransportError",
    "UsageError",
    "error_for_status",
]


class ResumePoint(msgspec.Struct, frozen=True, gc=False):
    """Where a walk stopped: pass it as ``locations(resume=point)`` to continue it.

    ``offset`` is the offset just after the last record yielded; ``last_ids`` are the ids of the
    last records yielded (at most 8, oldest first). A resumed walk re-reads from half a page
    before ``offset`` and skips up to the last of those ids, so records removed or inserted
    before the point while the walk was stopped (up to half a page) neither get lost nor
    repeat. It is a plain msgspec Struct: ``msgspec.json.encode(point)`` stores it.
    """

    offset: int
    last_ids: tuple[Any, ...] = ()


class ParenError(Exception):
    """Base of every error raised by paren-async."""

    #: HTTP method of the request that failed, when a request was involved.
    method: str | None
    #: URL of the request that failed, with its query; never contains credentials.
    url: str | None
    #: Where the failed walk can be resumed (``locations(resume=...)``); None outside walks.
    resume: ResumePoint | None
    #: How many attempts were made before giving up (1 when not retried).
    attempts: int
    #: Whether repeating the same request may succeed (a reset connection, a garbled body).
    transient: bool = False

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.resume = None
        self.attempts = 1

    @property
    def resume_offset(self) -> int | None:
        """``resume.offset``: the plain offset to continue from (``locations(offset=...)``)."""
        return None if self.resume is None else self.resume.offset

    def __str__(self) -> str:
        parts = [self.message]
        if self.method and self.url:
            parts.append(f"({self.method} {self.url})")
        if self.attempts > 1:
            parts.append(f"after {self.attempts} attempts")
        if self.resume_offset is not None:
            parts.append(f"[resume with offset={self.resume_offset}]")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class UsageError(ParenError, ValueError):
    """The caller asked for something invalid; nothing was sent."""


class ClientClosedError(UsageError):
    """The client was closed; create a new one."""


class TransportError(ParenError):
    """No usable HTTP response arrived (connection refused or reset, TLS, truncated body).

    ``transient`` is False for failures a retry cannot change (an invalid URL, TLS spoken to a
    plain-HTTP port, a body in an unsupported ``Content-Encoding``): those are not retried.
    """

    transient = True

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        transient: bool = True,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.transient = transient


class TimeoutError(TransportError, builtins.TimeoutError):  # deliberately shadows the builtin
    """No response arrived within the configured timeout."""


class DecodeError(ParenError):
    """The response body is not the JSON it should be (truncated, HTML, wrong types).

    ``transient`` is True for a body that is not valid JSON at all (cut short or garbled in
    transit): such a page is fetched again, as after a 5xx, before this error is raised.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        status: int | None = None,
        body_excerpt: str = "",
        transient: bool = False,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status = status
        #: The first few hundred characters of the body, for diagnosis.
        self.body_excerpt = body_excerpt
        self.transient = transient


class RecordError(DecodeError):
    """One record the typed model cannot take, raised only under ``bad_records="raise"``.

    ``record`` is the ``BadRecord``: its offset, id, JSON path, reason and raw bytes.
    """

    def __init__(self, message: str, *, record: Any, method: str | None, url: str | None) -> None:
        super().__init__(message, method=method, url=url, status=200)
        self.record = record


class PaginationError(ParenError):
    """The server broke the paging contract, e.g. it returned the same page for two offsets."""


class APIError(ParenError):
    """The server answered with an error, as an HTTP status or as an error envelope."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        errors: Sequence[str] = (),
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        #: HTTP status, or the ``status_code`` of an error envelope that came with HTTP 200.
        self.status = status
        #: The ``errors`` list of the error envelope (empty when the body had none).
        self.errors: tuple[str, ...] = tuple(errors)


class RedirectError(APIError):
    """A redirect that was not followed: it leads to another origin or downgrades to http."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        location: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, status=status, method=method, url=url)
        #: Where the server wanted to send us (``Location``), query string removed.
        self.location = location


class BadRequestError(APIError):
    """400: the server rejected the parameters."""


class AuthenticationError(APIError):
    """401 or 403: credentials missing, wrong or not allowed for this endpoint."""


class NotFoundError(APIError):
    """404: unknown path (check ``base_url``)."""


class RateLimitError(APIError):
    """429: too many requests."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 429,
        errors: Sequence[str] = (),
        method: str | None = None,
        url: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, errors=errors, method=method, url=url)
        #: Seconds the server asked us to wait (``Retry-After``), if it said.
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server or a proxy in front of it failed."""


_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    429: RateLimitError,
}


def error_for_status(status: int) -> type[APIError]:
    """The most specific error class for an HTTP status (unknown 4xx: ``APIError``)."""
    if status >= 500:
        return ServerError
    return _STATUS_CLASSES.get(status, APIError)
