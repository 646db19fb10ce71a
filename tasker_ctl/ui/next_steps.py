"""What to type after a run ends blocked: the exact commands, for the closing lines of a run.

Kept apart from the run summary (``run_lines``) so that each can change on its own; the CLI
prints these lines after the summary of a blocked run and for a task that was already blocked.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

PROGRAM = "tasker-ctl"
# Other failed steps named after the per-step commands; the rest are counted.
STEPS_SHOWN = 3


def next_steps_lines(task_reference: str, failed_steps: Sequence[str]) -> list[str]:
    """``Next, once the cause is fixed:`` and one command per line, each explained after ``#``.

    ``task_reference`` is what people type for the task (a short unique prefix). The lines can
    be pasted into a shell as they are (the explanations are shell comments). The per-step
    commands are shown for the first failed step; the others are named after them.
    """
    task = f"{PROGRAM} task"
    commands = [
        (f"{task} run {task_reference} --retry-failed", "re-run the failed steps, carry on"),
        (f"{task} retry {task_reference}", "or only reset them for the next run"),
    ]
    if failed_steps:
        step = shlex.quote(failed_steps[0])
        commands += [
            (f"{task} reset-step {task_reference} {step}", "or reset one step"),
            (
                f'{task} resolve-step {task_reference} {step} --reason "<why>"',
                "or skip it: its dependents run",
            ),
        ]
    width = max(len(command) for command, _ in commands)
    lines = ["Next, once the cause is fixed:"]
    lines += [f"  {command.ljust(width)}  # {why}" for command, why in commands]
    others = list(failed_steps[1:])
    if others:
        shown = ", ".join(others[:STEPS_SHOWN])
        more = len(others) - STEPS_SHOWN
        suffix = f" and {more} more (`{task} steps {task_reference}`)" if more > 0 else ""
        lines.append(f"  (also failed: {shown}{suffix})")
    return lines


__all__ = ["next_steps_lines"]
