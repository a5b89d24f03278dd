"""The retry decision: a pure function of the policy, the failure and the time spent so far."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ._config import RetryPolicy
from ._exceptions import DecodeError, ParenError, RateLimitError, ServerError, TransportError

#: Statuses worth repeating a GET for; 501 and 505 state something a retry will not change.
RETRIED_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


def is_retryable(error: ParenError) -> bool:
    """Transient failures only: the same request may well succeed a moment later."""
    if isinstance(error, (TransportError, DecodeError)):
        return error.transient
    return isinstance(error, (RateLimitError, ServerError)) and error.status in RETRIED_STATUSES


def retry_delay(
    policy: RetryPolicy | None,
    error: ParenError,
    *,
    attempt: int,
    elapsed: float,
    random: Callable[[], float],
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or None to give up and raise ``error``.

    ``attempt`` counts the attempts made so far, ``elapsed`` the seconds since the first began.
    Backoff is exponential with full jitter (AWS architecture blog, "Exponential Backoff And
    Jitter"); a ``Retry-After`` replaces it, capped.
    """
    if policy is None or attempt >= policy.max_attempts or not is_retryable(error):
        return None
    if isinstance(error, RateLimitError) and error.retry_after is not None:
        delay = min(error.retry_after, policy.max_retry_after)
    else:
        delay = random() * min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
    if policy.budget is not None and elapsed + delay > policy.budget:
        return None
    return delay
