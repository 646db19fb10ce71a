"""Following a task (``task status --watch``): what the watcher does after each look, and the
exit code it ends with. Pure functions of a :class:`TaskView`; the polling loop is in the UI.

- ``waiting``: the task is pending and nothing runs it: wait for a run to start (or, on a
  server, for the server to start it).
- ``running``: a run moves the task: keep looking.
- ``ended``: the task came to rest (complete, blocked, cancelled, …): stop.
- ``run_gone``: the task is half-way and no live run holds it (its run was killed): stop, since
  nothing will move it until someone runs it again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from tasker_ctl.errors import EXIT_FAILURE, EXIT_OK
from tasker_ctl.states import TASK_ENDED, TASK_SUCCEEDED, StepState, TaskState
from tasker_ctl.tasks.views import StepView, TaskView


class WatchPhase(StrEnum):
    """Where a watched task stands (see the module docstring)."""

    WAITING = "waiting"
    RUNNING = "running"
    ENDED = "ended"
    RUN_GONE = "run_gone"

    @property
    def final(self) -> bool:
        """True when the watcher stops here."""
        return self in (WatchPhase.ENDED, WatchPhase.RUN_GONE)


def watch_phase(view: TaskView) -> WatchPhase:
    """The phase of ``view``: a live run wins over the task's status, a dead one stops the watch."""
    if view.status in TASK_ENDED:
        return WatchPhase.ENDED
    if view.run.state == "running":
        return WatchPhase.RUNNING
    if view.run.state == "interrupted":
        return WatchPhase.RUN_GONE
    if view.status == TaskState.PENDING:
        return WatchPhase.WAITING
    return WatchPhase.RUNNING


def watch_exit_code(view: TaskView, *, exit_status: bool) -> int:
    """0, or with ``exit_status`` (as ``gh run watch --exit-status``) 1 unless the task ended
    complete or resolved: blocked, cancelled, in error, or left half-way by a dead run."""
    if not exit_status or view.status in TASK_SUCCEEDED:
        return EXIT_OK
    return EXIT_FAILURE


def retry_in_seconds(step: StepView, now: datetime) -> float | None:
    """Seconds until a step waiting for its retry is due again (0 once due); None otherwise."""
    if step.state != StepState.WAITING_FOR_RETRY or step.next_retry_at is None:
        return None
    try:
        due = datetime.fromisoformat(step.next_retry_at)
    except ValueError:
        return None
    if due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    return max(0.0, (due - now).total_seconds())


def utc_now() -> datetime:
    """The moment countdowns are measured from (a test replaces it to fix the time)."""
    return datetime.now(UTC)
