"""Only step handlers are ever called: a template's callable can never reach the standard library,
builtins, tasker-ctl itself or an installed module nobody named (issue 10 §4).

Through the real CLI in subprocesses, on real SQLite stores. ``task create`` refuses such a
template (it is validated first), so the stored tasks here are as an older tasker-ctl (or a store
copied from elsewhere) left them: created from a harmless template, then their callable rewritten
in the SQLite file.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import textwrap
from pathlib import Path

import pytest
from subprocesses import run_tasker_ctl

from tasker_ctl.errors import EXIT_HANDLERS_UNLOADABLE

PROJECT_HANDLER = """
def harmless(context):
    return {"ok": True}
"""
TEMPLATE = """\
name: refusal
namespace_name: safety
version: 1.0.0
steps:
  - name: only
    handler: {callable: CALLABLE}
"""
# Each would run arbitrary code if called: code.interact reads Python from stdin and executes it,
# and importing `this` prints the Zen of Python.
DANGEROUS = [
    "os.system",
    "subprocess.call",
    "code.interact",
    "builtins.eval",
    "shutil.rmtree",
    "this.s",
    "os:system",
]
ZEN = "Beautiful is better than ugly"
STDIN_PAYLOAD = "open('pwned.txt', 'w').write('executed')\n"


def tasker_ctl(project: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {"TASKER_CTL_DB": str(project / "tasker.db")}
    return run_tasker_ctl(*args, cwd=project, env=env, stdin=stdin, timeout=60)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "proj_code.py").write_text(textwrap.dedent(PROJECT_HANDLER))
    return tmp_path


def stored_task_calling(project: Path, callable_name: str) -> str:
    """A task whose step names ``callable_name``, written into the store directly."""
    template = TEMPLATE.replace("CALLABLE", "proj_code.harmless")
    (project / "templates" / "refusal.yaml").write_text(template)
    created = tasker_ctl(project, "task", "create", "-n", "safety", "--name", "refusal", "-i", "{}")
    assert created.returncode == 0, created.stderr
    task_uuid = created.stdout.split("Task UUID: ")[1].split()[0]
    with sqlite3.connect(project / "tasker.db") as conn:
        conn.execute("UPDATE steps SET handler = ?", (json.dumps({"callable": callable_name}),))
        snapshot = json.loads(conn.execute("SELECT snapshot FROM template_snapshots").fetchone()[0])
        snapshot["steps"][0]["handler"]["callable"] = callable_name
        conn.execute("UPDATE template_snapshots SET snapshot = ?", (json.dumps(snapshot),))
    return task_uuid


def step_rows(project: Path) -> list[tuple[str, int, str | None]]:
    with sqlite3.connect(project / "tasker.db") as conn:
        return conn.execute("SELECT state, attempts, error FROM steps").fetchall()


@pytest.mark.parametrize("callable_name", DANGEROUS)
def test_task_run_refuses_a_standard_library_callable_and_calls_nothing(
    project: Path, callable_name: str
) -> None:
    task_uuid = stored_task_calling(project, callable_name)

    result = tasker_ctl(project, "task", "run", task_uuid, stdin=STDIN_PAYLOAD)

    assert result.returncode == EXIT_HANDLERS_UNLOADABLE, result.stdout + result.stderr
    assert f"'{callable_name}'" in result.stderr
    assert "standard library" in result.stderr or "built-in" in result.stderr
    assert "only step handlers are called" in result.stderr
    assert not (project / "pwned.txt").exists()  # code.interact never read stdin
    assert ZEN not in result.stdout + result.stderr  # `this` was never imported
    assert step_rows(project) == [("pending", 0, None)]


@pytest.mark.parametrize(
    ("callable_name", "origin"),
    [("reexports.rmtree", "shutil.rmtree"), ("reexports.system", "built-in function")],
)
def test_a_project_module_re_exporting_a_standard_library_function_is_refused(
    project: Path, callable_name: str, origin: str
) -> None:
    (project / "reexports.py").write_text("from shutil import rmtree\nfrom os import system\n")
    task_uuid = stored_task_calling(project, callable_name)

    result = tasker_ctl(project, "task", "run", task_uuid)

    assert result.returncode == EXIT_HANDLERS_UNLOADABLE, result.stderr
    assert origin in result.stderr
    assert step_rows(project) == [("pending", 0, None)]


def test_an_installed_module_is_refused_unless_named_as_handler_code(project: Path) -> None:
    task_uuid = stored_task_calling(project, "rich:print")

    refused = tasker_ctl(project, "task", "run", task_uuid)

    assert refused.returncode == EXIT_HANDLERS_UNLOADABLE, refused.stdout
    assert "'rich' is an installed module" in refused.stderr
    assert "StepContext" not in refused.stdout  # rich.print never printed the context
    assert step_rows(project) == [("pending", 0, None)]


def test_a_function_in_a_project_module_is_still_called(project: Path) -> None:
    task_uuid = stored_task_calling(project, "proj_code.harmless")

    result = tasker_ctl(project, "task", "run", task_uuid)

    assert result.returncode == 0, result.stderr
    assert step_rows(project)[0][:2] == ("complete", 1)


@pytest.mark.parametrize("callable_name", DANGEROUS)
def test_template_validate_flags_standard_library_callables_from_the_name_alone(
    project: Path, callable_name: str
) -> None:
    path = project / "templates" / "refusal.yaml"
    path.write_text(TEMPLATE.replace("CALLABLE", callable_name))

    result = tasker_ctl(project, "template", "validate", str(path), "--format", "json")

    assert result.returncode == 1, result.stdout
    assert ZEN not in result.stdout
    findings = json.loads(result.stdout)["files"][0]["findings"]
    flagged = [f for f in findings if f["code"] == "UNSAFE_CALLABLE"]
    assert [(f["severity"], f["step"], f["line"]) for f in flagged] == [("error", "only", 6)]
    assert callable_name in flagged[0]["message"]


def test_template_validate_leaves_project_and_registered_callables_alone(project: Path) -> None:
    path = project / "templates" / "refusal.yaml"
    for callable_name in ("proj_code.harmless", "ChargePaymentHandler", "payments.stripe.Charge"):
        path.write_text(TEMPLATE.replace("CALLABLE", callable_name))

        result = tasker_ctl(project, "template", "validate", str(path), "--format", "json")

        codes = [f["code"] for f in json.loads(result.stdout)["files"][0]["findings"]]
        assert "UNSAFE_CALLABLE" not in codes
