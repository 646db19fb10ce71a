"""Wall-clock times as the store writes them (ISO 8601, milliseconds, ``Z``)."""

from __future__ import annotations

from datetime import UTC, datetime

from tasker_ctl.store.connection import utc_now

now_text = utc_now  # the store's clock text: transitions and their events carry the same time


def seconds_until(next_retry_at: str | None) -> float:
    if not next_retry_at:
        return 0.0
    moment = datetime.fromisoformat(next_retry_at.replace("Z", "+00:00"))
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())
