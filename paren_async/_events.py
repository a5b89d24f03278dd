"""Events a client emits, and the user's hooks that receive them.

Hooks are plain synchronous callables, called inline once per event; keep them quick. An
exception in a hook is logged and swallowed: a metrics bug must not break a harvest. URLs in
events never contain credentials (they never do anywhere in paren-async).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from ._exceptions import ParenError

__all__ = ["EventHooks", "PageEvent", "RequestEvent", "ResponseEvent", "RetryEvent"]

logger: Final = logging.getLogger("paren_async")

E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """An attempt is about to be sent (after any cooldown, rate limit or window wait)."""

    method: str
    url: str
    attempt: int
    #: The page offset, for requests of a walk.
    offset: int | None


@dataclass(frozen=True, slots=True)
class ResponseEvent:
    """An attempt finished: with an HTTP status, or with ``error`` and no status."""

    method: str
    url: str
    attempt: int
    offset: int | None
    status: int | None
    #: Seconds from sending to the whole body received (or the failure).
    elapsed: float
    error: ParenError | None


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """An attempt failed transiently; the request is repeated after ``delay`` seconds."""

    method: str
    url: str
    attempt: int
    offset: int | None
    delay: float
    error: ParenError


@dataclass(frozen=True, slots=True)
class PageEvent:
    """A walk yielded a page of ``records`` new records starting at ``offset``."""

    path: str
    offset: int
    records: int
    #: Seconds since the walk started.
    elapsed: float


@dataclass(frozen=True, slots=True)
class EventHooks:
    """Callbacks for what a client does; pass as ``ParenClient(hooks=EventHooks(...))``."""

    on_request: Callable[[RequestEvent], object] | None = None
    on_response: Callable[[ResponseEvent], object] | None = None
    on_retry: Callable[[RetryEvent], object] | None = None
    on_page: Callable[[PageEvent], object] | None = None


def emit(hook: Callable[[E], object] | None, make_event: Callable[[], E]) -> None:
    """Call ``hook`` with the event, built only when there is a hook to receive it."""
    if hook is None:
        return
    try:
        hook(make_event())
    except Exception:
        logger.exception("a paren_async event hook raised; the client carries on")
