"""tasker-ctl's handlers in ``bench_peers.py``: plain functions that import nothing, so that a
run measures the engine rather than a handler SDK (the bare loop and doit run the same bodies).
"""

from __future__ import annotations

from typing import Any


def small(context: Any) -> dict[str, Any]:
    """Return a small dict at once."""
    return {"ok": True, "n": 1}


def reads_parents(context: Any) -> dict[str, Any]:
    """Read the result of every parent named in ``initialization.parents``; fail unless each
    is there and says ``ok``."""
    for name in context.get_config("parents") or ():
        result = context.get_dependency_result(name)
        if not (isinstance(result, dict) and result.get("ok")):
            raise RuntimeError(f"parent {name} has no result: {result!r}")
    return {"ok": True, "n": 1}


def flaky(context: Any) -> dict[str, Any]:
    """Fail on the first ``initialization.failures`` attempts, then succeed."""
    if context.retry_count < int(context.get_config("failures") or 0):
        raise RuntimeError(f"flaky failure on attempt {context.retry_count + 1}")
    return {"ok": True, "succeeded_on_attempt": context.retry_count + 1}
