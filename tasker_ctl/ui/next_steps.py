"""What to type after a run ends blocked: the exact commands, for the closing lines of a run.

Kept apart from the run summary (``run_lines``) so that each can change on its own; the CLI
prints these lines after the summary of a blocked run and for a task that was already blocked.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

PROGRAM = "tasker-ctl"
# Per-step commands are shown for this many failed steps; the rest are counted.
STEPS_SHOWN = 3


def next_steps_lines(task_uuid: str, failed_steps: Sequence[str]) -> list[str]:
    """``Next:`` and one command per line, each with what it does after ``#``.

    The lines can be pasted into a shell as they are (the explanations are shell comments).
    """
    task = f"{PROGRAM} task"
    lines = [
        "Next, once the cause is fixed:",
        f"  {task} run {task_uuid} --retry-failed  # re-run the failed steps and carry on",
        f"  {task} retry {task_uuid}  # or only reset them; the next `task run` re-runs them",
    ]
    for name in failed_steps[:STEPS_SHOWN]:
        step = shlex.quote(name)
        lines.append(f"  {task} reset-step {task_uuid} {step}  # reset just this step")
        lines.append(
            f'  {task} resolve-step {task_uuid} {step} --reason "<why>"  '
            "# skip it: its dependents run"
        )
    hidden = len(failed_steps) - STEPS_SHOWN
    if hidden > 0:
        lines.append(f"  ({hidden} more failed step{'s' if hidden > 1 else ''}: `{task} steps`)")
    return lines


__all__ = ["next_steps_lines"]
