"""Property: on any DAG whose handlers all succeed, each step runs exactly once, after its parents.

Random DAGs of up to 12 steps (each step may depend on any earlier one) run in-process on a real
SQLite file. Handlers note start and end in a thread-safe in-process log (``probes.EXECUTIONS``);
the stored transition order is checked too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from dag_strategies import Dag, dags
from engine_handlers import probes
from engine_handlers.workflows import (
    StepSpec,
    create,
    stored_steps,
    stored_transitions,
    write_template,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasker_ctl.engine.scheduler import RunOptions
from tasker_ctl.tasks.run import run_task


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dag=dags(), concurrency=st.integers(min_value=1, max_value=6))
def test_every_step_runs_once_and_only_after_its_dependencies(dag: Dag, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        steps = [StepSpec(name, depends_on=parents) for name, parents in dag.items()]
        write_template(root / "templates", "random_dag", steps)
        db = root / "tasker.db"
        task_uuid = create(db, root / "templates", "random_dag")

        result = run_task(db, task_uuid, options=RunOptions(concurrency=concurrency))

        assert result.status == "complete", result
        log = probes.EXECUTIONS.pop(task_uuid)
        starts = {name: seq for kind, name, seq in log if kind == "start"}
        ends = {name: seq for kind, name, seq in log if kind == "end"}
        assert sorted(name for kind, name, _ in log if kind == "start") == sorted(dag)
        assert len(ends) == len(dag)
        stored = stored_steps(db, task_uuid)
        uuid_to_name = {step.uuid: name for name, step in stored.items()}
        started_row: dict[str, int] = {}
        completed_row: dict[str, int] = {}
        for row in stored_transitions(db, task_uuid):
            if row.step_uuid is None:
                continue
            name = uuid_to_name[row.step_uuid]
            if row.to_state == "in_progress":
                assert name not in started_row, f"{name} started twice"
                started_row[name] = row.id
            elif row.to_state == "complete":
                completed_row[name] = row.id
        for child, parents in dag.items():
            assert stored[child].state == "complete"
            for parent in parents:
                assert ends[parent] < starts[child], (parent, child)
                assert completed_row[parent] < started_row[child], (parent, child)
