"""Each handler invocation gets its own copy of the data, equal to what the store holds.

Runs are in-process on real SQLite files with real handler modules (``tests/fixtures``). Under
``.ci/run`` the suite runs a second time with tasker-py installed, so these tests hold for both
``tasker_core`` implementations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from engine_handlers.workflows import (
    StepSpec,
    create,
    stored_attempts,
    stored_steps,
    write_template,
)
from subprocesses import FIXTURES

from tasker_ctl.engine.scheduler import RunOptions
from tasker_ctl.tasks.run import run_task

FAMILY_TEMPLATES = FIXTURES / "checkpoint_family" / "templates"
WORKER = "checkpoint_yield_batch_001"


def _run_family(tmp_path: Path, name: str, **task_input: Any) -> dict[str, Any]:
    db = tmp_path / "tasker.db"
    task_uuid = create(db, FAMILY_TEMPLATES, name, task_input, namespace="checkpoint_family")
    result = run_task(db, task_uuid, handler_modules=("checkpoint_family",))
    assert result.status == "complete"
    return stored_steps(db, task_uuid) | {"db": db}


@pytest.mark.parametrize("name", ["checkpoint_family", "checkpoint_family_dsl"])
def test_the_checkpoint_family_completes_with_the_exact_totals(tmp_path: Path, name: str) -> None:
    steps = _run_family(tmp_path, name, total_items=100, items_per_checkpoint=25)

    aggregate = steps["aggregate_results"].result
    assert aggregate["total_processed"] == 100
    assert (aggregate["running_total"], aggregate["item_count"]) == (5050, 100)
    assert steps[WORKER].attempts == 1
    assert [h["cursor"] for h in steps[WORKER].checkpoint["history"]] == [25, 50, 75]


@pytest.mark.parametrize("name", ["checkpoint_family", "checkpoint_family_dsl"])
@pytest.mark.parametrize("fail_after", [50, 60], ids=["at-a-checkpoint", "mid-chunk"])
def test_a_transient_failure_mid_batch_does_not_leak_into_the_retry(
    tmp_path: Path, name: str, fail_after: int
) -> None:
    steps = _run_family(
        tmp_path,
        name,
        total_items=100,
        items_per_checkpoint=25,
        fail_after_items=fail_after,
        fail_on_attempt=1,
    )

    aggregate = steps["aggregate_results"].result
    assert (aggregate["total_processed"], aggregate["running_total"]) == (100, 5050)
    assert aggregate["item_count"] == 100
    worker = steps[WORKER]
    assert [a.success for a in stored_attempts(steps["db"], worker.uuid)] == [False, True]
    # The stored checkpoint holds exactly the items before its cursor: 1 + ... + 75.
    assert worker.checkpoint["accumulated_results"]["running_total"] == sum(range(1, 76))


@pytest.mark.parametrize("name", ["checkpoint_family", "checkpoint_family_dsl"])
def test_no_items_means_no_batches_and_the_aggregate_still_runs(tmp_path: Path, name: str) -> None:
    steps = _run_family(tmp_path, name, total_items=0, items_per_checkpoint=10)

    assert steps["aggregate_results"].result["total_processed"] == 0
    assert "checkpoint_yield_batch_000" in steps


def test_a_permanent_failure_mid_batch_fails_the_worker_once(tmp_path: Path) -> None:
    db = tmp_path / "tasker.db"
    task_input = {"total_items": 100, "fail_after_items": 30, "permanent_failure": True}
    task_uuid = create(db, FAMILY_TEMPLATES, "checkpoint_family", task_input, "checkpoint_family")

    result = run_task(db, task_uuid, handler_modules=("checkpoint_family",))

    assert result.status == "blocked_by_failures"
    worker = stored_steps(db, task_uuid)[WORKER]
    assert (worker.state, worker.attempts) == ("error", 1)


def test_a_step_cannot_change_what_other_steps_or_its_retries_see(tmp_path: Path) -> None:
    nested = {"tags": ["original"]}
    steps = [
        StepSpec("source", "engine_handlers.mutators.source"),
        StepSpec(
            "vandal", "engine_handlers.mutators.vandal", ("source",), config={"nested": nested}
        ),
        StepSpec(
            "witness", "engine_handlers.mutators.witness", ("vandal",), config={"nested": nested}
        ),
    ]
    write_template(tmp_path / "templates", "wf", steps)
    db = tmp_path / "tasker.db"
    task_uuid = create(db, tmp_path / "templates", "wf", {"nested": nested})

    result = run_task(db, task_uuid, options=RunOptions(concurrency=1))

    assert result.status == "complete"
    stored = stored_steps(db, task_uuid)
    assert stored["source"].result == {"items": ["a"]}
    unchanged = {"items": ["a"], "input_tags": ["original"], "config_tags": ["original"]}
    assert stored["vandal"].result == {"seen_on_retry": unchanged}
    assert stored["witness"].result == unchanged
