"""A run told as plain lines, one per transition, and the summary at the end.

Used when stdout is not a terminal (CI logs, ``| cat``): no colour, no cursor movement, one
timestamped line per step or task transition or line a handler printed, then a short summary.
The summary names each failed step's exception and where it was raised, how many attempts and
how long each retried step took, and the results of the task's final steps, each line shortened
to the width given.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from tasker_ctl.engine.events import (
    ErrorInfo,
    Event,
    RunFinished,
    RunStarted,
    RunStopping,
    StepOutput,
    StepTransitioned,
    TaskTransitioned,
)
from tasker_ctl.ui.table import shorten

DEFAULT_WIDTH = 80
_DONE = frozenset({"complete", "resolved_manually"})


@dataclass
class _StepTimes:
    """When a step's first attempt of this run started, its last attempt ended, how many."""

    first_start: str | None = None
    end: str | None = None
    attempts: int = 0
    runs: int = 0


@dataclass
class RunLog:
    """Collects what the summary needs while a run goes on; optionally prints each line."""

    stream: TextIO = field(default_factory=lambda: sys.stdout)
    echo: bool = True
    name: str = ""
    finished: RunFinished | None = None
    errors: dict[str, ErrorInfo] = field(default_factory=dict)
    times: dict[str, _StepTimes] = field(default_factory=dict)

    def __call__(self, event: Event) -> None:
        line = self._line(event)
        if line is not None and self.echo:
            print(line, file=self.stream)  # flushed at the end of each burst (end_batch)

    def end_batch(self) -> None:
        """A burst of events is over: what it printed goes out now."""
        if self.echo:
            self.stream.flush()

    def _line(self, event: Event) -> str | None:
        if isinstance(event, RunStarted):
            self.name = f"{event.namespace}/{event.name} v{event.version}"
            return (
                f"{event.at} run {self.name} ({event.task_uuid}): {event.step_count} steps, "
                f"{event.finished_count} already finished"
            )
        if isinstance(event, StepTransitioned):
            self._track(event)
            if not self.echo:
                self._note_error(event)
                return None
            line = f"{event.at} step {event.step_name}: {event.from_state} -> {event.to_state}"
            if event.to_state == "in_progress":
                line += f" (attempt {event.attempt}/{event.max_attempts})"
            error = self._note_error(event)
            if error is not None:
                line += f": {describe_error(error)}"
            if event.delay_ms is not None:
                line += f"; retry in {event.delay_ms} ms"
            return line
        if isinstance(event, StepOutput):
            return f"{event.at} {output_line(event)}"
        if isinstance(event, RunStopping):
            return f"{event.at} {stopping_message(event)}"
        if isinstance(event, TaskTransitioned):
            return f"{event.at} task: {event.from_state} -> {event.to_state}"
        if isinstance(event, RunFinished):
            self.finished = event
        return None

    def _note_error(self, event: StepTransitioned) -> ErrorInfo | None:
        """Keep a failed attempt's error for the summary (a completion clears it); returns the
        error the event reports, if any."""
        if event.to_state == "complete":
            self.errors.pop(event.step_name, None)
        if event.error is not None and event.to_state in ("waiting_for_retry", "error"):
            self.errors[event.step_name] = event.error
            return event.error
        return None

    def _track(self, event: StepTransitioned) -> None:
        times = self.times.setdefault(event.step_name, _StepTimes())
        if event.to_state == "in_progress":
            times.first_start = times.first_start or event.at
            times.attempts = event.attempt
            times.runs += 1
        elif event.to_state in ("complete", "error", "waiting_for_retry"):
            times.end = event.at

    def summary(
        self, width: int = DEFAULT_WIDTH, results: Sequence[tuple[str, Any]] = ()
    ) -> list[str]:
        """The closing lines: outcome, duration, failed and retried steps, final results.

        ``results`` are ``(step name, result)`` of the task's final steps; error messages and
        results are cut to ``width`` columns (the other lines are short, or must stay whole).
        """
        event = self.finished
        if event is None:
            return []
        seconds = event.duration_ms / 1000
        total = event.completed + event.failed + event.pending
        lines: list[str] = []
        if event.interrupted:
            lines.append(
                f"! Interrupted after {seconds:.2f}s: {event.completed}/{total} steps complete;"
                f" run `tasker-ctl task run {event.task_uuid}` to resume"
            )
            if event.abandoned:
                lines.append(
                    f"  ! abandoned while running: {', '.join(event.abandoned)} "
                    "(run again when the task resumes)"
                )
        elif event.status in _DONE:
            lines.append(
                f"✓ Task {self.name} {event.status}: {event.completed}/{total} steps"
                f" in {seconds:.2f}s"
            )
        else:
            lines.append(
                f"✗ Task {self.name} {event.status}: {event.completed}/{total} steps complete, "
                f"{event.failed} failed, {event.pending} not run ({seconds:.2f}s)"
            )
        for name, error in sorted(self.errors.items()):
            lines.append(shorten(f"  ✗ {name}: {describe_error(error)}", width))
            details = [f"at {where}"] if (where := error_location(error)) else []
            times = self.times.get(name)
            if times is not None and times.runs > 1:
                details.append(self._attempts_text(times))
            if details:
                lines.append(f"    {' · '.join(details)}")
        for name, times in sorted(self.times.items()):
            if times.runs > 1 and name not in self.errors:
                lines.append(f"  ↻ {name}: {self._attempts_text(times)}")
        for name, result in results:
            text = json.dumps(result, ensure_ascii=False, default=str)
            lines.append(shorten(f"  → {name}: {text}", width))
        return lines

    @staticmethod
    def _attempts_text(times: _StepTimes) -> str:
        text = f"{times.attempts} attempts"
        if times.first_start and times.end:
            spent = (_moment(times.end) - _moment(times.first_start)).total_seconds()
            text += f", {max(spent, 0.0):.2f}s"
        return text


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def describe_error(error: ErrorInfo) -> str:
    """One line: ``KeyError: 'x'`` for an exception, else ``message (error_type, error_code)``."""
    message = " ".join(error.message.split())
    if error.exception_type:
        head = f"{error.exception_type}: {message}" if message else error.exception_type
        return f"{head} ({error.error_code})" if error.error_code else head
    tags = ", ".join(part for part in (error.error_type, error.error_code) if part)
    return f"{message} ({tags})" if tags else message


def error_location(error: ErrorInfo) -> str | None:
    """``handlers/x.py:42``: where the exception was raised, relative to the current directory
    when below it."""
    if not error.file or error.line is None:
        return None
    from tasker_ctl.handlers.frames import display_path

    return f"{display_path(error.file)}:{error.line}"


def output_line(event: StepOutput) -> str:
    """A handler's line prefixed with its step: ``charge_card | text``."""
    return f"{event.step_name} | {event.text}"


def stopping_message(event: RunStopping) -> str:
    """What the first Ctrl-C does, said at once."""
    count = len(event.running)
    if not count:
        return "stopping: no step is running"
    steps = "running step" if count == 1 else "running steps"
    return (
        f"stopping: waiting up to {event.grace_seconds:g} s for {count} {steps} "
        f"({', '.join(event.running)}) — Ctrl-C again to stop now"
    )


def duration_text(seconds: float) -> str:
    """``3.0s`` under a minute, else ``2m 5s`` (the live view's times and countdowns)."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    return f"{int(seconds // 60)}m {int(seconds % 60)}s"
