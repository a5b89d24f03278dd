"""What a client has done: mutable counters inside, an immutable snapshot outside."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ._exceptions import APIError, ParenError, RateLimitError, TimeoutError

__all__ = ["ClientStatistics", "Counters", "retry_reason"]


@dataclass(frozen=True, slots=True)
class ClientStatistics:
    """A snapshot of a client's activity, from ``ParenClient.statistics()``."""

    #: HTTP requests sent, retries included.
    requests: int = 0
    #: Attempts repeated after a transient failure.
    retries: int = 0
    #: Retries by reason: ``"timeout"``, ``"transport"`` or the HTTP status (``"429"``, ``"503"``).
    retries_by_reason: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    #: Responses with HTTP 429.
    rate_limited: int = 0
    #: Requests that failed for good (retries exhausted or not retryable).
    failures: int = 0


def retry_reason(error: ParenError) -> str:
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, APIError):
        return str(error.status)
    return "transport"


class Counters:
    __slots__ = ("failures", "rate_limited", "requests", "retries_by_reason")

    def __init__(self) -> None:
        self.requests = 0
        self.failures = 0
        self.rate_limited = 0
        self.retries_by_reason: Counter[str] = Counter()

    def record_error(self, error: ParenError, *, retried: bool) -> None:
        if isinstance(error, RateLimitError):
            self.rate_limited += 1
        if retried:
            self.retries_by_reason[retry_reason(error)] += 1
        else:
            self.failures += 1

    def snapshot(self) -> ClientStatistics:
        return ClientStatistics(
            requests=self.requests,
            retries=sum(self.retries_by_reason.values()),
            retries_by_reason=MappingProxyType(dict(self.retries_by_reason)),
            rate_limited=self.rate_limited,
            failures=self.failures,
        )
