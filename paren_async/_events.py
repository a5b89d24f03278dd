"""One stream of events per client (request, response, retry, page, drift, bad record, walk).

Subscribers (statistics, logging, OpenTelemetry, the user's ``EventHooks``) are called inline, in
order; one that raises is logged and skipped. URLs in events never hold credentials.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Final

from ._exceptions import ParenError
from .models import BadRecord

if TYPE_CHECKING:
    from ._statistics import WalkStatistics

logger: Final = logging.getLogger("paren_async")

#: The walk a task works for: set in the context its fetch tasks are created in.
CURRENT_WALK: Final = contextvars.ContextVar[int | None]("paren_async_walk", default=None)


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """An attempt is about to be sent (after any cooldown, rate limit or window wait)."""

    _hook: ClassVar[str] = "on_request"
    method: str
    url: str
    attempt: int
    #: The page offset, for requests of a walk.
    offset: int | None
    #: Pairs this event with its ``ResponseEvent`` (a sequence number per client).
    exchange: int = 0
    #: The walk the request belongs to (``WalkEvent.walk``), or None.
    walk: int | None = None


@dataclass(frozen=True, slots=True)
class ResponseEvent:
    """An attempt finished: with an HTTP status, or with ``error`` and no status."""

    _hook: ClassVar[str] = "on_response"
    method: str
    url: str
    attempt: int
    offset: int | None
    status: int | None
    #: Seconds from sending to the whole body received (or the failure).
    elapsed: float
    error: ParenError | None
    exchange: int = 0
    walk: int | None = None
    #: Seconds until the request is repeated, or None when it is not (success, or given up).
    retry_delay: float | None = None


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """An attempt failed transiently; the request is repeated after ``delay`` seconds."""

    _hook: ClassVar[str] = "on_retry"
    method: str
    url: str
    attempt: int
    offset: int | None
    delay: float
    error: ParenError


@dataclass(frozen=True, slots=True)
class PageEvent:
    """A walk yielded a page of ``records`` new records starting at ``offset``."""

    _hook: ClassVar[str] = "on_page"
    path: str
    offset: int
    records: int
    #: Seconds since the walk started.
    elapsed: float
    walk: int | None = None


@dataclass(frozen=True, slots=True)
class DriftEvent:
    """The collection changed under a walk near ``offset`` (records inserted or removed).

    ``duplicates`` repeats were dropped and ``recovered`` skipped records were re-read;
    ``complete`` is False when the shift was too large to be sure nothing was skipped.
    """

    _hook: ClassVar[str] = "on_drift"
    path: str
    offset: int
    duplicates: int
    recovered: int
    complete: bool
    walk: int | None = None


@dataclass(frozen=True, slots=True)
class BadRecordEvent:
    """A record the typed model could not take was left out of a walk (``bad_records="skip"``)."""

    _hook: ClassVar[str] = "on_bad_record"
    path: str
    record: BadRecord
    walk: int | None = None


@dataclass(frozen=True, slots=True)
class WalkEvent:
    """A walk started (``statistics`` None) or finished (with its statistics, and any error)."""

    _hook: ClassVar[str] = "on_walk"
    path: str
    walk: int
    statistics: WalkStatistics | None = None
    error: BaseException | None = None


Event = (
    RequestEvent | ResponseEvent | RetryEvent | PageEvent | DriftEvent | BadRecordEvent | WalkEvent
)


class Subscriber:
    """Passes each event to its ``on_*`` attribute named after the event's kind, if not None."""

    __slots__ = ()

    def __call__(self, event: Event) -> None:
        handler = getattr(self, event._hook, None)
        if handler is not None:
            handler(event)


@dataclass(frozen=True, slots=True)
class EventHooks(Subscriber):
    """Callbacks for what a client does; pass as ``ParenClient(hooks=EventHooks(...))``."""

    on_request: Callable[[RequestEvent], object] | None = None
    on_response: Callable[[ResponseEvent], object] | None = None
    on_retry: Callable[[RetryEvent], object] | None = None
    on_page: Callable[[PageEvent], object] | None = None
    on_drift: Callable[[DriftEvent], object] | None = None
    on_bad_record: Callable[[BadRecordEvent], object] | None = None
    on_walk: Callable[[WalkEvent], object] | None = None


class Events:
    """A client's event stream: ``emit`` passes each event to every subscriber, in order; one that
    raises is logged and skipped, as a metrics bug must not break a harvest."""

    def __init__(self, *subscribers: Callable[[Event], object]) -> None:
        self._subscribers = subscribers

    def emit(self, event: Event) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:
                logger.exception("a paren_async event hook raised; the client carries on")
