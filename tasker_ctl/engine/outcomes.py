"""How a failed attempt's outcome is stored: the error document of an attempt."""

from __future__ import annotations

from typing import Any

from tasker_ctl.handlers.outcome import StepOutcome


def error_json(outcome: StepOutcome) -> dict[str, Any]:
    return {
        "message": outcome.error_message,
        "error_type": outcome.error_type,
        "error_code": outcome.error_code,
        "retryable": outcome.retryable,
        "metadata": outcome.metadata,
    }
