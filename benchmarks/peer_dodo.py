"""doit's side of ``bench_peers.py``: copied next to a ``steps.json`` as ``dodo.py``.

One doit task per step (``step:<name>``), a Python action returning a small dict, ``task_dep``
on its parents; a step whose handler reads its parents also takes their results through
``getargs`` (doit keeps them in its dependency file). doit has no retries, so W4 is not run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STEPS: list[dict[str, Any]] = json.loads(
    Path(__file__).with_name("steps.json").read_text(encoding="utf-8")
)["steps"]


def small() -> dict[str, Any]:
    """Return a small dict at once."""
    return {"ok": True, "n": 1}


def reads_parents(**parents: Any) -> dict[str, Any]:
    """Fail unless every parent's result (passed by ``getargs``) is there and says ``ok``."""
    for name, result in parents.items():
        if not (isinstance(result, dict) and result.get("ok")):
            raise RuntimeError(f"parent {name} has no result: {result!r}")
    return {"ok": True, "n": 1}


def task_step() -> Iterator[dict[str, Any]]:
    """The steps, as doit sub-tasks with the same dependencies."""
    for step in STEPS:
        task: dict[str, Any] = {
            "name": step["name"],
            "actions": [small],
            "task_dep": [f"step:{parent}" for parent in step["parents"]],
        }
        if step["handler"] == "reads_parents":
            task["actions"] = [reads_parents]
            task["getargs"] = {
                f"parent_{index}": (f"step:{parent}", None)
                for index, parent in enumerate(step["parents"])
            }
        yield task
