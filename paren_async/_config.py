"""Frozen option values and their defaults, and the checks of caller-supplied values.

``None`` switches a feature off (``retry=None``, ``Timeout(read=None)``); ``0`` is never a magic
"off"; a per-walk option left as ``None`` (``concurrency=None``) inherits the client's value.
"""

from __future__ import annotations

import base64
import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from ._exceptions import UsageError

DEFAULT_BASE_URL: Final = "https://api.paren.app"
DEFAULT_CONCURRENCY: Final = 8
DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 100
#: Upper bound for ``concurrency``: past ~32 pages in flight decoding saturates a core anyway.
MAX_CONCURRENCY: Final = 64
#: Bodies larger than this are refused (``DecodeError``) instead of exhausting memory.
DEFAULT_MAX_RESPONSE_SIZE: Final = 64 * 1024 * 1024
#: Same-origin redirects followed for one request before giving up.
MAX_REDIRECTS: Final = 5
ENV_API_KEY: Final = "PAREN_API_KEY"
ENV_API_SECRET: Final = "PAREN_API_SECRET"
ENV_BASE_URL: Final = "PAREN_BASE_URL"


def _check_seconds(name: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{name} must be a number, got {type(value).__name__}")
    if not (value > 0 and math.isfinite(value)):
        raise UsageError(f"{name} must be a positive finite number of seconds, got {value!r}")


def _check_int(name: str, value: int, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{name} must be an int, got {type(value).__name__}")
    if high is not None and not low <= value <= high:
        raise UsageError(f"{name} must be between {low} and {high}, got {value}")
    if value < low:
        raise UsageError(f"{name} must be >= {low}, got {value}")
    return value


def check_page_size(page_size: int) -> int:
    return _check_int("page_size", page_size, 1, MAX_PAGE_SIZE)


def check_concurrency(concurrency: int) -> int:
    return _check_int("concurrency", concurrency, 1, MAX_CONCURRENCY)


def check_non_negative(name: str, value: int | None) -> int | None:
    return None if value is None else _check_int(name, value, 0)


@dataclass(frozen=True, slots=True)
class Timeout:
    """Per-attempt time limits, in seconds; ``None`` means no limit for that phase.

    ``attempt`` bounds one whole request attempt (connect, send, read the full body); waiting for
    one of the client's own concurrency slots does not count. ``connect`` bounds establishing a
    connection; ``read`` bounds silence between bytes.
    """

    attempt: float | None = 60.0
    connect: float | None = 10.0
    read: float | None = 30.0

    def __post_init__(self) -> None:
        for name in ("attempt", "connect", "read"):
            _check_seconds(f"Timeout.{name}", getattr(self, name))

    @classmethod
    def coerce(cls, value: float | Timeout | None) -> Timeout:
        """Accept the forms users write: a number (per attempt), a ``Timeout``, or ``None``."""
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(attempt=None, connect=None, read=None)
        _check_seconds("timeout", value)
        return cls(attempt=float(value), connect=min(float(value), 10.0), read=float(value))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to wait before repeating a failed GET.

    Retried: connection errors, timeouts, 429 and 500/502/503/504. Never retried: 400, 401, 403,
    404 and undecodable bodies. Delays grow exponentially from ``base_delay`` up to ``max_delay``
    with full jitter; a server's ``Retry-After`` is honoured up to ``max_retry_after``. Retrying
    stops after ``max_attempts`` attempts or once ``budget`` seconds have passed since the first.
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 10.0
    max_retry_after: float = 60.0
    budget: float | None = 120.0

    def __post_init__(self) -> None:
        _check_int("RetryPolicy.max_attempts", self.max_attempts, 1)
        for name in ("base_delay", "max_delay", "max_retry_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise UsageError(f"RetryPolicy.{name} must be a number >= 0, got {value!r}")
        _check_seconds("RetryPolicy.budget", self.budget)


DEFAULT_TIMEOUT: Final = Timeout()
DEFAULT_RETRY: Final = RetryPolicy()


class _Masked(str):
    """A secret string whose repr is masked: tracebacks formatted with locals show '***'."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


def _problem(api_key: object, api_secret: object) -> str | None:
    for name, value in (("api_key", api_key), ("api_secret", api_secret)):
        if not isinstance(value, str) or not value:
            return f"{name} must be a non-empty string"
    if ":" in str(api_key):
        return "api_key must not contain ':' (HTTP Basic separates key and secret)"
    return None


class Credentials:
    """An API key and secret. The secret and the header built from it are never shown."""

    __slots__ = ("_authorization", "api_key")

    def __init__(self, api_key: str, api_secret: str) -> None:
        problem = _problem(api_key, api_secret)
        if problem is not None:
            del api_secret  # a traceback formatted with locals must not show it
            raise UsageError(problem)
        self.api_key = api_key
        self._authorization = _Masked(
            "Basic " + base64.b64encode(f"{api_key}:{api_secret}".encode()).decode("ascii")
        )
        del api_secret

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value. Handle with care: it contains the secret."""
        return self._authorization

    @property
    def headers(self) -> Mapping[str, str]:
        """``{"Authorization": ...}`` with a masked repr, for a transport to send."""
        return {"Authorization": self._authorization}

    def __repr__(self) -> str:
        key = getattr(self, "api_key", None)  # safe on a half-built object (a traceback's locals)
        return f"Credentials(api_key={key!r}, api_secret='***')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Credentials) and other._authorization == self._authorization

    def __hash__(self) -> int:
        return hash(self._authorization)

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("Credentials cannot be pickled: the secret must not leave the process")

    @classmethod
    def resolve(cls, api_key: str | None, api_secret: str | None) -> Credentials | None:
        """Arguments first, then ``PAREN_API_KEY`` / ``PAREN_API_SECRET``; None when unset."""
        key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
        secret = api_secret if api_secret is not None else os.environ.get(ENV_API_SECRET)
        del api_secret
        secret = None if secret is None else _Masked(secret)
        if not key and not secret:
            return None
        if not key or not secret:
            missing = "api_key" if not key else "api_secret"
            del secret
            raise UsageError(
                f"{missing} is missing: pass both api_key and api_secret "
                f"(or set {ENV_API_KEY} and {ENV_API_SECRET})"
            )
        return cls(key, secret)


def _is_loopback(host: str) -> bool:
    try:
        return host.lower() == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_base_url(base_url: str | None, *, allow_insecure_http: bool = False) -> str:
    """Argument first, then ``PAREN_BASE_URL``, then the default host; no trailing slash.

    Plain ``http://`` would send the Basic credentials in clear text, so it is refused unless the
    host is loopback (a local emulator) or the caller opts in with ``allow_insecure_http``.
    """
    url = (base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL).rstrip("/")
    parts = urlsplit(url)
    if "@" in parts.netloc:
        del base_url, url, parts  # a traceback formatted with locals must not show the secret
        raise UsageError("base_url must not contain credentials; pass api_key= and api_secret=")
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise UsageError(f"base_url must be an http:// or https:// URL with a host, got {url!r}")
    if parts.query or parts.fragment:
        raise UsageError("base_url must not have a query or fragment")
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(host):
        raise UsageError(
            f"refusing plain http:// to {host}: Basic auth would send the secret in "
            "clear text. Use https://, or pass allow_insecure_http=True if you must"
        )
    return url
