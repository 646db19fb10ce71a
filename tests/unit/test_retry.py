"""The retry policy of reference §4.4: permanent or retry, formula delays, jitter, server delays."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from tasker_ctl.retry import (
    SERVER_DELAY_CEILING_MS,
    RetryDecision,
    RetryPolicy,
    backoff_delay_ms,
    decide,
    fibonacci,
    server_requested_delay_ms,
)

TABLE = {
    "none": [0, 0, 0, 0, 0, 0],
    "linear": [1000, 2000, 3000, 4000, 5000, 6000],
    "exponential": [1000, 2000, 4000, 8000, 16000, 30000],
    "fibonacci": [1000, 1000, 2000, 3000, 5000, 8000],
}
NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("backoff", sorted(TABLE))
def test_formula_delays_match_the_reference_table(backoff: str) -> None:
    policy = RetryPolicy(backoff=backoff, base_ms=1000, cap_ms=30000)
    assert [backoff_delay_ms(policy, n) for n in range(1, 7)] == TABLE[backoff]


def test_fibonacci_starts_one_one() -> None:
    assert [fibonacci(n) for n in range(1, 9)] == [1, 1, 2, 3, 5, 8, 13, 21]


def test_from_mapping_falls_back_on_null_base_and_cap() -> None:
    policy = RetryPolicy.from_mapping(
        {"backoff": "linear", "backoff_base_ms": None, "max_backoff_ms": None, "max_attempts": 5}
    )
    assert (policy.base_ms, policy.cap_ms, policy.max_attempts) == (1000, 30000, 5)
    assert RetryPolicy.from_mapping(None) == RetryPolicy()


@pytest.mark.parametrize("backoff", ["linear", "exponential", "fibonacci"])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_jitter_stays_within_its_spread_and_the_cap(backoff: str, n: int) -> None:
    policy = RetryPolicy(backoff=backoff, base_ms=1000, cap_ms=30000, jitter=0.15)
    plain = TABLE[backoff][n - 1]
    spread = int(plain * 0.15)
    asked: list[tuple[int, int]] = []

    def extreme(low: int, high: int) -> int:
        asked.append((low, high))
        return high if len(asked) % 2 else low

    high = backoff_delay_ms(policy, n, extreme)
    low = backoff_delay_ms(policy, n, extreme)
    assert asked == [(-spread, spread)] * 2
    assert high == min(plain + spread, 30000)
    assert low == max(plain - spread, 0)


def test_jitter_is_off_by_default() -> None:
    def never(low: int, high: int) -> int:
        raise AssertionError("the random source must not be used")

    assert backoff_delay_ms(RetryPolicy(), 3, never) == 4000


def test_retry_after_header_in_seconds() -> None:
    assert server_requested_delay_ms({"headers": {"Retry-After": "7"}}, NOW) == 7000
    assert server_requested_delay_ms({"headers": {"retry-after": 2}}, NOW) == 2000


def test_retry_after_header_as_an_http_date() -> None:
    moment = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert server_requested_delay_ms({"headers": {"Retry-After": moment}}, NOW) == 90_000
    past = format_datetime(NOW - timedelta(seconds=90), usegmt=True)
    assert server_requested_delay_ms({"headers": {"Retry-After": past}}, NOW) == 0


@pytest.mark.parametrize("key", ["retry_after", "retry_after_seconds"])
def test_retry_after_metadata(key: str) -> None:
    assert server_requested_delay_ms({key: 1.5}, NOW) == 1500


@pytest.mark.parametrize(
    "metadata",
    [
        {"retry_after": 10_000},
        {"retry_after_seconds": 3601},
        {"headers": {"Retry-After": "86400"}},
    ],
)
def test_server_delays_are_capped_at_an_hour(metadata: dict[str, object]) -> None:
    assert server_requested_delay_ms(metadata, NOW) == SERVER_DELAY_CEILING_MS == 3_600_000


def test_no_or_unreadable_server_delay() -> None:
    assert server_requested_delay_ms({}, NOW) is None
    assert server_requested_delay_ms({"headers": {"Retry-After": "soon"}}, NOW) is None
    assert server_requested_delay_ms({"retry_after": "5"}, NOW) is None


def _decide(
    policy: RetryPolicy,
    attempts: int = 1,
    *,
    result_retryable: bool = True,
    error_type: str = "handler_error",
    metadata: dict[str, object] | None = None,
    rng: Callable[[int, int], int] | None = None,
) -> RetryDecision:
    return decide(
        policy,
        attempts=attempts,
        result_retryable=result_retryable,
        error_type=error_type,
        metadata=metadata,
        rng=rng,
        now=NOW,
    )


def test_permanent_when_the_result_is_not_retryable() -> None:
    assert _decide(RetryPolicy(), result_retryable=False).permanent


def test_permanent_when_the_policy_says_retryable_false() -> None:
    assert _decide(RetryPolicy(retryable=False)).permanent


def test_permanent_when_attempts_are_used_up() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert not _decide(policy, attempts=2).permanent
    assert _decide(policy, attempts=3).permanent
    assert _decide(RetryPolicy(max_attempts=0), attempts=1).permanent


def test_permanent_when_the_handler_is_not_found() -> None:
    decision = _decide(RetryPolicy(max_attempts=9), error_type="handler_not_found")
    assert decision.permanent


def test_retry_uses_the_formula_for_the_failed_attempt_count() -> None:
    policy = RetryPolicy(backoff="exponential", base_ms=100, cap_ms=5000, max_attempts=5)
    delays = [_decide(policy, attempts=n).delay_ms for n in (1, 2, 3)]
    assert delays == [100, 200, 400]


def test_a_server_delay_wins_over_the_formula_and_gets_no_jitter() -> None:
    policy = RetryPolicy(backoff="exponential", base_ms=100, cap_ms=200, jitter=0.5)

    def never(low: int, high: int) -> int:
        raise AssertionError("no jitter on a server-requested delay")

    decision = _decide(policy, metadata={"retry_after": 2}, rng=never)
    assert (decision.permanent, decision.delay_ms) == (False, 2000)
