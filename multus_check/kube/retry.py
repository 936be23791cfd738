"""Which API failures are worth another try, and for how long (tenacity).

Only transient failures are retried: a connection reset or dropped mid-answer, 429 Too Many
Requests (waiting as long as the server's Retry-After asks, within the budget) and 5xx. A
verdict is never retried: 4xx other than 429 is an answer, and so is a refused connection.
Both the number of attempts and the total time are bounded.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass

import tenacity

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds for retrying one API request."""

    attempts: int = 5
    total_seconds: float = 30.0
    first_wait: float = 0.2
    max_wait: float = 5.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.total_seconds < 0 or self.first_wait < 0 or self.max_wait < 0:
            raise ValueError("retry bounds must be positive")


class TransientError(Exception):
    """A failure worth retrying; `retry_after` is the server's wish in seconds, if it said one."""

    def __init__(self, message: str, status: int = 0, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _WaitRetryAfterOrBackoff(tenacity.wait.wait_base):
    """Wait what the server asked for (capped), else exponential backoff with jitter."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.backoff = tenacity.wait_exponential_jitter(
            multiplier=policy.first_wait, max=policy.max_wait, jitter=policy.first_wait
        )

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return min(exc.retry_after, self.policy.max_wait)
        return float(self.backoff(retry_state))


def retrying(policy: RetryPolicy) -> tenacity.Retrying:
    """A tenacity controller that retries `TransientError` only, within the policy's bounds."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(TransientError),
        stop=tenacity.stop_after_attempt(policy.attempts) | tenacity.stop_before_delay(policy.total_seconds),
        wait=_WaitRetryAfterOrBackoff(policy),
        reraise=True,
    )
