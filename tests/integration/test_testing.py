"""``tasker_ctl.testing``: whole workflows run in-process, and templates linted inside pytest."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from subprocesses import subprocess_env

from tasker_ctl.testing import WorkflowRun, run_workflow

TEMPLATE = """\
name: priced_order
namespace_name: shop
version: 1.0.0
input_schema:
  type: object
  required: [prices]
  properties:
    prices: {type: array, items: {type: number}}
steps:
  - name: total
    handler: {callable: shop_handlers.total}
  - name: receipt
    dependencies: [total]
    handler: {callable: shop_handlers.receipt}
    retry: {retryable: false}
"""

HANDLERS = """\
def total(context):
    return {"total": sum(context.get_input("prices"))}

def receipt(context):
    amount = context.get_dependency_result("total")["total"]
    if amount <= 0:
        raise ValueError("nothing to charge")
    return {"line": f"charged {amount}"}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "priced_order.yaml").write_text(TEMPLATE, encoding="utf-8")
    (tmp_path / "shop_handlers.py").write_text(HANDLERS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    # Each test's project has its own shop_handlers.py: never the one an earlier test imported.
    monkeypatch.delitem(sys.modules, "shop_handlers", raising=False)
    return tmp_path


def test_a_workflow_runs_in_process_and_reports_each_step(project: Path) -> None:
    run = run_workflow(project / "templates" / "priced_order.yaml", {"prices": [2, 3]})

    assert run.succeeded
    assert run.states() == {"total": "complete", "receipt": "complete"}
    assert run.result("receipt") == {"line": "charged 5"}
    assert run.events[-1].status == "complete"  # type: ignore[union-attr]


def test_a_failed_step_carries_its_error(project: Path) -> None:
    run = run_workflow(project / "templates" / "priced_order.yaml", {"prices": [0]})

    assert not run.succeeded
    assert run.states() == {"total": "complete", "receipt": "error"}
    error = run.error("receipt")
    assert error is not None
    assert "nothing to charge" in error["message"]


def test_the_fixture_keeps_each_store_in_tmp_path(
    project: Path, tasker_workflow: Callable[..., WorkflowRun], tmp_path: Path
) -> None:
    first = tasker_workflow(project / "templates" / "priced_order.yaml", {"prices": [1]})
    second = tasker_workflow(project / "templates" / "priced_order.yaml", {"prices": [2]})

    assert first.db_path.is_relative_to(tmp_path)
    assert first.db_path != second.db_path
    assert first.db_path.is_file()


def _pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        check=False,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_plain_pytest_runs_a_workflow_test_with_the_fixture(project: Path) -> None:
    (project / "test_flow.py").write_text(
        "def test_flow(tasker_workflow):\n"
        "    run = tasker_workflow('templates/priced_order.yaml', {'prices': [4]})\n"
        "    assert run.result('receipt') == {'line': 'charged 4'}\n",
        encoding="utf-8",
    )

    outcome = _pytest(project, "test_flow.py")

    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert "1 passed" in outcome.stdout


def test_tasker_templates_lints_templates_only_when_asked(project: Path) -> None:
    (project / "templates" / "broken.yaml").write_text(
        "name: broken\nnamespace_name: shop\nversion: 1.0.0\nsteps:\n"
        "  - name: a\n    dependencies: [a]\n    handler: {callable: shop_handlers.total}\n",
        encoding="utf-8",
    )
    (project / "docker-compose.yml").write_text("services:\n  db: {image: postgres}\n")

    without = _pytest(project, ".")
    linted = _pytest(project, "--tasker-templates", ".")

    assert without.returncode == 5  # pytest: no tests collected
    assert linted.returncode == 1
    assert "1 failed, 1 passed" in linted.stdout
    assert "broken.yaml:6: SELF_DEPENDENCY" in linted.stdout


FLAKY_TEMPLATE = """\
name: flaky
namespace_name: shop
version: 1.0.0
steps:
  - name: fetch
    handler: {callable: flaky_handlers.fetch}
    retry: {max_attempts: 2, backoff: linear, backoff_base_ms: 3600000, max_backoff_ms: 3600000}
"""

FLAKY_DRIVER = """\
import json, sys
from tasker_ctl.testing import run_workflow

def fetch(context):
    if context.retry_count == 0:
        raise RuntimeError("first attempt fails")
    return {"fetched": True}

run = run_workflow(sys.argv[1])
print(json.dumps([run.states(), run.steps["fetch"].attempts, run.events[-1].duration_ms]))
"""


def test_run_workflow_skips_retry_backoff_instead_of_sleeping(tmp_path: Path) -> None:
    template = tmp_path / "flaky.yaml"
    template.write_text(FLAKY_TEMPLATE, encoding="utf-8")
    (tmp_path / "flaky_handlers.py").write_text(FLAKY_DRIVER, encoding="utf-8")

    # A backoff of an hour: slept through, the run could not end within the timeout.
    finished = subprocess.run(
        [sys.executable, "flaky_handlers.py", str(template)],
        cwd=tmp_path,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr
    states, attempts, duration_ms = json.loads(finished.stdout.splitlines()[-1])
    assert states == {"fetch": "complete"}
    assert attempts == 2
    assert duration_ms >= 3_600_000  # the run's clock moved past the backoff
