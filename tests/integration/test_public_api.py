"""The public library API without the CLI: validate, create, run with an observer, read, retry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import tasker_ctl

TEMPLATE = """\
name: api_flow
namespace_name: api
version: 1.0.0
steps:
  - name: fetch
    handler: {callable: api_handlers.fetch}
  - name: total
    dependencies: [fetch]
    handler: {callable: api_handlers.total}
    retry: {retryable: false}
"""

HANDLERS = """\
from pathlib import Path

def fetch(context):
    return {"prices": [3, 4]}

def total(context):
    if Path(__file__).with_name("broken.flag").exists():
        raise ValueError("the price service is down")
    return {"total": sum(context.get_dependency_result("fetch")["prices"])}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "api_flow.yaml").write_text(TEMPLATE, encoding="utf-8")
    (tmp_path / "api_handlers.py").write_text(HANDLERS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "api_handlers", raising=False)
    return tmp_path


def test_create_run_with_an_observer_read_and_retry(project: Path) -> None:
    reports = tasker_ctl.validate_paths([project / "templates"])
    assert [finding.code for report in reports for finding in report.findings] == [
        "NO_RESULT_SCHEMA",
        "NO_RESULT_SCHEMA",
    ]

    db = project / "store.db"
    created = tasker_ctl.create_task(
        tasker_ctl.CreateRequest(
            namespace="api",
            name="api_flow",
            input={},
            search_path=[project / "templates"],
            db_path=db,
        )
    )
    (project / "broken.flag").touch()
    events: list[tasker_ctl.Event] = []

    failed = tasker_ctl.run_task(db, created.task_uuid, observers=[events.append])

    assert not failed.succeeded
    assert isinstance(events[0], tasker_ctl.RunStarted)
    assert isinstance(events[-1], tasker_ctl.RunFinished)
    view = tasker_ctl.task_status(db, created.task_uuid)
    states = {step.name: step.state for step in view.steps}
    assert states == {"fetch": tasker_ctl.StepState.COMPLETE, "total": tasker_ctl.StepState.ERROR}

    (project / "broken.flag").unlink()
    tasker_ctl.retry_task(db, created.task_uuid)
    rerun = tasker_ctl.run_task(db, created.task_uuid)

    assert rerun.succeeded
    total = tasker_ctl.task_step(db, created.task_uuid, "total")
    assert total.result == {"total": 7}


def test_importing_the_package_imports_nothing_else() -> None:
    code = "import sys, tasker_ctl; print(sorted(m for m in sys.modules if 'tasker_ctl' in m))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout

    assert loaded.strip() == "['tasker_ctl', 'tasker_ctl.lazy_names']"  # the facade's helper


def test_every_exported_name_resolves() -> None:
    missing = [name for name in tasker_ctl.__all__ if getattr(tasker_ctl, name, None) is None]

    assert missing == []
