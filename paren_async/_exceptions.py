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

Every error raised by a request carries ``method`` and ``url`` (never credentials); one raised
from a walk also carries ``resume``: pass it as ``resume=`` to continue the walk with nothing lost
and nothing repeated, even if records were removed meanwhile.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import msgspec


class ResumePoint(msgspec.Struct, frozen=True, gc=False):
    """Where a walk stopped: pass it as ``locations(resume=point)`` to continue it.

    ``offset`` follows the last record yielded; ``last_ids`` are the ids of the last records
    yielded (at most 8, oldest first). A resumed walk re-reads from half a page before ``offset``
    and skips up to the last of those ids, so up to half a page of records removed or inserted
    meanwhile is neither lost nor repeated. ``msgspec.json.encode(point)`` stores it.
    """

    offset: int
    last_ids: tuple[Any, ...] = ()


class ParenError(Exception):
    """Base of every error raised by paren-async.

    ``method`` and ``url`` (with its query, never credentials) name the failed request, if any;
    ``resume`` is where a failed walk continues (None outside walks); ``attempts`` counts the
    attempts made (1 when not retried); ``transient`` says whether repeating may succeed.
    """

    transient: bool = False

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.resume: ResumePoint | None = None
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
        if self.resume is not None:
            parts.append(f"[resume with offset={self.resume.offset}]")
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

    ``body_excerpt`` holds the body's first few hundred characters. ``transient`` is True for a
    body that is not JSON at all (cut short or garbled in transit): that page is fetched again,
    as after a 5xx, before this error is raised.
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
    """The server answered with an error, as an HTTP status or as an error envelope.

    ``status`` is the HTTP status, or the ``status_code`` of an error envelope that came with
    HTTP 200; ``errors`` is the envelope's ``errors`` list (empty when the body had none).
    """

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
        self.status = status
        self.errors: tuple[str, ...] = tuple(errors)


class RedirectError(APIError):
    """A redirect not followed: to another origin, from https to http, or one too many.

    ``location`` is where it led (the ``Location`` header), its query string removed.
    """

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
        self.location = location


class BadRequestError(APIError):
    """400: the server rejected the parameters."""


class AuthenticationError(APIError):
    """401 or 403: credentials missing, wrong or not allowed for this endpoint."""


class NotFoundError(APIError):
    """404: unknown path (check ``base_url``)."""


class RateLimitError(APIError):
    """429: too many requests; ``retry_after`` is the seconds the server asked us to wait."""

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
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server or a proxy in front of it failed."""


def error_for_status(status: int) -> type[APIError]:
    """The most specific error class for an HTTP status (unknown 4xx: ``APIError``)."""
    if status >= 500:
        return ServerError
    if status in (401, 403):
        return AuthenticationError
    return {400: BadRequestError, 404: NotFoundError, 429: RateLimitError}.get(status, APIError)
