"""When a failed step is tried again, and after how long (reference §4.4).

Pure functions: the clock and the random source are parameters, so tests never sleep and runs
are deterministic unless jitter is asked for.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

DEFAULT_BASE_MS = 1000
DEFAULT_CAP_MS = 30000
# Server-requested delays are capped globally, as in Tasker, not at the step's own cap.
SERVER_DELAY_CEILING_MS = 3600 * 1000
HANDLER_NOT_FOUND = "handler_not_found"


@dataclass(frozen=True)
class RetryPolicy:
    """What the template says about retrying one step, with Tasker's fallbacks applied."""

    retryable: bool = True
    max_attempts: int = 3
    backoff: str = "exponential"
    base_ms: int = DEFAULT_BASE_MS
    cap_ms: int = DEFAULT_CAP_MS
    jitter: float = 0.0

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> RetryPolicy:
        """From a template's ``retry`` block (as stored); null base and cap fall back."""
        data = data or {}
        base = data.get("backoff_base_ms")
        cap = data.get("max_backoff_ms")
        return cls(
            retryable=bool(data.get("retryable", True)),
            max_attempts=int(data.get("max_attempts", 3)),
            backoff=str(data.get("backoff", "exponential")),
            base_ms=DEFAULT_BASE_MS if base is None else int(base),
            cap_ms=DEFAULT_CAP_MS if cap is None else int(cap),
        )


@dataclass(frozen=True)
class RetryDecision:
    """After a failed attempt: give up (``permanent``), or wait ``delay_ms`` and try again."""

    permanent: bool
    delay_ms: int = 0
    reason: str = ""


def fibonacci(n: int) -> int:
    """F(n) with F(1) = F(2) = 1."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def backoff_delay_ms(
    policy: RetryPolicy, failed_attempts: int, rng: Callable[[int, int], int] | None = None
) -> int:
    """The formula delay before retry number ``failed_attempts`` (n ≥ 1), jitter included."""
    n = max(failed_attempts, 1)
    b, m = policy.base_ms, policy.cap_ms
    if policy.backoff == "none":
        delay = 0
    elif policy.backoff == "linear":
        delay = min(b * n, m)
    elif policy.backoff == "fibonacci":
        delay = min(b * fibonacci(n), m)
    else:
        delay = min(b * 2 ** (n - 1), m)
    spread = math.floor(delay * policy.jitter)
    if spread > 0:
        draw = rng or random.randint
        delay = min(max(delay + draw(-spread, spread), 0), m)
    return delay


def server_requested_delay_ms(
    metadata: Mapping[str, Any], now: datetime | None = None
) -> int | None:
    """A delay the handler passed on from a server: ``Retry-After``, ``retry_after(_seconds)``."""
    seconds: float | None = None
    headers = metadata.get("headers")
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            if str(name).lower() == "retry-after":
                seconds = _retry_after_seconds(value, now or datetime.now(UTC))
    for key in ("retry_after", "retry_after_seconds"):
        if seconds is None and isinstance(metadata.get(key), int | float):
            seconds = float(metadata[key])
    if seconds is None or seconds < 0:
        return None
    return min(int(seconds * 1000), SERVER_DELAY_CEILING_MS)


def _retry_after_seconds(value: Any, now: datetime) -> float | None:
    text = str(value).strip()
    if text.isdigit():
        return float(text)
    import email.utils  # ~4 ms (the email package) that only an HTTP-date Retry-After needs

    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max((moment - now).total_seconds(), 0.0)


def decide(
    policy: RetryPolicy,
    *,
    attempts: int,
    result_retryable: bool,
    error_type: str | None,
    metadata: Mapping[str, Any] | None = None,
    rng: Callable[[int, int], int] | None = None,
    now: datetime | None = None,
) -> RetryDecision:
    """Permanent or retry after ``attempts`` attempts, the last of which failed (§4.4)."""
    if error_type == HANDLER_NOT_FOUND:
        return RetryDecision(True, reason="the handler cannot be found")
    if not result_retryable:
        return RetryDecision(True, reason="the handler marked the failure as not retryable")
    if not policy.retryable:
        return RetryDecision(True, reason="the step's retry policy says retryable: false")
    if attempts >= max(policy.max_attempts, 1):
        return RetryDecision(True, reason=f"all {max(policy.max_attempts, 1)} attempts used")
    requested = server_requested_delay_ms(metadata or {}, now)
    if requested is not None:
        return RetryDecision(False, requested, "delay requested by the handler")
    return RetryDecision(
        False, backoff_delay_ms(policy, attempts, rng), f"{policy.backoff} backoff"
    )
