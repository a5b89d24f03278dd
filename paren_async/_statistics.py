"""What a client and each of its walks have done: counters inside, immutable snapshots outside."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ._events import BadRecordEvent, DriftEvent, ResponseEvent, RetryEvent, Subscriber
from ._exceptions import APIError, DecodeError, ParenError, TimeoutError


@dataclass(frozen=True, slots=True)
class WalkStatistics:
    """One walk's account, from ``stream.statistics()`` or ``pager.statistics()``."""

    #: Records yielded.
    records: int = 0
    #: Pages that yielded records.
    pages: int = 0
    #: Requests the walk asked for (pages, confirmations, re-reads), not counting their retries.
    requests: int = 0
    #: Page boundaries where the collection was seen to change during the walk.
    drift_events: int = 0
    #: Records dropped because a shift had already yielded them (inserts before the cursor).
    duplicates_dropped: int = 0
    #: Records a shift had skipped (removals before the cursor) that a re-read recovered.
    records_recovered: int = 0
    #: Drift events too large to repair: records may have been skipped there.
    unrecovered_drift: int = 0
    #: Records left out because the typed model could not take them (``Page.rejected``).
    bad_records: int = 0
    #: Reached the end (or ``max_items``) with no unrecovered drift and no bad record; False while
    #: it runs, and after an error or a break.
    complete: bool = False


@dataclass(frozen=True, slots=True)
class ClientStatistics:
    """A snapshot of a client's activity, from ``ParenClient.statistics()``."""

    #: HTTP requests sent, retries included.
    requests: int = 0
    #: Attempts repeated after a transient failure.
    retries: int = 0
    #: Retries by reason: ``"timeout"``, ``"transport"``, ``"decode"`` or the HTTP status.
    retries_by_reason: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    #: Responses with HTTP 429.
    rate_limited: int = 0
    #: Requests that failed for good (retries exhausted or not retryable).
    failures: int = 0
    #: Seconds all requests were held back by a server's rate limit (shared cooldown).
    cooldown_seconds: float = 0.0
    #: Current limit on requests in flight across the client (shrinks on 429/503, grows back).
    window: int = 0
    #: The sums over every walk of the client (see ``WalkStatistics``).
    drift_events: int = 0
    duplicates_dropped: int = 0
    records_recovered: int = 0
    unrecovered_drift: int = 0
    bad_records: int = 0


def _retry_reason(error: ParenError) -> str:
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, APIError):
        return str(error.status)
    return "decode" if isinstance(error, DecodeError) else "transport"


class Counters(Subscriber):
    """The client-wide sums, kept from its events under the names of ``ClientStatistics``."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.retries_by_reason: Counter[str] = Counter()

    def on_response(self, event: ResponseEvent) -> None:
        counts = self.counts  # once per request: plain increments, not Counter.update(**...)
        counts["requests"] += 1
        if event.status == 429:
            counts["rate_limited"] += 1
        if event.error is not None and event.retry_delay is None:
            counts["failures"] += 1

    def on_retry(self, event: RetryEvent) -> None:
        self.retries_by_reason[_retry_reason(event.error)] += 1

    def on_drift(self, event: DriftEvent) -> None:
        self.counts.update(
            drift_events=1,
            duplicates_dropped=event.duplicates,
            records_recovered=event.recovered,
            unrecovered_drift=not event.complete,
        )

    def on_bad_record(self, event: BadRecordEvent) -> None:
        self.counts["bad_records"] += 1

    def snapshot(self, *, cooldown_seconds: float, window: int) -> ClientStatistics:
        reasons = MappingProxyType(dict(self.retries_by_reason))
        return ClientStatistics(
            **self.counts,
            retries=sum(reasons.values()),
            retries_by_reason=reasons,
            cooldown_seconds=cooldown_seconds,
            window=window,
        )
