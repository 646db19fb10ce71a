"""What a run returns: where the task stands when the engine stops."""

from __future__ import annotations

from dataclasses import dataclass

from tasker_ctl.errors import RunInterruptedError
from tasker_ctl.states import TaskState


@dataclass(frozen=True)
class RunResult:
    """Where the task stands when the engine stops."""

    task_uuid: str
    status: str
    completed: int
    failed: int
    pending: int
    duration_ms: int
    interrupted: bool = False
    observer_errors: tuple[str, ...] = ()
    abandoned: tuple[str, ...] = ()
    """Steps still running when an interrupted run stopped waiting (they run again next time)."""
    stopped_by: RunInterruptedError | None = None  # an operator command from another process

    @property
    def succeeded(self) -> bool:
        """True when every step is complete (or resolved)."""
        return self.status in (TaskState.COMPLETE, TaskState.RESOLVED_MANUALLY)
