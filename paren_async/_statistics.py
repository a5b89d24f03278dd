"""What a client and each of its walks have done: counters inside, immutable snapshots outside.

A walk keeps its own ``WalkStatistics``; the client's ``ClientStatistics`` is the sum over every
walk and request, gathered from the client's event stream by ``Counters``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ._events import BadRecordEvent, DriftEvent, Event, ResponseEvent, RetryEvent
from ._exceptions import APIError, DecodeError, ParenError, TimeoutError

__all__ = ["ClientStatistics", "Counters", "WalkStatistics", "retry_reason"]


@dataclass(frozen=True, slots=True)
class WalkStatistics:
    """One walk's account, from ``stream.statistics()`` or ``pager.statistics()``."""

    #: Records yielded.
    records: int = 0
    #: Pages that yielded records.
    pages: int = 0
    #: Requests the walk asked for (pages, confirmations, drift re-reads, re-fetches); retries
    #: inside one request are counted by ``ClientStatistics.retries``.
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
    #: The walk reached the end of the collection (or ``max_items``) with nothing skipped:
    #: no unrecovered drift and no bad record. False while it runs, and after an error or break.
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


def retry_reason(error: ParenError) -> str:
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, APIError):
        return str(error.status)
    return "decode" if isinstance(error, DecodeError) else "transport"


class Counters:
    """The client-wide sums, kept by subscribing to the client's events."""

    def __init__(self) -> None:
        self.requests = 0
        self.failures = 0
        self.rate_limited = 0
        self.retries_by_reason: Counter[str] = Counter()
        self.drift_events = 0
        self.duplicates_dropped = 0
        self.records_recovered = 0
        self.unrecovered_drift = 0
        self.bad_records = 0

    def __call__(self, event: Event) -> None:
        if isinstance(event, ResponseEvent):
            self.requests += 1
            if event.status == 429:
                self.rate_limited += 1
            if event.error is not None and event.retry_delay is None:
                self.failures += 1
        elif isinstance(event, RetryEvent):
            self.retries_by_reason[retry_reason(event.error)] += 1
        elif isinstance(event, DriftEvent):
            self.drift_events += 1
            self.duplicates_dropped += event.duplicates
            self.records_recovered += event.recovered
            self.unrecovered_drift += not event.complete
        elif isinstance(event, BadRecordEvent):
            self.bad_records += 1

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
            bad_records=self.bad_records,
        )
