"""Checkpoint yields: the limit on how many one attempt may make, and how they are merged."""

from __future__ import annotations

from typing import Any

from tasker_ctl.engine.timestamps import now_text

MAX_CHECKPOINT_YIELDS = 10_000
CHECKPOINT_LIMIT = "checkpoint_limit"


def merged_checkpoint(previous: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    history = list((previous or {}).get("history", []))
    history.append({"cursor": new.get("cursor"), "items_processed": new.get("items_processed")})
    return {**new, "timestamp": now_text(), "history": history}
