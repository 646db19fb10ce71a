"""Task operations on real template files and real SQLite stores."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tasker_ctl import tasks
from tasker_ctl.errors import InvalidDataError, NotFoundError, UsageError
from tasker_ctl.states import InvalidTransitionError, StepEvent, StepState, TaskEvent
from tasker_ctl.store import open_for_reading, open_for_writing
from tasker_ctl.store.records import AttemptOutcome, StepChange, TaskChange
from tasker_ctl.tasks.inputs import InputValidationError

ORDER_TEMPLATE = """
name: process_order
namespace_name: shop
version: {version}
input_schema:
  type: object
  required: [order_id, email]
  properties:
    order_id: {{type: integer}}
    email: {{type: string, format: email}}
    items:
      type: array
      items: {{type: object, properties: {{sku: {{type: string}}}}}}
steps:
  - name: validate
    handler: {{callable: shop.handlers.Validate}}
  - name: charge
    handler: {{callable: shop.handlers.Charge}}
    dependencies: [validate]
    retry: {{max_attempts: 5}}
  - name: ship
    handler: {{callable: shop.handlers.Ship}}
    dependencies: [charge]
"""

DECISION_TEMPLATE = """
name: approval
namespace_name: shop
version: 1.0.0
steps:
  - name: check
    handler: {callable: shop.Check}
  - name: route
    type: decision
    handler: {callable: shop.Route}
    dependencies: [check]
  - name: auto_approve
    handler: {callable: shop.Auto}
    dependencies: [route]
  - name: manual_approve
    handler: {callable: shop.Manual}
    dependencies: [route]
  - name: finish
    type: deferred_convergence
    handler: {callable: shop.Finish}
    dependencies: [auto_approve, manual_approve]
"""

GOOD_INPUT = {"order_id": 1, "email": "buyer@example.com"}


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    directory = tmp_path / "templates"
    directory.mkdir()
    (directory / "order.yaml").write_text(ORDER_TEMPLATE.format(version="1.0.0"))
    return directory


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / ".tasker" / "tasker.db"


Create = Callable[..., tasks.CreatedTask]


@pytest.fixture
def create(templates: Path, db: Path) -> Create:
    def create(**overrides: Any) -> tasks.CreatedTask:
        values: dict[str, Any] = {
            "namespace": "shop",
            "name": "process_order",
            "input": GOOD_INPUT,
            "search_path": [templates],
            "db_path": db,
        }
        values.update(overrides)
        return tasks.create_task(tasks.CreateRequest(**values))

    return create


def table_counts(db: Path) -> dict[str, int]:
    reader = open_for_reading(db)
    assert reader is not None
    with reader:
        return reader.table_counts()


def fail_step(db: Path, task_uuid: str, step_name: str) -> None:
    """Drive one step through a failed attempt into ``error`` and its task to blocked."""
    with open_for_writing(db) as repo:
        step = next(s for s in repo.load_steps(task_uuid) if s.name == step_name)
        for event in ("enqueue", "start", "enqueue_as_error_for_orchestration"):
            repo.transition_step(StepChange(step.uuid, event))
        repo.transition_step(
            StepChange(
                step.uuid,
                StepEvent.FAIL,
                outcome=AttemptOutcome(
                    success=False,
                    error={"message": "boom", "error_type": "permanent", "retryable": False},
                ),
            )
        )
        for event in ("start", "ready_steps_found", "steps_enqueued", "step_completed"):
            repo.transition_task(TaskChange(task_uuid, event))
        repo.transition_task(TaskChange(task_uuid, TaskEvent.PERMANENT_FAILURE))


# --- create -----------------------------------------------------------------------------------


def test_create_stores_the_task_its_steps_and_edges(create: Create, db: Path) -> None:
    created = create()
    assert created.status == "pending"
    assert [name for name, _ in created.steps] == ["validate", "charge", "ship"]
    view = tasks.task_status(db, created.task_uuid)
    assert view.input == GOOD_INPUT
    assert [(s.name, s.state, s.max_attempts) for s in view.steps] == [
        ("validate", "pending", 3),
        ("charge", "pending", 5),
        ("ship", "pending", 3),
    ]
    assert set(view.edges) == {("validate", "charge"), ("charge", "ship")}
    assert view.correlation_id is not None


def test_invalid_input_names_every_failing_path_and_stores_nothing(
    create: Create, db: Path
) -> None:
    create()
    before = table_counts(db)
    with pytest.raises(InputValidationError) as caught:
        create(input={"order_id": "seven", "email": "not-an-email", "items": [{"sku": 5}]})
    assert caught.value.exit_code == 65
    assert [v.path for v in caught.value.violations] == ["$.email", "$.items[0].sku", "$.order_id"]
    for path in ("$.email", "$.items[0].sku", "$.order_id"):
        assert path in caught.value.message
    assert table_counts(db) == before


def test_invalid_input_on_a_new_store_does_not_create_it(create: Create, db: Path) -> None:
    with pytest.raises(InputValidationError):
        create(input={"order_id": 1})
    assert not db.exists()


def test_no_validate_stores_input_that_breaks_the_schema(create: Create, db: Path) -> None:
    created = create(input={"anything": True}, validate_input=False)
    assert tasks.task_status(db, created.task_uuid).input == {"anything": True}


def test_input_must_be_a_json_object(create: Create) -> None:
    with pytest.raises(InvalidDataError, match="JSON object, not an array"):
        create(input=[1, 2], validate_input=False)


def test_without_a_version_the_highest_semantic_version_wins(
    create: Create, templates: Path, db: Path
) -> None:
    for version in ("1.10.0", "1.9.3", "2.0.0-rc.1"):
        (templates / f"order-{version}.yaml").write_text(ORDER_TEMPLATE.format(version=version))
    assert create().version == "1.10.0"
    assert create(version="1.9.3").version == "1.9.3"
    assert create(version="2.0.0-rc.1").version == "2.0.0-rc.1"


def test_an_unknown_version_lists_the_versions_that_exist(create: Create) -> None:
    with pytest.raises(NotFoundError, match=r"versions available: 1\.0\.0"):
        create(version="3.0.0")


def test_an_unknown_template_suggests_a_close_name(create: Create) -> None:
    with pytest.raises(NotFoundError, match="did you mean 'shop/process_order'"):
        create(name="proces_order")


def test_an_invalid_template_is_refused_with_its_location(create: Create, templates: Path) -> None:
    broken = ORDER_TEMPLATE.format(version="1.0.0").replace("[validate]", "[validat]")
    (templates / "order.yaml").write_text(broken)
    with pytest.raises(InvalidDataError) as caught:
        create()
    assert "order.yaml:" in caught.value.message
    assert caught.value.hint is not None
    assert "template validate" in caught.value.hint


def test_editing_the_template_later_never_changes_an_existing_task(
    create: Create, templates: Path, db: Path
) -> None:
    created = create()
    reader = open_for_reading(db)
    assert reader is not None
    with reader:
        snapshot_before = reader.load_template_snapshot(created.task_uuid)
    (templates / "order.yaml").write_text(
        ORDER_TEMPLATE.format(version="1.0.0").replace("Charge", "ChargeV2")
    )
    reader = open_for_reading(db)
    assert reader is not None
    with reader:
        assert reader.load_template_snapshot(created.task_uuid) == snapshot_before
    assert snapshot_before["steps"][1]["handler"]["callable"] == "shop.handlers.Charge"
    step = tasks.task_step(db, created.task_uuid, "charge")
    assert step.handler_callable == "shop.handlers.Charge"


def test_decision_branches_and_convergence_are_not_created_at_first(
    create: Create, templates: Path
) -> None:
    (templates / "approval.yaml").write_text(DECISION_TEMPLATE)
    created = create(name="approval", input={})
    assert [name for name, _ in created.steps] == ["check", "route"]


def test_a_bad_correlation_id_is_a_usage_error(create: Create) -> None:
    with pytest.raises(UsageError, match="not a UUID"):
        create(correlation_id="nope")


# --- reading ----------------------------------------------------------------------------------


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_reading_commands_never_change_the_store_file(create: Create, db: Path) -> None:
    created = create()
    before = digest(db)
    tasks.list_tasks(db)
    tasks.task_status(db, created.task_uuid[:8])
    tasks.task_steps(db, created.task_uuid)
    tasks.task_step(db, created.task_uuid, "charge")
    tasks.task_audit(db, created.task_uuid)
    tasks.task_audit(db, created.task_uuid, "validate")
    assert digest(db) == before


def test_reading_a_missing_store_says_so_and_creates_nothing(db: Path) -> None:
    with pytest.raises(NotFoundError, match="there is no store at"):
        tasks.task_status(db, "abcd")
    listing = tasks.list_tasks(db)
    assert (listing.items, listing.store_exists) == ((), False)
    assert not db.exists()
    assert not db.parent.exists()


def test_status_derives_progress_readiness_and_health(create: Create, db: Path) -> None:
    created = create()
    view = tasks.task_status(db, created.task_uuid)
    assert (view.execution_status, view.health_status, view.completion_percentage) == (
        "has_ready_steps",
        "healthy",
        0.0,
    )
    assert [s.ready for s in view.steps] == [True, False, False]
    fail_step(db, created.task_uuid, "validate")
    failed = tasks.task_status(db, created.task_uuid)
    assert (failed.status, failed.execution_status, failed.health_status) == (
        "blocked_by_failures",
        "blocked_by_failures",
        "blocked",
    )
    error = failed.to_json()["steps"][0]["error"]
    assert error == {
        "message": "boom",
        "error_type": "permanent",
        "error_code": None,
        "retryable": False,
        "exception_type": None,
    }


def test_status_json_has_the_documented_keys(create: Create, db: Path) -> None:
    data = tasks.task_status(db, create().task_uuid).to_json()
    for key in (
        "task_uuid",
        "name",
        "namespace",
        "version",
        "status",
        "execution_status",
        "health_status",
        "completion_percentage",
        "created_at",
        "completed_at",
        "input",
        "steps",
    ):
        assert key in data
    for key in (
        "name",
        "step_uuid",
        "state",
        "attempts",
        "max_attempts",
        "dependencies",
        "started_at",
        "completed_at",
        "result",
        "error",
    ):
        assert key in data["steps"][0]
    assert data["steps"][1]["dependencies"] == ["validate"]


def test_steps_are_found_by_name_or_uuid(create: Create, db: Path) -> None:
    created = create()
    uuid = dict(created.steps)["charge"]
    assert tasks.task_step(db, created.task_uuid, uuid).name == "charge"
    assert tasks.task_step(db, created.task_uuid, uuid[:8]).name == "charge"
    with pytest.raises(NotFoundError, match="did you mean 'charge'"):
        tasks.task_step(db, created.task_uuid, "charg")


def test_audit_lists_task_and_step_transitions_in_order(create: Create, db: Path) -> None:
    created = create()
    fail_step(db, created.task_uuid, "validate")
    entries = tasks.task_audit(db, created.task_uuid, "validate")
    assert [(e.from_state, e.to_state) for e in entries] == [
        (None, "pending"),
        ("pending", "enqueued"),
        ("enqueued", "in_progress"),
        ("in_progress", "enqueued_as_error_for_orchestration"),
        ("enqueued_as_error_for_orchestration", "error"),
    ]
    assert entries[3].success is False
    everything = tasks.task_audit(db, created.task_uuid)
    assert len(everything) == 1 + 3 + 4 + 5
    assert [e.number for e in everything] == list(range(1, len(everything) + 1))


# --- operator actions -------------------------------------------------------------------------


def test_reset_step_only_from_error_and_reopens_the_task(create: Create, db: Path) -> None:
    created = create()
    with pytest.raises(InvalidTransitionError, match="only a step in error can be reset"):
        tasks.reset_step(db, created.task_uuid, "charge")
    fail_step(db, created.task_uuid, "validate")
    result = tasks.reset_step(db, created.task_uuid, "validate", reason="bug fixed")
    assert result.steps[0][2] == "pending"
    assert (result.task_status, result.task_reopened) == ("pending", True)
    step = tasks.task_step(db, created.task_uuid, "validate")
    assert (step.state, step.attempts) == ("pending", 0)
    task_trail = [e for e in tasks.task_audit(db, created.task_uuid) if e.step_uuid is None]
    assert (task_trail[-1].from_state, task_trail[-1].to_state, task_trail[-1].event) == (
        "blocked_by_failures",
        "pending",
        "reset",
    )
    assert task_trail[-1].metadata["reason"] == "bug fixed"


def test_resolve_step_satisfies_dependents(create: Create, db: Path) -> None:
    created = create()
    fail_step(db, created.task_uuid, "validate")
    result = tasks.resolve_step(db, created.task_uuid, "validate", reason="done by hand")
    assert result.steps[0][2] == "resolved_manually"
    view = tasks.task_status(db, created.task_uuid)
    assert view.steps[1].dependencies_satisfied
    assert view.steps[1].ready
    with pytest.raises(
        InvalidTransitionError,
        match="Cannot manually resolve step: invalid transition from resolved_manually to "
        "resolve_manually",
    ):
        tasks.resolve_step(db, created.task_uuid, "validate", reason="again")


def test_complete_step_stores_the_result_with_manual_metadata(create: Create, db: Path) -> None:
    created = create()
    tasks.complete_step(
        db,
        created.task_uuid,
        "validate",
        result={"valid": True},
        reason="checked by phone",
        completed_by="ana",
        metadata={"ticket": "OPS-1"},
    )
    step = tasks.task_step(db, created.task_uuid, "validate")
    assert (step.state, step.result) == ("complete", {"valid": True})
    reader = open_for_reading(db)
    assert reader is not None
    with reader:
        attempts = reader.load_attempts(step.step_uuid)
    assert attempts[-1].metadata == {
        "ticket": "OPS-1",
        "manually_completed": True,
        "completed_by": "ana",
        "completion_reason": "checked by phone",
    }


def test_cancel_cancels_unfinished_steps_then_refuses_a_second_time(
    create: Create, db: Path
) -> None:
    created = create()
    tasks.complete_step(db, created.task_uuid, "validate", result={}, reason="r")
    result = tasks.cancel_task(db, created.task_uuid)
    assert [name for name, _, _ in result.steps] == ["charge", "ship"]
    view = tasks.task_status(db, created.task_uuid)
    assert view.status == "cancelled"
    assert [s.state for s in view.steps] == ["complete", "cancelled", "cancelled"]
    with pytest.raises(InvalidTransitionError, match=r"^Cannot cancel a completed task$"):
        tasks.cancel_task(db, created.task_uuid)


def test_retry_resets_every_step_in_error(create: Create, db: Path) -> None:
    created = create()
    with pytest.raises(Exception, match="nothing to retry"):
        tasks.retry_task(db, created.task_uuid)
    fail_step(db, created.task_uuid, "validate")
    result = tasks.retry_task(db, created.task_uuid)
    assert [(name, state) for name, _, state in result.steps] == [("validate", "pending")]
    assert tasks.task_status(db, created.task_uuid).steps[0].state == StepState.PENDING


def test_operator_actions_on_a_missing_store_do_not_create_it(db: Path) -> None:
    with pytest.raises(NotFoundError, match="no store"):
        tasks.cancel_task(db, "abcd")
    assert not db.exists()
