"""What a client has done: mutable counters inside, an immutable snapshot outside."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ._exceptions import APIError, ParenError, RateLimitError, TimeoutError

__all__ = ["ClientStatistics", "Counters", "retry_reason"]

logger = logging.getLogger("paren_async")


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
    #: Seconds all requests were held back by a server's rate limit (shared cooldown).
    cooldown_seconds: float = 0.0
    #: Current limit on requests in flight across the client (shrinks on 429/503, grows back).
    window: int = 0
    #: Page boundaries where the collection was seen to change during a walk.
    drift_events: int = 0
    #: Records dropped because a shift had already yielded them (inserts before the cursor).
    duplicates_dropped: int = 0
    #: Records a shift had skipped (removals before the cursor) that a re-read recovered.
    records_recovered: int = 0
    #: Drift events too large to repair: records may have been skipped there.
    unrecovered_drift: int = 0


def retry_reason(error: ParenError) -> str:
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, APIError):
        return str(error.status)
    return "transport"


class Counters:
    __slots__ = (
        "drift_events",
        "duplicates_dropped",
        "failures",
        "rate_limited",
        "records_recovered",
        "requests",
        "retries_by_reason",
        "unrecovered_drift",
    )

    def __init__(self) -> None:
        self.requests = 0
        self.failures = 0
        self.rate_limited = 0
        self.retries_by_reason: Counter[str] = Counter()
        self.drift_events = 0
        self.duplicates_dropped = 0
        self.records_recovered = 0
        self.unrecovered_drift = 0

    def record_drift(
        self, offset: int, *, duplicates: int = 0, recovered: int = 0, complete: bool = True
    ) -> None:
        self.drift_events += 1
        self.duplicates_dropped += duplicates
        self.records_recovered += recovered
        if not complete:
            self.unrecovered_drift += 1
            logger.warning(
                "the collection shrank by more than a page near offset %d during the walk: "
                "records there may have been skipped",
                offset,
            )
        else:
            logger.warning(
                "the collection changed near offset %d during the walk: "
                "%d repeated record(s) dropped, %d skipped record(s) recovered",
                offset,
                duplicates,
                recovered,
            )

    def record_error(self, error: ParenError, *, retried: bool) -> None:
        if isinstance(error, RateLimitError):
            self.rate_limited += 1
        if retried:
            self.retries_by_reason[retry_reason(error)] += 1
        else:
            self.failures += 1

    def snapshot(self, *, cooldown_seconds: float, window: int) -> ClientStatistics:
        return ClientStatistics(
            requests=self.requests,
            retries=sum(self.retries_by_reason.values()),
            retries_by_reason=MappingProxyType(dict(self.retries_by_reason)),
            rate_limited=self.rate_limited,
            failures=self.failures,
            cooldown_seconds=cooldown_seconds,
            window=window,
            drift_events=self.drift_events,
            duplicates_dropped=self.duplicates_dropped,
            records_recovered=self.records_recovered,
            unrecovered_drift=self.unrecovered_drift,
        )
