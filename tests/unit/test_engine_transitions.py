"""The engine moves tasks and steps only through the one transition check of ``states.py``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tasker_ctl
from tasker_ctl.engine.paths import REOPEN, TO_IN_PROGRESS, TO_RUNNING
from tasker_ctl.engine.transitions import planned_moves
from tasker_ctl.states import (
    STEP_MACHINE,
    TASK_MACHINE,
    InvalidTransitionError,
    StepEvent,
    StepState,
    TaskState,
)

PACKAGE = Path(tasker_ctl.__file__).parent


def test_an_impossible_step_move_is_refused_naming_the_state_and_event() -> None:
    with pytest.raises(InvalidTransitionError) as refused:
        planned_moves(STEP_MACHINE, StepState.COMPLETE, [StepEvent.START])

    assert (refused.value.from_state, refused.value.event) == ("complete", "start")
    assert refused.value.hint is not None


def test_a_path_is_refused_at_its_first_impossible_event() -> None:
    with pytest.raises(InvalidTransitionError) as refused:
        planned_moves(STEP_MACHINE, StepState.PENDING, [StepEvent.ENQUEUE, StepEvent.COMPLETE])

    assert (refused.value.from_state, refused.value.event) == ("enqueued", "complete")


def test_every_path_the_engine_uses_is_accepted_by_the_machines() -> None:
    for state, events in TO_IN_PROGRESS.items():
        assert planned_moves(STEP_MACHINE, state, events)[-1][1] == StepState.IN_PROGRESS
    for state, task_events in TO_RUNNING.items():
        moves = planned_moves(TASK_MACHINE, state, task_events)
        assert not moves or moves[-1][1] == TaskState.STEPS_IN_PROCESS
    for state in (TaskState.ERROR, TaskState.BLOCKED_BY_FAILURES):
        assert planned_moves(TASK_MACHINE, state, REOPEN)[-1][1] == TaskState.STEPS_IN_PROCESS


def test_no_module_but_states_reads_a_transition_table_directly() -> None:
    direct = re.compile(r"\.transitions\[")
    readers = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "states.py" and direct.search(path.read_text(encoding="utf-8"))
    ]
    assert readers == []
