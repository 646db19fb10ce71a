"""Workflows that create steps while they run: decisions, batches and checkpoint yields.

The example templates in ``templates/`` run with their handlers under ``handlers/`` from the
repository root, as a user runs them (reference §6, §12.1).
"""

from __future__ import annotations

import json
import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_handlers.workflows import (
    run_forked_then_kill,
    stored_attempts,
    stored_graph,
    stored_steps,
)
from subprocesses import REPO_ROOT, run_command, tasker_ctl_command

from tasker_ctl.engine.events import Event, StepsCreated, StepTransitioned
from tasker_ctl.engine.scheduler import Engine, RunOptions, RunResult
from tasker_ctl.handlers.preflight import HandlersUnloadableError
from tasker_ctl.handlers.registry import HandlerRegistry
from tasker_ctl.store import open_for_reading, open_for_writing
from tasker_ctl.tasks.actions import complete_step, reset_step
from tasker_ctl.tasks.create import CreateRequest, create_task
from tasker_ctl.tasks.reads import task_status
from tasker_ctl.tasks.run import run_task

TEMPLATES = REPO_ROOT / "templates"
PRODUCTS = "templates/data/products.csv"
EMPTY_PRODUCTS = "templates/data/products_empty.csv"


def _forget_example_handlers() -> None:
    for name in [m for m in sys.modules if m == "handlers" or m.startswith("handlers.")]:
        del sys.modules[name]


@pytest.fixture(autouse=True)
def in_repo_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run from the repository root so ``handlers`` is the top-level example package."""
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))
    _forget_example_handlers()
    yield
    _forget_example_handlers()


def _create(
    db: Path,
    namespace: str,
    name: str,
    task_input: dict[str, Any],
    *,
    templates: Path = TEMPLATES,
    environment: str | None = None,
) -> str:
    request = CreateRequest(
        namespace=namespace,
        name=name,
        input=task_input,
        search_path=[templates],
        db_path=db,
        environment=environment,
    )
    return create_task(request).task_uuid


def _run(db: Path, task_uuid: str, *handlers: str) -> tuple[RunResult, list[Event]]:
    events: list[Event] = []
    result = run_task(db, task_uuid, handler_modules=handlers, observers=[events.append])
    return result, events


def _variant(tmp_path: Path, template: str, **replacements: str) -> Path:
    """A copy of an example template with some text replaced, in its own directory."""
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    directory = tmp_path / "variant"
    directory.mkdir(exist_ok=True)
    (directory / template).write_text(text, encoding="utf-8")
    return directory


# --- decisions ---------------------------------------------------------------------------------


def _approval(amount: float, **extra: Any) -> dict[str, Any]:
    return {"amount": amount, "requester": "ada", "purpose": "laptops", **extra}


@pytest.mark.parametrize(
    ("amount", "branches"),
    [
        (500, ["auto_approve"]),
        (1000, ["manager_approval"]),
        (3000, ["manager_approval"]),
        (5000, ["manager_approval", "finance_review"]),
        (10000, ["manager_approval", "finance_review"]),
    ],
)
def test_the_amount_decides_which_approval_branches_exist_and_convergence_completes(
    tmp_path: Path, amount: int, branches: list[str]
) -> None:
    db = tmp_path / "tasker.db"
    task_uuid = _create(db, "approvals", "approval_routing", _approval(amount))
    assert set(stored_steps(db, task_uuid)) == {"validate_request", "routing_decision"}

    result, events = _run(db, task_uuid)

    assert result.status == "complete", result
    steps = stored_steps(db, task_uuid)
    expected = {"validate_request", "routing_decision", *branches, "finalize_approval"}
    assert set(steps) == expected
    assert all(step.state == "complete" for step in steps.values())
    finalize = steps["finalize_approval"]
    assert sorted(finalize.result["approved_by"]) == sorted(branches)
    graph = stored_graph(db, task_uuid)
    names = {step.uuid: step.name for step in graph.steps}
    parents = sorted(names[p] for p in graph.parents()[finalize.uuid])
    assert parents == sorted(branches)  # intersection: it never waits for untaken branches
    created = [e for e in events if isinstance(e, StepsCreated)]
    assert [sorted(e.step_names) for e in created] == [sorted([*branches, "finalize_approval"])]


@pytest.mark.parametrize(
    ("task_input", "message"),
    [
        ({"override_route": ["validate_request"]}, "'validate_request' is not a valid descendant"),
        ({"override_route": ["manager_aproval"]}, "did you mean 'manager_approval'?"),
        (
            {"raw_outcome": {"type": "create_steps", "step_names": "manager_approval"}},
            "step_names must be a list of step names",
        ),
        ({"raw_outcome": {"type": "route"}}, "decision_point_outcome type 'route'"),
        ({"raw_outcome": "auto_approve"}, "returned no decision_point_outcome"),
    ],
)
def test_a_malformed_decision_outcome_fails_the_decision_step_permanently(
    tmp_path: Path, task_input: dict[str, Any], message: str
) -> None:
    db = tmp_path / "tasker.db"
    task_uuid = _create(db, "approvals", "approval_routing", _approval(50, **task_input))

    result, _ = _run(db, task_uuid)

    assert result.status == "blocked_by_failures"
    steps = stored_steps(db, task_uuid)
    assert set(steps) == {"validate_request", "routing_decision"}
    decision = steps["routing_decision"]
    assert (decision.state, decision.attempts) == ("error", 1)
    assert decision.error["error_type"] == "invalid_decision_outcome"
    assert decision.error["retryable"] is False
    assert message in decision.error["message"]
    assert "routing_decision" in decision.error["message"]


def test_no_branches_completes_the_task_without_the_convergence_step(tmp_path: Path) -> None:
    db = tmp_path / "tasker.db"
    task_uuid = _create(db, "approvals", "approval_routing", _approval(50, skip_approval=True))

    result, _ = _run(db, task_uuid)

    assert result.status == "complete"
    assert set(stored_steps(db, task_uuid)) == {"validate_request", "routing_decision"}


def test_the_dsl_decision_handler_routes_like_the_class_one(tmp_path: Path) -> None:
    templates = _variant(
        tmp_path,
        "approval_routing.yaml",
        **{
            "callable: handlers.approval.RoutingDecisionHandler": (
                "callable: approval.routing_decision_dsl"
            )
        },
    )
    db = tmp_path / "tasker.db"
    task_uuid = _create(db, "approvals", "approval_routing", _approval(7500), templates=templates)

    result, _ = _run(db, task_uuid, "handlers.approval")

    assert result.status == "complete"
    steps = stored_steps(db, task_uuid)
    assert {"manager_approval", "finance_review"} <= set(steps)
    assert "auto_approve" not in steps
    assert steps["routing_decision"].result["routing_context"] == {"amount": 7500}


def test_a_decision_completed_by_an_operator_creates_its_branches_on_the_next_run(
    tmp_path: Path,
) -> None:
    db = tmp_path / "tasker.db"
    task_uuid = _create(db, "approvals", "approval_routing", _approval(50))
    outcome = {"decision_point_outcome": {"type": "create_steps", "step_names": ["finance_review"]}}
    complete_step(db, task_uuid, "routing_decision", result=outcome, reason="routed by hand")

    result, _ = _run(db, task_uuid)

    assert result.status == "complete"
    steps = stored_steps(db, task_uuid)
    assert set(steps) == {
        "validate_request",
        "routing_decision",
        "finance_review",
        "finalize_approval",
    }
    assert steps["finalize_approval"].result["approved_by"] == {"finance_review": "finance"}


def test_one_engine_runs_two_tasks_of_different_templates_in_turn(tmp_path: Path) -> None:
    """Nothing of the first run (its template, batch rules, stop) carries over to the second."""
    db = tmp_path / "tasker.db"
    approval = _create(db, "approvals", "approval_routing", _approval(5000))
    inventory = _create(db, "csv_processing", "csv_inventory", {"csv_file_path": PRODUCTS})
    with open_for_writing(db) as repository:
        engine = Engine(repository, HandlerRegistry(), options=RunOptions(concurrency=4))
        first = engine.run(approval)
        second = engine.run(inventory)

    assert (first.status, second.status) == ("complete", "complete"), (first, second)
    steps = stored_steps(db, inventory)
    assert _worker_names(steps) == [f"process_csv_batch_00{i}" for i in range(1, 6)]
    assert steps["aggregate_csv_results"].result["total_processed"] == 1000
    assert set(stored_steps(db, approval)) >= {"manager_approval", "finance_review"}


# --- batches -----------------------------------------------------------------------------------


def _worker_names(steps: dict[str, Any]) -> list[str]:
    return sorted(name for name in steps if name.startswith("process_csv_batch_"))


def test_a_csv_of_1000_rows_runs_in_five_batches_and_aggregates_every_row(tmp_path: Path) -> None:
    db = tmp_path / "tasker.db"
    task_uuid = _create(db, "csv_processing", "csv_inventory", {"csv_file_path": PRODUCTS})
    assert set(stored_steps(db, task_uuid)) == {"analyze_csv"}

    result, _ = _run(db, task_uuid)

    assert result.status == "complete", result
    steps = stored_steps(db, task_uuid)
    assert _worker_names(steps) == [f"process_csv_batch_00{i}" for i in range(1, 6)]
    third = steps["process_csv_batch_003"]
    assert third.template_step_name == "process_csv_batch"
    assert third.inputs == {
        "cursor": {"batch_id": "003", "start_cursor": 400, "end_cursor": 600, "batch_size": 200},
        "batch_metadata": {"cursor_field": "row_number", "failure_strategy": "continue_on_failure"},
        "is_no_op": False,
    }
    assert third.result["items_processed"] == 200
    aggregate = steps["aggregate_csv_results"].result
    assert aggregate["total_processed"] == 1000
    assert aggregate["worker_count"] == 5
    assert aggregate["failed_batches"] == []


def test_an_empty_csv_runs_the_000_no_op_worker_and_still_completes(tmp_path: Path) -> None:
    db = tmp_path / "tasker.db"
    task_uuid = _create(db, "csv_processing", "csv_inventory", {"csv_file_path": EMPTY_PRODUCTS})

    result, _ = _run(db, task_uuid)

    assert result.status == "complete"
    steps = stored_steps(db, task_uuid)
    assert _worker_names(steps) == ["process_csv_batch_000"]
    assert steps["process_csv_batch_000"].inputs["is_no_op"] is True
    assert steps["process_csv_batch_000"].result["no_op"] is True
    assert steps["aggregate_csv_results"].result["scenario"] == "no_batches"


def _most_running_at_once(events: list[Event], prefix: str) -> int:
    running: set[str] = set()
    most = 0
    for event in events:
        if isinstance(event, StepTransitioned) and event.step_name.startswith(prefix):
            if event.to_state == "in_progress":
                running.add(event.step_name)
            else:
                running.discard(event.step_name)
            most = max(most, len(running))
    return most


def test_no_more_workers_of_a_batch_run_at_once_than_its_parallelism(tmp_path: Path) -> None:
    templates = _variant(tmp_path, "csv_processing.yaml", **{"parallelism: 3": "parallelism: 2"})
    db = tmp_path / "tasker.db"
    task_uuid = _create(
        db, "csv_processing", "csv_inventory", {"csv_file_path": PRODUCTS}, templates=templates
    )

    result, events = _run(db, task_uuid)

    assert result.status == "complete"
    assert 1 <= _most_running_at_once(events, "process_csv_batch_") <= 2


def test_continue_on_failure_completes_a_failed_worker_with_a_partial_failure(
    tmp_path: Path,
) -> None:
    db = tmp_path / "tasker.db"
    task_input = {"csv_file_path": PRODUCTS, "fail_batches": ["003"]}
    task_uuid = _create(db, "csv_processing", "csv_inventory", task_input)

    result, _ = _run(db, task_uuid)

    assert result.status == "complete"
    steps = stored_steps(db, task_uuid)
    failed = steps["process_csv_batch_003"]
    assert failed.state == "complete"
    assert failed.result["batch_failed"] is True
    assert failed.result["items_failed"] == 200
    assert "batch 003 refused" in failed.result["error"]["message"]
    aggregate = steps["aggregate_csv_results"].result
    assert aggregate["total_processed"] == 800
    assert aggregate["failed_batches"] == ["process_csv_batch_003"]


def test_fail_fast_starts_no_further_worker_of_the_batch(tmp_path: Path) -> None:
    templates = _variant(
        tmp_path,
        "csv_processing.yaml",
        **{"parallelism: 3": "parallelism: 1", "continue_on_failure": "fail_fast"},
    )
    db = tmp_path / "tasker.db"
    task_input = {"csv_file_path": PRODUCTS, "fail_batches": ["002"]}
    task_uuid = _create(db, "csv_processing", "csv_inventory", task_input, templates=templates)

    result, _ = _run(db, task_uuid)

    assert result.status == "blocked_by_failures"
    states = {name: step.state for name, step in stored_steps(db, task_uuid).items()}
    assert states["process_csv_batch_001"] == "complete"
    assert states["process_csv_batch_002"] == "error"
    assert {states[f"process_csv_batch_00{i}"] for i in (3, 4, 5)} == {"pending"}
    assert states["aggregate_csv_results"] == "pending"


def test_isolate_keeps_the_other_workers_running_and_waits_for_an_operator(
    tmp_path: Path,
) -> None:
    templates = _variant(
        tmp_path,
        "csv_processing.yaml",
        **{"parallelism: 3": "parallelism: 1", "continue_on_failure": "isolate"},
    )
    db = tmp_path / "tasker.db"
    task_input = {"csv_file_path": PRODUCTS, "fail_batches": ["002"]}
    task_uuid = _create(db, "csv_processing", "csv_inventory", task_input, templates=templates)

    result, _ = _run(db, task_uuid)

    assert result.status == "blocked_by_failures"
    states = {name: step.state for name, step in stored_steps(db, task_uuid).items()}
    assert states["process_csv_batch_002"] == "error"
    assert {states[f"process_csv_batch_00{i}"] for i in (1, 3, 4, 5)} == {"complete"}
    assert states["aggregate_csv_results"] == "pending"


def test_a_step_after_the_convergence_step_waits_for_it(tmp_path: Path) -> None:
    report = (
        "\n  - name: report\n    dependencies: [aggregate_csv_results]\n"
        "    handler:\n      callable: handlers.approval.AutoApproveHandler\n"
    )
    templates = _variant(
        tmp_path, "csv_processing.yaml", **{"\nenvironments:": report + "\nenvironments:"}
    )
    db = tmp_path / "tasker.db"
    task_uuid = _create(
        db, "csv_processing", "csv_inventory", {"csv_file_path": PRODUCTS}, templates=templates
    )
    assert set(stored_steps(db, task_uuid)) == {"analyze_csv"}

    result, _ = _run(db, task_uuid)

    assert result.status == "complete"
    steps = stored_steps(db, task_uuid)
    assert steps["report"].started_at >= steps["aggregate_csv_results"].completed_at


def test_the_cli_creates_and_runs_the_batch_workflow_in_a_real_process(tmp_path: Path) -> None:
    db = tmp_path / "tasker.db"
    command = tasker_ctl_command(
        "task", "create", "-n", "csv_processing", "--name", "csv_inventory",
        "-i", "@templates/inputs/csv_products.json", "--db", str(db), "--run", "--format", "json",
    )  # fmt: skip

    completed = run_command(command)

    assert completed.returncode == 0, completed.stderr
    documents = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    task_uuid = documents[0]["task_uuid"]
    steps = stored_steps(db, task_uuid)
    assert _worker_names(steps) == [f"process_csv_batch_00{i}" for i in range(1, 6)]
    assert steps["aggregate_csv_results"].result["total_processed"] == 1000
    created = [d for d in documents if d.get("type") == "steps_created"]
    assert [d["step_names"][-1] for d in created] == ["aggregate_csv_results"]


# --- checkpoints -------------------------------------------------------------------------------


def _checkpoint_task(db: Path, **task_input: Any) -> str:
    return _create(db, "checkpoints", "checkpoint_yield", task_input)


def test_a_checkpointing_worker_yields_without_counting_attempts(tmp_path: Path) -> None:
    db = tmp_path / "tasker.db"
    task_uuid = _checkpoint_task(db, total_items=100, items_per_checkpoint=25)

    result, _ = _run(db, task_uuid)

    assert result.status == "complete"
    steps = stored_steps(db, task_uuid)
    worker = steps["checkpoint_yield_batch_001"]
    assert worker.attempts == 1
    assert len(stored_attempts(db, worker.uuid)) == 1
    assert len(worker.checkpoint["history"]) >= 3
    assert [h["cursor"] for h in worker.checkpoint["history"]] == [25, 50, 75]
    aggregate = steps["aggregate_results"].result
    assert (aggregate["total_processed"], aggregate["running_total"]) == (100, 5050)


def test_a_retry_after_a_transient_failure_resumes_from_the_last_checkpoint(
    tmp_path: Path,
) -> None:
    db = tmp_path / "tasker.db"
    task_uuid = _checkpoint_task(
        db, total_items=100, items_per_checkpoint=25, fail_after_items=50, fail_on_attempt=1
    )

    result, _ = _run(db, task_uuid)

    assert result.status == "complete"
    worker = stored_steps(db, task_uuid)["checkpoint_yield_batch_001"]
    assert worker.attempts == 2
    assert [a.success for a in stored_attempts(db, worker.uuid)] == [False, True]
    assert worker.result["batch_metadata"] == {"running_total": 5050, "resumed_from": [50]}
    assert worker.result["items_processed"] == 100


def test_reset_step_clears_the_checkpoint(tmp_path: Path) -> None:
    templates = _variant(
        tmp_path,
        "checkpoint_yield.yaml",
        **{"retry: {max_attempts: 3,": "retry: {max_attempts: 1,"},
    )
    db = tmp_path / "tasker.db"
    task_input = {"total_items": 100, "items_per_checkpoint": 25, "fail_after_items": 50}
    task_uuid = _create(db, "checkpoints", "checkpoint_yield", task_input, templates=templates)

    result, _ = _run(db, task_uuid)

    assert result.status == "blocked_by_failures"
    worker = stored_steps(db, task_uuid)["checkpoint_yield_batch_001"]
    assert (worker.state, worker.checkpoint["cursor"]) == ("error", 50)
    reset_step(db, task_uuid, "checkpoint_yield_batch_001", reason="start over")
    assert stored_steps(db, task_uuid)["checkpoint_yield_batch_001"].checkpoint is None


def test_no_items_gives_no_batches_and_completes(tmp_path: Path) -> None:
    db = tmp_path / "tasker.db"
    task_uuid = _checkpoint_task(db, total_items=0)

    result, _ = _run(db, task_uuid)

    assert result.status == "complete"
    assert "checkpoint_yield_batch_000" in stored_steps(db, task_uuid)


def test_a_permanent_worker_failure_blocks_the_task(tmp_path: Path) -> None:
    db = tmp_path / "tasker.db"
    task_uuid = _checkpoint_task(db, total_items=10, permanent_failure=True)

    result, _ = _run(db, task_uuid)

    assert result.status == "blocked_by_failures"
    worker = stored_steps(db, task_uuid)["checkpoint_yield_batch_001"]
    assert (worker.state, worker.attempts) == ("error", 1)


# --- environments and method dispatch ----------------------------------------------------------


def test_create_with_env_applies_the_overrides_and_records_the_environment(
    tmp_path: Path,
) -> None:
    db = tmp_path / "tasker.db"
    command = tasker_ctl_command(
        "task", "create", "-n", "approvals", "--name", "approval_routing", "--env", "test",
        "-i", "@templates/inputs/approval_large.json", "--db", str(db), "--run", "-q",
    )  # fmt: skip

    completed = run_command(command)

    assert completed.returncode == 0, completed.stderr
    task_uuid = completed.stdout.splitlines()[0].strip()
    steps = stored_steps(db, task_uuid)
    assert {s.max_attempts for s in steps.values()} == {2}
    assert {s.timeout_seconds for s in steps.values()} == {10}
    assert steps["finalize_approval"].handler["initialization"] == {"audit": True}
    assert steps["finance_review"].retry["backoff_base_ms"] is None  # the whole block replaced
    repository = open_for_reading(db)
    assert repository is not None
    with repository:
        task = repository.get_task(task_uuid)
        snapshot = repository.load_template_snapshot(task_uuid)
    assert task is not None and task.environment == "test"
    assert snapshot["steps"][0]["retry"]["max_attempts"] == 2
    assert task_status(db, task_uuid).to_json()["environment"] == "test"


def test_the_project_environment_applies_only_to_templates_that_define_it(
    tmp_path: Path,
) -> None:
    (tmp_path / ".tasker-ctl.toml").write_text('environment = "test"\n', encoding="utf-8")
    db = tmp_path / "tasker.db"

    def create(namespace: str, name: str, task_input: dict[str, Any]) -> str:
        command = tasker_ctl_command(
            "task", "create", "-n", namespace, "--name", name, "--templates", str(TEMPLATES),
            "-i", json.dumps(task_input), "--db", str(db), "-q",
        )  # fmt: skip
        completed = run_command(command, cwd=tmp_path)
        assert completed.returncode == 0, completed.stderr
        return completed.stdout.strip()

    csv_task = create("csv_processing", "csv_inventory", {"csv_file_path": PRODUCTS})
    order_task = create("default", "order_processing", {"order_id": "A1", "items": []})

    analyze = stored_steps(db, csv_task)["analyze_csv"]
    assert analyze.handler["initialization"]["batch_size"] == 500
    assert task_status(db, csv_task).environment == "test"
    assert task_status(db, order_task).environment is None


def test_an_unknown_environment_is_refused_naming_those_defined(tmp_path: Path) -> None:
    command = tasker_ctl_command(
        "task", "create", "-n", "approvals", "--name", "approval_routing", "--env", "tset",
        "-i", "@templates/inputs/approval_large.json", "--db", str(tmp_path / "tasker.db"),
    )  # fmt: skip

    completed = run_command(command)

    assert completed.returncode == 2
    assert "no environment 'tset' (did you mean 'test'?)" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_handler_method_calls_that_method_instead_of_call(tmp_path: Path) -> None:
    module = tmp_path / "code" / "refund_steps.py"
    module.parent.mkdir()
    module.write_text(
        "from tasker_core import StepHandler, StepHandlerResult\n\n"
        "class Refunds(StepHandler):\n"
        "    handler_name = 'refunds'\n"
        "    def call(self, context):\n"
        "        return StepHandlerResult.success({'ran': 'call'})\n"
        "    def validate(self, context):\n"
        "        return StepHandlerResult.success({'ran': 'validate'})\n",
        encoding="utf-8",
    )
    sys.path.insert(0, str(module.parent))
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "refund.yaml").write_text(
        "name: refund\nnamespace_name: dispatch\nversion: 1.0.0\nsteps:\n"
        "  - name: check\n    handler: {callable: refund_steps.Refunds, method: validate}\n"
        "  - name: plain\n    dependencies: [check]\n"
        "    handler: {callable: refund_steps.Refunds}\n",
        encoding="utf-8",
    )
    db = tmp_path / "tasker.db"
    task_uuid = _create(db, "dispatch", "refund", {}, templates=tmp_path / "templates")

    # The module is outside the project directory: naming it makes it handler code.
    result, _ = _run(db, task_uuid, "refund_steps")

    steps = stored_steps(db, task_uuid)
    assert steps["check"].result == {"ran": "validate"}
    assert steps["plain"].result == {"ran": "call"}
    assert result.status == "complete"


def test_a_missing_handler_method_stops_the_run_before_any_step_moves(tmp_path: Path) -> None:
    module = tmp_path / "code" / "reverse_steps.py"
    module.parent.mkdir()
    module.write_text(
        "from tasker_core import StepHandler, StepHandlerResult\n\n"
        "class Refunds(StepHandler):\n"
        "    handler_name = 'reverse_refunds'\n"
        "    def call(self, context):\n"
        "        return StepHandlerResult.success({'ran': 'call'})\n",
        encoding="utf-8",
    )
    sys.path.insert(0, str(module.parent))
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "reverse.yaml").write_text(
        "name: reverse\nnamespace_name: dispatch\nversion: 1.0.0\nsteps:\n"
        "  - name: plain\n    handler: {callable: reverse_steps.Refunds}\n"
        "  - name: missing\n    dependencies: [plain]\n"
        "    handler: {callable: reverse_steps.Refunds, method: reverse}\n",
        encoding="utf-8",
    )
    db = tmp_path / "tasker.db"
    task_uuid = _create(db, "dispatch", "reverse", {}, templates=tmp_path / "templates")

    with pytest.raises(HandlersUnloadableError) as raised:
        _run(db, task_uuid, "reverse_steps")

    assert [problem.steps for problem in raised.value.problems] == [("missing",)]
    assert "has no method 'reverse'" in raised.value.message
    steps = stored_steps(db, task_uuid)
    assert {name: (step.state, step.attempts) for name, step in steps.items()} == {
        "plain": ("pending", 0),
        "missing": ("pending", 0),
    }


# --- resuming after SIGKILL --------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_sigkill_between_runs_never_loses_or_repeats_created_steps(tmp_path: Path) -> None:
    rng = random.Random(20261122)
    db = tmp_path / "tasker.db"
    task_uuid = _create(db, "csv_processing", "csv_inventory", {"csv_file_path": PRODUCTS})
    approval_uuid = _create(db, "approvals", "approval_routing", _approval(10000))

    for _ in range(8):
        for uuid in (task_uuid, approval_uuid):
            run_forked_then_kill(db, uuid, rng.uniform(0.0, 0.03))
    for uuid in (task_uuid, approval_uuid):
        result, _ = _run(db, uuid)
        assert result.status == "complete", result

    steps = stored_steps(db, task_uuid)
    assert _worker_names(steps) == [f"process_csv_batch_00{i}" for i in range(1, 6)]
    assert steps["aggregate_csv_results"].result["total_processed"] == 1000
    approval = stored_steps(db, approval_uuid)
    assert sorted(approval["finalize_approval"].result["approved_by"]) == [
        "finance_review",
        "manager_approval",
    ]
    assert len(stored_graph(db, task_uuid).steps) == 7
