"""The task's own state during a run: opened when the run starts, finished when it ends."""

from __future__ import annotations

from collections.abc import Iterable

from tasker_ctl.engine.commits import Commits
from tasker_ctl.engine.events import TaskTransitioned
from tasker_ctl.engine.paths import FINISH_BLOCKED, FINISH_COMPLETE, REOPEN, TO_RUNNING
from tasker_ctl.engine.timestamps import now_text
from tasker_ctl.engine.transitions import CHANGED_ELSEWHERE, planned_moves
from tasker_ctl.states import TASK_MACHINE, TaskEvent
from tasker_ctl.store.records import TaskChange, TaskRecord
from tasker_ctl.store.repository import Repository


class TaskProgress:
    """The task as stored when the run started (``record``) and the state it is in now."""

    def __init__(self, repository: Repository, commits: Commits, record: TaskRecord) -> None:
        self._repository = repository
        self._commits = commits
        self.record = record
        self.state = str(record.state)

    def open(self) -> None:
        """Move the task to ``steps_in_process`` (reopening it when it had finished)."""
        self.advance(TO_RUNNING.get(self.state, REOPEN))

    def finish(self, all_satisfied: bool) -> None:
        """Nothing more can run: the task is complete, or blocked by its failures."""
        self.advance(FINISH_COMPLETE if all_satisfied else FINISH_BLOCKED)

    def advance(self, events: Iterable[TaskEvent]) -> None:
        """Commit ``events`` in order, then announce each move."""
        moves = planned_moves(TASK_MACHINE, self.state, events)
        if not moves:
            return
        uuid = self.record.uuid
        changes = [TaskChange(uuid, event, expected_state=state) for state, _, event in moves]
        self._repository.apply(task_changes=changes)
        self.state = moves[-1][1]
        at = now_text()
        for from_state, to_state, event in moves:
            self._commits.emit(TaskTransitioned(uuid, from_state, to_state, str(event), at))

    def moved_elsewhere(self, state: str, at: str) -> None:
        """Another process moved the task to ``state``: take it in and tell the observers."""
        if self.state != state:
            moved = (self.state, state)
            self._commits.emit(TaskTransitioned(self.record.uuid, *moved, CHANGED_ELSEWHERE, at))
            self.state = state
