"""The engine on the seed workflows: e-commerce (handlers/ecommerce.py) and orders (bare names).

The seed handlers run unchanged from the repository's top-level ``handlers`` package, with the
repository root as the current directory, exactly as a user runs them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_handlers.workflows import (
    stored_attempts,
    stored_steps,
    stored_transitions,
)
from subprocesses import REPO_ROOT, run_tasker_ctl

from tasker_ctl.engine.events import Event, StepTransitioned
from tasker_ctl.store.connection import parse_timestamp
from tasker_ctl.tasks.create import CreateRequest, create_task
from tasker_ctl.tasks.run import run_task

TEMPLATES = REPO_ROOT / "templates"
ECOMMERCE_INPUT = json.loads((TEMPLATES / "inputs" / "ecommerce_order.json").read_text())
ORDER_INPUT = json.loads((TEMPLATES / "inputs" / "order.json").read_text())


def _forget_seed_handlers() -> None:
    for name in [m for m in sys.modules if m == "handlers" or m.startswith("handlers.")]:
        del sys.modules[name]


@pytest.fixture
def in_repo_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run from the repository root so ``handlers`` is the top-level seed package."""
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))
    _forget_seed_handlers()
    yield
    _forget_seed_handlers()


def _create(db_path: Path, namespace: str, name: str, task_input: dict[str, Any]) -> str:
    request = CreateRequest(
        namespace=namespace, name=name, input=task_input, search_path=[TEMPLATES], db_path=db_path
    )
    return create_task(request).task_uuid


def _run(db_path: Path, task_uuid: str, handlers: tuple[str, ...] = ()) -> tuple[Any, list[Event]]:
    events: list[Event] = []
    result = run_task(db_path, task_uuid, handler_modules=handlers, observers=[events.append])
    return result, events


def _interval(db_path: Path, task_uuid: str, step_uuid: str) -> tuple[int, int]:
    """Transition ids of the step's first start and its completion (one commit order)."""
    rows = stored_transitions(db_path, task_uuid, step_uuid)
    start = next(r.id for r in rows if r.to_state == "in_progress")
    end = next(r.id for r in rows if r.to_state == "complete")
    return start, end


@pytest.mark.usefixtures("in_repo_root")
def test_ecommerce_seed_completes_with_payment_and_inventory_in_parallel(tmp_path: Path) -> None:
    db = tmp_path / "tasker.db"
    task_uuid = _create(db, "ecommerce", "ecommerce_order_processing", ECOMMERCE_INPUT)

    result, _ = _run(db, task_uuid)

    assert result.status == "complete", result
    steps = stored_steps(db, task_uuid)
    assert {name: step.state for name, step in steps.items()} == dict.fromkeys(steps, "complete")
    assert steps["create_order"].result["total"] == 74.77
    assert sys.modules["handlers.ecommerce"].__file__ == str(REPO_ROOT / "handlers/ecommerce.py")
    # Each of the two parallel steps started before the other one finished.
    payment = _interval(db, task_uuid, steps["process_payment"].uuid)
    inventory = _interval(db, task_uuid, steps["update_inventory"].uuid)
    assert payment[0] < inventory[1] and inventory[0] < payment[1], (payment, inventory)
    pay, inv = steps["process_payment"], steps["update_inventory"]
    assert pay.started_at <= inv.completed_at and inv.started_at <= pay.completed_at


@pytest.mark.usefixtures("in_repo_root")
def test_declined_payment_fails_once_and_blocks_the_order(tmp_path: Path) -> None:
    db = tmp_path / "tasker.db"
    declined = {**ECOMMERCE_INPUT, "payment_token": "tok_test_declined"}
    task_uuid = _create(db, "ecommerce", "ecommerce_order_processing", declined)

    result, _ = _run(db, task_uuid)

    assert result.status == "blocked_by_failures"
    assert not result.succeeded
    steps = stored_steps(db, task_uuid)
    payment = steps["process_payment"]
    assert payment.state == "error"
    assert payment.attempts == 1
    assert payment.error["error_code"] == "PAYMENT_DECLINED"
    assert len(stored_attempts(db, payment.uuid)) == 1
    assert steps["update_inventory"].state == "complete"
    for never_run in ("create_order", "send_confirmation"):
        assert steps[never_run].state == "pending"
        assert steps[never_run].attempts == 0
        rows = stored_transitions(db, task_uuid, steps[never_run].uuid)
        assert [row.to_state for row in rows] == ["pending"]  # created, never moved


@pytest.mark.usefixtures("in_repo_root")
def test_declined_payment_exits_1_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "tasker.db"
    declined = {**ECOMMERCE_INPUT, "payment_token": "tok_test_declined"}
    task_uuid = _create(db, "ecommerce", "ecommerce_order_processing", declined)

    completed = run_tasker_ctl("task", "run", task_uuid, "--db", str(db))

    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    assert "Payment declined" in completed.stdout
    assert stored_steps(db, task_uuid)["create_order"].state == "pending"


def _millis_between(earlier: str, later: str) -> float:
    delta = parse_timestamp(later) - parse_timestamp(earlier)
    return delta.total_seconds() * 1000


@pytest.mark.usefixtures("in_repo_root")
def test_gateway_error_is_retried_three_times_with_growing_gaps(tmp_path: Path) -> None:
    db = tmp_path / "tasker.db"
    flaky_gateway = {**ECOMMERCE_INPUT, "payment_token": "tok_test_gateway_error"}
    task_uuid = _create(db, "ecommerce", "ecommerce_order_processing", flaky_gateway)

    result, events = _run(db, task_uuid)

    assert result.status == "blocked_by_failures"
    payment = stored_steps(db, task_uuid)["process_payment"]
    assert payment.state == "error"
    assert payment.attempts == 3
    attempts = stored_attempts(db, payment.uuid)
    assert [a.attempt for a in attempts] == [1, 2, 3]
    assert all(a.error["error_code"] == "GATEWAY_ERROR" for a in attempts)
    rows = stored_transitions(db, task_uuid, payment.uuid)
    failed_at = [r.created_at for r in rows if r.to_state == "waiting_for_retry"]
    started_at = [r.created_at for r in rows if r.to_state == "in_progress"]
    assert len(failed_at) == 2 and len(started_at) == 3
    gaps = [_millis_between(failed_at[i], started_at[i + 1]) for i in range(2)]
    assert gaps[0] >= 100, gaps
    assert gaps[1] >= 200, gaps
    delays = [
        e.delay_ms
        for e in events
        if isinstance(e, StepTransitioned) and e.to_state == "waiting_for_retry"
    ]
    assert delays == [100, 200]


@pytest.mark.usefixtures("in_repo_root")
def test_order_seed_with_bare_callables_completes(tmp_path: Path) -> None:
    db = tmp_path / "tasker.db"
    task_uuid = _create(db, "default", "order_processing", ORDER_INPUT)

    result, _ = _run(db, task_uuid, handlers=("handlers.orders",))

    assert result.status == "complete", result
    steps = stored_steps(db, task_uuid)
    assert all(step.state == "complete" for step in steps.values())
    assert steps["charge_payment"].result["amount"] == steps["validate_order"].result["total"]
    assert steps["validate_order"].result["total"] == pytest.approx(2 * 29.99 + 49.99)


@pytest.mark.usefixtures("in_repo_root")
def test_order_seed_without_order_id_fails_once_for_good(tmp_path: Path) -> None:
    db = tmp_path / "tasker.db"
    no_order_id = {key: value for key, value in ORDER_INPUT.items() if key != "order_id"}
    task_uuid = _create(db, "default", "order_processing", no_order_id)

    result, _ = _run(db, task_uuid, handlers=("handlers.orders",))

    assert result.status == "blocked_by_failures"
    steps = stored_steps(db, task_uuid)
    validate = steps["validate_order"]
    assert validate.state == "error"
    assert validate.attempts == 1
    assert validate.error["retryable"] is False
    assert validate.error["error_code"] == "MISSING_INPUT"
    assert all(steps[name].state == "pending" for name in steps if name != "validate_order")
