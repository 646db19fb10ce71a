"""Wall-clock times as the store writes them (ISO 8601, milliseconds, ``Z``)."""

from __future__ import annotations

from datetime import UTC, datetime


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def seconds_until(next_retry_at: str | None) -> float:
    if not next_retry_at:
        return 0.0
    moment = datetime.fromisoformat(next_retry_at.replace("Z", "+00:00"))
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())
