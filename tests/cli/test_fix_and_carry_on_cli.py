"""Fix it and carry on (issue 11 §3): handlers are checked before a run, a blocked run says what to
type next, ``--retry-failed`` carries on in one command, and ``task status`` recommends commands.

Through the real CLI in subprocesses, with real handler modules on disk and real SQLite stores.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import textwrap
from pathlib import Path

import pytest
from subprocesses import run_tasker_ctl

from tasker_ctl.errors import EXIT_FAILURE, EXIT_HANDLERS_UNLOADABLE

CHECKOUT = """\
name: checkout
namespace_name: shop
version: 1.0.0
steps:
  - name: validate
    handler: {callable: shop.cart.Validate}
  - name: charge
    dependencies: [validate]
    handler: {callable: shop.payments.Charge}
  - name: ship
    dependencies: [charge]
    handler: {callable: shop.shipping.Ship}
"""
CART = """\
from tasker_core import StepHandler


class Validate(StepHandler):
    def call(self, context):
        return self.success({"valid": True})
"""
PAYMENTS_OK = """\
from tasker_core import StepHandler


class Charge(StepHandler):
    def call(self, context):
        return self.success({"charged": 42})
"""
PAYMENTS_SYNTAX_ERROR = """\
from tasker_core import StepHandler

class Charge(StepHandler)
    def call(self, context):
        return self.success({"charged": 42})
"""
PAYMENTS_PERMANENT_FAILURE = """\
from tasker_core import StepHandler
from tasker_core.errors import PermanentError


class Charge(StepHandler):
    def call(self, context):
        raise PermanentError("card declined", error_code="DECLINED")
"""
SHIPPING = """\
from tasker_core import StepHandler


class Ship(StepHandler):
    def call(self, context):
        return self.success({"shipped": True})
"""


def tasker_ctl(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"TASKER_CTL_DB": str(project / "tasker.db"), "COLUMNS": "200"}
    return run_tasker_ctl(*args, cwd=project, env=env, timeout=60)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project: the checkout template and a ``shop`` package with working handlers."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "checkout.yaml").write_text(CHECKOUT)
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "cart.py").write_text(CART)
    (package / "payments.py").write_text(PAYMENTS_OK)
    (package / "shipping.py").write_text(SHIPPING)
    return tmp_path


def create(project: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return tasker_ctl(
        project, "task", "create", "-n", "shop", "--name", "checkout", "-i", "{}", *extra
    )


def created_uuid(project: Path) -> str:
    result = create(project, "-q")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def store_rows(project: Path) -> tuple[list[tuple[object, ...]], ...]:
    """Everything a run could change: tasks, steps and both audit trails."""
    with sqlite3.connect(project / "tasker.db") as conn:
        return tuple(
            conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("tasks", "steps", "task_transitions", "step_transitions", "step_results")
        )


def step_states(project: Path) -> dict[str, str]:
    with sqlite3.connect(project / "tasker.db") as conn:
        return dict(conn.execute("SELECT name, state FROM steps").fetchall())


# --- handlers are checked before anything runs -------------------------------------------------


def test_a_syntax_error_stops_the_run_before_any_step_moves_and_a_plain_rerun_completes(
    project: Path,
) -> None:
    (project / "shop" / "payments.py").write_text(PAYMENTS_SYNTAX_ERROR)
    task_uuid = created_uuid(project)
    before = store_rows(project)

    refused = tasker_ctl(project, "task", "run", task_uuid)

    assert refused.returncode == EXIT_HANDLERS_UNLOADABLE, refused.stdout + refused.stderr
    assert refused.stderr.startswith(f"error: task {task_uuid} cannot run: 1 handler problem;")
    assert "shop.payments.Charge (step charge)" in refused.stderr
    assert "handler module 'shop.payments' failed to import: SyntaxError" in refused.stderr
    assert "at shop/payments.py:3" in refused.stderr
    assert store_rows(project) == before  # not a single transition, attempt or timestamp

    (project / "shop" / "payments.py").write_text(PAYMENTS_OK)
    fixed = tasker_ctl(project, "task", "run", task_uuid)

    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert set(step_states(project).values()) == {"complete"}


def test_every_problem_is_listed_at_once_with_a_did_you_mean_for_a_misspelt_callable(
    project: Path,
) -> None:
    (project / "templates" / "checkout.yaml").write_text(
        CHECKOUT.replace("shop.shipping.Ship", "shop.shipping.Shpi")
    )
    (project / "shop" / "payments.py").write_text(PAYMENTS_SYNTAX_ERROR)

    refused = create(project, "--run")

    assert refused.returncode == EXIT_HANDLERS_UNLOADABLE, refused.stdout + refused.stderr
    problems = [line for line in refused.stderr.splitlines() if line.startswith("  ✗ ")]
    assert len(problems) == 2, refused.stderr
    assert "shop.payments.Charge (step charge)" in problems[0]
    assert "shop/payments.py:3" in problems[0]
    assert problems[1].startswith("  ✗ shop.shipping.Shpi (step ship): handler ")
    assert "modules tried: shop.shipping (no attribute 'Shpi')" in problems[1]
    assert "(did you mean 'shop.shipping.Ship'?)" in problems[1]
    assert set(step_states(project).values()) == {"pending"}


def test_an_import_error_names_the_failing_line_of_the_handler_module(project: Path) -> None:
    (project / "shop" / "cart.py").write_text("import json\nimport no_such_dependency_xyz\n")

    refused = create(project, "--run")

    assert refused.returncode == EXIT_HANDLERS_UNLOADABLE
    assert "ModuleNotFoundError" in refused.stderr
    assert "no_such_dependency_xyz" in refused.stderr
    assert "at shop/cart.py:2" in refused.stderr


def test_a_decision_branch_not_yet_created_is_checked_too(project: Path) -> None:
    (project / "templates" / "checkout.yaml").write_text(
        textwrap.dedent(
            """\
            name: checkout
            namespace_name: shop
            version: 1.0.0
            steps:
              - name: validate
                handler: {callable: shop.cart.Validate}
              - name: route
                type: decision
                dependencies: [validate]
                handler: {callable: shop.cart.Validate}
              - name: manual_review
                dependencies: [route]
                handler: {callable: shop.review.Missing}
            """
        )
    )

    refused = create(project, "--run")

    assert refused.returncode == EXIT_HANDLERS_UNLOADABLE, refused.stdout + refused.stderr
    assert "shop.review.Missing (step manual_review)" in refused.stderr
    assert step_states(project) == {"validate": "pending", "route": "pending"}  # not created yet


# --- a blocked run says what to type next --------------------------------------------------------


def test_a_blocked_run_ends_with_the_commands_to_type_then_retry_failed_carries_on(
    project: Path,
) -> None:
    (project / "shop" / "payments.py").write_text(PAYMENTS_PERMANENT_FAILURE)
    task_uuid = created_uuid(project)

    blocked = tasker_ctl(project, "task", "run", task_uuid, "--quiet")

    assert blocked.returncode == EXIT_FAILURE
    short = task_uuid[:8]
    assert blocked.stdout.splitlines()[-5:] == [
        "Next, once the cause is fixed:",
        f"  tasker-ctl task run {short} --retry-failed                    # re-run the failed steps, carry on",
        f"  tasker-ctl task retry {short}                                 # or only reset them for the next run",
        f"  tasker-ctl task reset-step {short} charge                     # or reset one step",
        f'  tasker-ctl task resolve-step {short} charge --reason "<why>"  # or skip it: its dependents run',
    ]

    before = store_rows(project)
    again = tasker_ctl(project, "task", "run", task_uuid)

    assert again.returncode == EXIT_FAILURE
    lines = again.stdout.splitlines()
    assert lines[0] == "✗ Task shop/checkout v1.0.0 is already blocked: 1 failed step; nothing ran"
    assert (
        lines[1] == "  ✗ charge: PermanentError: card declined (DECLINED) [attempt 1/3]"
    )  # as in the summary
    assert f"  tasker-ctl task run {short} --retry-failed" in lines[3]
    assert store_rows(project) == before

    (project / "shop" / "payments.py").write_text(PAYMENTS_OK)
    carried_on = tasker_ctl(project, "task", "run", task_uuid, "--retry-failed")

    assert carried_on.returncode == 0, carried_on.stdout + carried_on.stderr
    assert set(step_states(project).values()) == {"complete"}


def test_already_blocked_in_json_is_one_event_naming_the_failed_steps(project: Path) -> None:
    (project / "shop" / "payments.py").write_text(PAYMENTS_PERMANENT_FAILURE)
    task_uuid = created_uuid(project)
    tasker_ctl(project, "task", "run", task_uuid, "--quiet")

    again = tasker_ctl(project, "task", "run", task_uuid, "--format", "json")

    assert again.returncode == EXIT_FAILURE
    document = json.loads(again.stdout)
    assert document["type"] == "task_blocked"
    assert [step["name"] for step in document["failed_steps"]] == ["charge"]
    assert document["failed_steps"][0]["error"]["error_code"] == "DECLINED"


# --- task status recommends a command ----------------------------------------------------------


def test_status_of_a_blocked_task_recommends_the_command_and_json_keeps_taskers_value(
    project: Path,
) -> None:
    (project / "shop" / "payments.py").write_text(PAYMENTS_PERMANENT_FAILURE)
    task_uuid = created_uuid(project)
    tasker_ctl(project, "task", "run", task_uuid, "--quiet")

    text = tasker_ctl(project, "task", "status", task_uuid, "--no-graph")
    document = json.loads(tasker_ctl(project, "task", "status", task_uuid, "-f", "json").stdout)

    assert (
        f"  Recommended action: tasker-ctl task run {task_uuid} --retry-failed  (re-run the "
        "failed steps once their cause is fixed)"
    ) in text.stdout.splitlines()
    assert "handle_failures" not in text.stdout
    assert document["recommended_action"] == "handle_failures"
    assert document["recommended_command"] == f"tasker-ctl task run {task_uuid} --retry-failed"


def test_status_of_a_cancelled_task_is_right_about_it(project: Path) -> None:
    task_uuid = created_uuid(project)
    assert tasker_ctl(project, "task", "cancel", task_uuid).returncode == 0

    text = tasker_ctl(project, "task", "status", task_uuid, "--no-graph").stdout.splitlines()
    document = json.loads(tasker_ctl(project, "task", "status", task_uuid, "-f", "json").stdout)

    assert "  Health: cancelled" in text
    assert "  Execution: cancelled" in text
    assert "  Recommended action: none (the task is cancelled)" in text
    assert document["completed_at"] == document["updated_at"]
    assert document["completed_at"] != document["created_at"]
    assert document["recommended_command"] is None
