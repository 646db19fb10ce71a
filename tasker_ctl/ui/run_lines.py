"""A run told as plain lines, one per transition, and the summary at the end.

Used when stdout is not a terminal (CI logs, ``| cat``): no colour, no cursor movement, one
timestamped line per step or task transition, then a short summary.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from tasker_ctl.engine.events import (
    ErrorInfo,
    Event,
    RunFinished,
    RunStarted,
    StepTransitioned,
    TaskTransitioned,
)


@dataclass
class RunLog:
    """Collects what the summary needs while a run goes on; optionally prints each line."""

    stream: TextIO = field(default_factory=lambda: sys.stdout)
    echo: bool = True
    name: str = ""
    finished: RunFinished | None = None
    errors: dict[str, ErrorInfo] = field(default_factory=dict)

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.name = f"{event.namespace}/{event.name} v{event.version}"
            line = (
                f"{event.at} run {self.name} ({event.task_uuid}): {event.step_count} steps, "
                f"{event.finished_count} already finished"
            )
        elif isinstance(event, StepTransitioned):
            line = f"{event.at} step {event.step_name}: {event.from_state} -> {event.to_state}"
            if event.to_state == "in_progress":
                line += f" (attempt {event.attempt}/{event.max_attempts})"
            if event.error is not None and event.to_state in ("waiting_for_retry", "error"):
                self.errors[event.step_name] = event.error
                line += f": {describe_error(event.error)}"
            if event.delay_ms is not None:
                line += f"; retry in {event.delay_ms} ms"
            if event.to_state == "complete":
                self.errors.pop(event.step_name, None)
        elif isinstance(event, TaskTransitioned):
            line = f"{event.at} task: {event.from_state} -> {event.to_state}"
        elif isinstance(event, RunFinished):
            self.finished = event
            return
        else:
            return
        if self.echo:
            print(line, file=self.stream, flush=True)

    def summary(self) -> list[str]:
        """The closing lines: outcome, duration, failed steps with their errors."""
        event = self.finished
        if event is None:
            return []
        seconds = event.duration_ms / 1000
        total = event.completed + event.failed + event.pending
        if event.interrupted:
            head = f"! Interrupted after {seconds:.2f}s: {event.completed}/{total} steps complete;"
            head += f" run `tasker-ctl task run {event.task_uuid}` to resume"
        elif event.status in ("complete", "resolved_manually"):
            head = f"✓ Task {self.name} {event.status}: {event.completed}/{total} steps"
            head += f" in {seconds:.2f}s"
        else:
            head = (
                f"✗ Task {self.name} {event.status}: {event.completed}/{total} steps complete, "
                f"{event.failed} failed, {event.pending} not run ({seconds:.2f}s)"
            )
        lines = [head]
        for name, error in sorted(self.errors.items()):
            lines.append(f"  ✗ {name}: {describe_error(error)}")
        return lines


def describe_error(error: ErrorInfo) -> str:
    """``message (error_type, error_code)`` in one line."""
    tags = ", ".join(part for part in (error.error_type, error.error_code) if part)
    message = " ".join(error.message.split())
    return f"{message} ({tags})" if tags else message
