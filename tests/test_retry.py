"""The retry decision: what is retried, how long to wait, when to give up."""

from __future__ import annotations

import pytest

from paren_async import (
    AuthenticationError,
    BadRequestError,
    DecodeError,
    NotFoundError,
    ParenError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    TimeoutError,
    TransportError,
    UsageError,
)
from paren_async._retry import retry_delay

POLICY = RetryPolicy(
    max_attempts=5, base_delay=1.0, max_delay=8.0, max_retry_after=30.0, budget=100.0
)


def delay(
    error: ParenError,
    *,
    attempt: int = 1,
    elapsed: float = 0.0,
    policy: RetryPolicy | None = POLICY,
) -> float | None:
    return retry_delay(policy, error, attempt=attempt, elapsed=elapsed, random=lambda: 1.0)


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(TransportError("reset"), id="connection"),
        pytest.param(TimeoutError("slow"), id="timeout"),
        pytest.param(RateLimitError("429"), id="429"),
        *(pytest.param(ServerError("5xx", status=s), id=str(s)) for s in (500, 502, 503, 504)),
    ],
)
def test_transient_failures_are_retried(error: ParenError) -> None:
    """Connection errors, timeouts, 429 and 500/502/503/504 are retried."""
    assert delay(error) is not None


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(BadRequestError("x", status=400), id="400"),
        pytest.param(AuthenticationError("x", status=401), id="401"),
        pytest.param(AuthenticationError("x", status=403), id="403"),
        pytest.param(NotFoundError("x", status=404), id="404"),
        pytest.param(ServerError("x", status=501), id="501"),
        pytest.param(DecodeError("x"), id="decode"),
    ],
)
def test_permanent_failures_are_not_retried(error: ParenError) -> None:
    """Statuses a retry cannot change are raised at once."""
    assert delay(error) is None


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    """With jitter at its maximum the delay doubles per attempt until max_delay."""
    error = ServerError("x", status=503)
    assert [delay(error, attempt=a) for a in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    big = RetryPolicy(max_attempts=20, base_delay=1.0, max_delay=8.0)
    assert delay(error, attempt=10, policy=big) == 8.0


def test_jitter_is_full() -> None:
    """Full jitter: the delay is the random fraction times the exponential bound."""
    error = ServerError("x", status=503)
    assert retry_delay(POLICY, error, attempt=3, elapsed=0, random=lambda: 0.25) == 1.0


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [pytest.param(3.0, 3.0, id="honoured"), pytest.param(600.0, 30.0, id="capped")],
)
def test_retry_after_replaces_backoff(retry_after: float, expected: float) -> None:
    """A 429's Retry-After is waited out exactly, up to max_retry_after."""
    assert delay(RateLimitError("x", retry_after=retry_after)) == expected


def test_attempts_are_bounded() -> None:
    """No retry once max_attempts attempts have been made."""
    error = TransportError("x")
    assert delay(error, attempt=4) is not None
    assert delay(error, attempt=5) is None


def test_budget_bounds_total_time() -> None:
    """No retry whose wait would end past the time budget."""
    assert delay(TransportError("x"), elapsed=99.5) is None
    assert delay(TransportError("x"), elapsed=90.0) is not None


def test_no_policy_means_no_retry() -> None:
    """retry=None disables retrying altogether."""
    assert delay(TransportError("x"), policy=None) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"max_attempts": 0}, id="zero-attempts"),
        pytest.param({"max_attempts": 1.5}, id="float-attempts"),
        pytest.param({"base_delay": -1}, id="negative-delay"),
        pytest.param({"budget": 0}, id="zero-budget"),
    ],
)
def test_invalid_policies_are_refused(kwargs: dict[str, object]) -> None:
    """A policy that cannot mean anything sensible is a UsageError at construction."""
    with pytest.raises(UsageError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
