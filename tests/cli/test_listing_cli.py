"""Issue 12 §2-§3 through the real entry point: tables cut to the terminal's width, ``task
templates`` for the local search path, completion from the store, one style of success message,
JSON errors under ``--format json``, ``task delete`` and ``task prune``.

Each test runs ``tasker-ctl`` in a subprocess with ``COLUMNS`` fixed, in a project written to
``tmp_path`` (templates, a real handler module), and compares the whole output.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import textwrap
from pathlib import Path

import pytest
from held_runs import HELD_THEN_NEXT, Workflow, finish, starts, wait_for
from subprocesses import run_tasker_ctl

HANDLERS = """
def validate(context):
    return {"valid": True}


def charge(context):
    raise RuntimeError("card declined")
"""

TEMPLATE = """
name: process_order_with_a_long_name
namespace_name: shop
version: 1.0.0
steps:
  - name: validate
    handler: {callable: shop_handlers.validate}
  - name: charge_the_customer_card
    handler: {callable: shop_handlers.charge}
    dependencies: [validate]
    retry: {max_attempts: 1}
"""

NO_HANDLERS = """
name: ship
namespace_name: warehouse
version: 2.0.0
steps:
  - name: pack
    handler: {callable: warehouse_handlers.Pack}
  - name: label
    handler: {callable: warehouse_handlers.Label}
"""

INVALID = """
name: broken
namespace_name: warehouse
version: 1.0.0
steps:
  - name: a
    handler: {callable: x.y}
    dependencies: [nowhere]
"""

UUIDS = ("aaaaaaaa-1111-4000-8000-000000000001", "bbbbbbbb-2222-4000-8000-000000000002")


def tasker_ctl(
    project: Path, *args: str, columns: int = 80, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_tasker_ctl(*args, cwd=project, env={"COLUMNS": str(columns), **(env or {})})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Templates (one runnable here, one whose handler module is missing, one invalid) and the
    handler module of the runnable one."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "order.yaml").write_text(textwrap.dedent(TEMPLATE))
    (tmp_path / "templates" / "ship.yaml").write_text(textwrap.dedent(NO_HANDLERS))
    (tmp_path / "templates" / "broken.yaml").write_text(textwrap.dedent(INVALID))
    (tmp_path / "shop_handlers.py").write_text(HANDLERS)
    return tmp_path


def create(project: Path, *extra: str, exit_code: int = 0) -> str:
    done = tasker_ctl(
        project, "task", "create", "-n", "shop", "--name", "process_order_with_a_long_name",
        "-i", "{}", "-q", *extra,
    )  # fmt: skip
    assert done.returncode == exit_code, done.stderr
    return done.stdout.split()[0]


def pin(db: Path, task_uuid: str, new_uuid: str, created_at: str) -> None:
    """Give a task a known UUID and creation time, and its audit trail known times (in the
    order it was recorded), so that the output can be compared whole."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        for table in (
            "step_output", "step_results", "step_transitions", "task_transitions",
            "run_leases", "step_edges", "steps",
        ):  # fmt: skip
            conn.execute(
                f"UPDATE {table} SET task_uuid = ? WHERE task_uuid = ?", (new_uuid, task_uuid)
            )
        conn.execute(
            "UPDATE tasks SET uuid = ?, created_at = ? WHERE uuid = ?",
            (new_uuid, created_at, task_uuid),
        )
        rows = [
            (created, 0, row_id, "step_transitions")
            for row_id, created in conn.execute(
                "SELECT id, created_at FROM step_transitions WHERE task_uuid = ?", (new_uuid,)
            )
        ] + [
            (created, 1, row_id, "task_transitions")
            for row_id, created in conn.execute(
                "SELECT id, created_at FROM task_transitions WHERE task_uuid = ?", (new_uuid,)
            )
        ]
        for index, (_, _, row_id, table) in enumerate(sorted(rows)):
            conn.execute(
                f"UPDATE {table} SET created_at = ? WHERE id = ?",
                (f"{created_at[:11]}09:00:00.{index:03d}Z", row_id),
            )
        for position, (step_uuid,) in enumerate(
            conn.execute(
                "SELECT uuid FROM steps WHERE task_uuid = ? ORDER BY position", (new_uuid,)
            ).fetchall()
        ):
            fixed = f"{new_uuid[0]}{position}{new_uuid[2:]}"
            for table in ("step_output", "step_results", "step_transitions"):
                conn.execute(
                    f"UPDATE {table} SET step_uuid = ? WHERE step_uuid = ?", (fixed, step_uuid)
                )
            conn.execute(
                "UPDATE step_edges SET from_step_uuid = ? WHERE from_step_uuid = ?",
                (fixed, step_uuid),
            )
            conn.execute(
                "UPDATE step_edges SET to_step_uuid = ? WHERE to_step_uuid = ?", (fixed, step_uuid)
            )
            conn.execute("UPDATE steps SET uuid = ? WHERE uuid = ?", (fixed, step_uuid))
    conn.close()


@pytest.fixture
def two_tasks(project: Path) -> Path:
    """A task that ran and is blocked by its failed step, and a newer one still pending."""
    ran = create(project, "--run", exit_code=1)
    pending = create(project)
    db = project / ".tasker" / "tasker.db"
    pin(db, ran, UUIDS[0], "2026-01-02T08:00:00.000Z")
    pin(db, pending, UUIDS[1], "2026-01-03T08:00:00.000Z")
    return db


# --- tables -----------------------------------------------------------------------------------

LIST = {
    80: """\
TASK      TEMPLATE      STATUS               STEPS  HEALTH   CREATED
bbbbbbbb  shop/proces…  pending              0/2    healthy  2026-01-03 08:00:00
aaaaaaaa  shop/proces…  blocked_by_failures  1/2    blocked  2026-01-02 08:00:00
""",
    120: """\
TASK      TEMPLATE                                    STATUS               STEPS  HEALTH   CREATED
bbbbbbbb  shop/process_order_with_a_long_name v1.0.0  pending              0/2    healthy  2026-01-03 08:00:00
aaaaaaaa  shop/process_order_with_a_long_name v1.0.0  blocked_by_failures  1/2    blocked  2026-01-02 08:00:00
""",
}

STEPS = """\
STEP                      STATE     ATTEMPTS  DEPS MET  RETRY  UUID
validate                  complete  1/3       yes       yes    a0aaaaaa
charge_the_customer_card  error     1/1       yes       no     a1aaaaaa
"""

AUDIT = {
    80: """\
#   TIME          SUBJECT      TRANSITION    EVENT         ATTEMPT  DETAILS
1   09:00:00.000  validate     (new) → pen…  create        0        -
2   09:00:00.001  charge_the…  (new) → pen…  create        0        -
3   09:00:00.002  task         (new) → pen…  create        -        -
4   09:00:00.003  task         pending → i…  start         -        -
5   09:00:00.004  task         initializin…  ready_steps…  -        -
6   09:00:00.005  task         enqueuing_s…  steps_enque…  -        -
7   09:00:00.006  validate     pending → e…  enqueue       0        -
8   09:00:00.007  validate     enqueued → …  start         1        -
9   09:00:00.008  validate     in_progress…  enqueue_for…  1        success=yes
10  09:00:00.009  validate     enqueued_fo…  complete      1        -
11  09:00:00.010  charge_the…  pending → e…  enqueue       0        -
12  09:00:00.011  charge_the…  enqueued → …  start         1        -
13  09:00:00.012  charge_the…  in_progress…  enqueue_as_…  1        success=no …
14  09:00:00.013  charge_the…  enqueued_as…  fail          1        reason=all …
15  09:00:00.014  task         steps_in_pr…  all_steps_c…  -        -
16  09:00:00.015  task         evaluating_…  permanent_f…  -        -
""",
    120: """\
#   TIME          SUBJECT                TRANSITION              EVENT                   ATTEMPT  DETAILS
1   09:00:00.000  validate               (new) → pending         create                  0        -
2   09:00:00.001  charge_the_customer_…  (new) → pending         create                  0        -
3   09:00:00.002  task                   (new) → pending         create                  -        -
4   09:00:00.003  task                   pending → initializing  start                   -        -
5   09:00:00.004  task                   initializing → enqueu…  ready_steps_found       -        -
6   09:00:00.005  task                   enqueuing_steps → ste…  steps_enqueued          -        -
7   09:00:00.006  validate               pending → enqueued      enqueue                 0        -
8   09:00:00.007  validate               enqueued → in_progress  start                   1        -
9   09:00:00.008  validate               in_progress → enqueue…  enqueue_for_orchestra…  1        success=yes
10  09:00:00.009  validate               enqueued_for_orchestr…  complete                1        -
11  09:00:00.010  charge_the_customer_…  pending → enqueued      enqueue                 0        -
12  09:00:00.011  charge_the_customer_…  enqueued → in_progress  start                   1        -
13  09:00:00.012  charge_the_customer_…  in_progress → enqueue…  enqueue_as_error_for_…  1        success=no reason=all…
14  09:00:00.013  charge_the_customer_…  enqueued_as_error_for…  fail                    1        reason=all 1 attempts…
15  09:00:00.014  task                   steps_in_process → ev…  all_steps_completed     -        -
16  09:00:00.015  task                   evaluating_results → …  permanent_failure       -        -
""",
}


@pytest.mark.parametrize("columns", [80, 120])
def test_list_steps_and_audit_print_one_row_per_record_cut_to_the_width(
    project: Path, two_tasks: Path, columns: int
) -> None:
    for args, expected in (
        (("task", "list"), LIST[columns]),
        (("task", "steps", "aaaa"), STEPS),
        (("task", "audit", "aaaa"), AUDIT[columns]),
    ):
        done = tasker_ctl(project, *args, columns=columns)
        assert (done.returncode, done.stdout, done.stderr) == (0, expected, ""), args
        assert max(map(len, done.stdout.splitlines())) <= columns


def test_list_says_how_many_it_leaves_out(project: Path, two_tasks: Path) -> None:
    done = tasker_ctl(project, "task", "list", "--limit", "1")
    assert done.stdout == (
        "TASK      TEMPLATE                  STATUS   STEPS  HEALTH   CREATED\n"
        "bbbbbbbb  shop/process_order_with…  pending  0/2    healthy  2026-01-03 08:00:00\n"
        "(showing 1 of 2 tasks: --limit shows more)\n"
    )


def test_json_of_the_listings_is_unchanged_by_the_tables(project: Path, two_tasks: Path) -> None:
    listed = json.loads(tasker_ctl(project, "task", "list", "-f", "json").stdout)
    assert [task["task_uuid"] for task in listed["tasks"]] == [UUIDS[1], UUIDS[0]]
    assert set(listed) == {"tasks", "total", "limit", "page"}  # page: from `task list --page`
    steps = json.loads(tasker_ctl(project, "task", "steps", "aaaa", "-f", "json").stdout)
    assert [step["name"] for step in steps] == ["validate", "charge_the_customer_card"]
    audit = json.loads(tasker_ctl(project, "task", "audit", "aaaa", "-f", "json").stdout)
    assert audit[13]["metadata"]["reason"].startswith("all 1 attempts")


def test_list_without_a_store_says_there_is_none(project: Path, tmp_path: Path) -> None:
    missing = tasker_ctl(project, "task", "list")
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        0,
        "No tasks: there is no store at .tasker/tasker.db (`tasker-ctl task create` makes one)\n",
        "",
    )
    assert not (project / ".tasker").exists()
    directory = tasker_ctl(project, "task", "list", "--db", "templates")
    assert (directory.returncode, directory.stdout, directory.stderr) == (
        66,
        "",
        "error: there is no store at templates (it is a directory)\n"
        "hint: create a task first with `tasker-ctl task create`, or point --db / "
        "TASKER_CTL_DB at your store\n",
    )


# --- task templates ---------------------------------------------------------------------------

TEMPLATES = {
    80: """\
NAMESPACE  NAME                 VERSION  STEPS  FILE        RUNS HERE
shop       process_order_with…  1.0.0    2      templates…  yes
warehouse  broken               1.0.0    -      templates…  no (invalid templat…
warehouse  ship                 2.0.0    2      templates…  no (Pack and 1 more…
""",
    120: """\
NAMESPACE  NAME                            VERSION  STEPS  FILE                 RUNS HERE
shop       process_order_with_a_long_name  1.0.0    2      templates/order.ya…  yes
warehouse  broken                          1.0.0    -      templates/broken.y…  no (invalid template: Step 'a' depends …
warehouse  ship                            2.0.0    2      templates/ship.yaml  no (Pack and 1 more do not resolve)
""",
}


@pytest.mark.parametrize("columns", [80, 120])
def test_task_templates_lists_the_local_templates_and_whether_they_run_here(
    project: Path, columns: int
) -> None:
    done = tasker_ctl(project, "task", "templates", columns=columns)
    assert (done.returncode, done.stdout, done.stderr) == (0, TEMPLATES[columns], "")


def test_task_templates_json_and_show(project: Path) -> None:
    listed = json.loads(tasker_ctl(project, "task", "templates", "--format", "json").stdout)
    ship = next(t for t in listed["templates"] if t["name"] == "ship")
    assert {key: ship[key] for key in ("namespace", "version", "step_count", "path")} == {
        "namespace": "warehouse",
        "version": "2.0.0",
        "step_count": 2,
        "path": "templates/ship.yaml",
    }
    assert ship["handlers_resolve"] is False
    assert ship["problems"][0].startswith("warehouse_handlers.Pack: ")
    shown = tasker_ctl(
        project, "task", "templates", "show", "shop", "process_order_with_a_long_name", "1.0.0"
    )
    assert (shown.returncode, shown.stdout) == (
        0,
        "Template Details\n"
        "  Name: shop/process_order_with_a_long_name v1.0.0\n"
        "  Description: -\n"
        "  File: templates/order.yaml\n"
        "  Runs here: yes\n"
        "  Steps (2):\n"
        "    • validate (up to 3 attempts): shop_handlers.validate\n"
        "    • charge_the_customer_card (up to 1 attempt): shop_handlers.charge\n",
    )
    unknown = tasker_ctl(project, "task", "templates", "show", "shop", "process_order", "1.0.0")
    assert unknown.returncode == 66
    assert "(did you mean 'shop/process_order_with_a_long_name v1.0.0'?)" in unknown.stderr


def test_bundled_templates_all_have_handlers_or_are_lint_only_examples() -> None:
    """templates/ holds what runs here (order_processing with --handlers handlers.orders, as
    the README says); examples/lint-only/ the patterns that have no handlers."""
    from subprocesses import REPO_ROOT

    done = tasker_ctl(
        REPO_ROOT,
        "task",
        "templates",
        "--handlers",
        "handlers",
        "--format",
        "json",
        "--templates",
        "templates",
    )
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)["templates"]
    bundled = [t for t in listed if t["path"].startswith("templates/")]
    assert len(bundled) == 5
    assert [t["name"] for t in bundled if not t["handlers_resolve"]] == []
    lint_only = sorted(p.name for p in (REPO_ROOT / "examples" / "lint-only").glob("*.yaml"))
    assert len(lint_only) == 5
    validated = tasker_ctl(REPO_ROOT, "template", "validate", "examples/lint-only")
    assert validated.returncode == 0, validated.stdout


# --- completion -------------------------------------------------------------------------------


def complete(
    project: Path, words: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """What bash completion offers for the last word of ``words``."""
    parts = words.split(" ")
    return tasker_ctl(
        project,
        env={
            "_TASKER_CTL_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(parts) - 1),
            **(env or {}),
        },
    )


def test_completion_offers_task_uuids_newest_first_and_step_names(
    project: Path, two_tasks: Path
) -> None:
    tasks = complete(project, "tasker-ctl task status ")
    assert (tasks.returncode, tasks.stdout, tasks.stderr) == (0, f"{UUIDS[1]}\n{UUIDS[0]}\n", "")
    assert complete(project, "tasker-ctl task logs a").stdout == f"{UUIDS[0]}\n"
    steps = complete(project, "tasker-ctl task step aaaa ")
    assert steps.stdout == "validate\ncharge_the_customer_card\n"
    assert complete(project, "tasker-ctl task audit aaaa ch").stdout == "charge_the_customer_card\n"


def test_completion_never_fails_loudly(project: Path, two_tasks: Path) -> None:
    (project / "garbage.db").write_text("not a database")
    for words in (
        "tasker-ctl task status --db garbage.db ",
        "tasker-ctl task status --db nowhere.db ",
        "tasker-ctl task step ffff ",
        "tasker-ctl task step --db garbage.db aaaa ",
    ):
        done = complete(project, words)  # an empty line: nothing to offer
        assert (done.returncode, done.stdout, done.stderr) == (0, "\n", ""), words
    bad_config = complete(project, "tasker-ctl task status ", env={"TASKER_CTL_DB": str(project)})
    assert (bad_config.returncode, bad_config.stdout, bad_config.stderr) == (0, "\n", "")


# --- messages and errors ----------------------------------------------------------------------


def test_success_messages_share_one_style_and_count_with_plurals(project: Path) -> None:
    created = tasker_ctl(
        project,
        "task",
        "create",
        "-n",
        "shop",
        "--name",
        "process_order_with_a_long_name",
        "-i",
        "{}",
    )
    first = created.stdout.splitlines()[0]
    assert first.startswith("✓ Created task ") and len(first) == len("✓ Created task ") + 36
    task = first.split()[-1]
    cancelled = tasker_ctl(project, "task", "cancel", task)
    assert cancelled.stdout == f"✓ Cancelled task {task}\n"
    drawn = tasker_ctl(project, "task", "visualize", task, "-o", "task.mmd")
    assert drawn.stdout == "✓ Wrote task.mmd\n"
    schema = tasker_ctl(project, "template", "schema", "-o", "schema.json")
    assert schema.stdout == "✓ Wrote schema.json\n"
    valid = tasker_ctl(project, "template", "validate", "templates/order.yaml")
    assert (
        valid.stdout.splitlines()[-1]
        == "✓ 1 template file valid: 0 errors, 0 warnings, 2 info; 2 not shown (--min-severity info shows all)"
    )


def test_errors_under_format_json_are_one_json_document_on_stderr(project: Path) -> None:
    create(project)
    for args, code, exit_code in (
        (("task", "status", "ffff", "--format", "json"), "not_found", 66),
        (("task", "list", "--status", "nope", "-f", "json"), "usage", 2),
        (("task", "list", "--limit", "many", "--format", "json"), "usage", 2),
        (
            ("task", "create", "-n", "shop", "--name", "x", "-i", "[", "--format", "json"),
            "invalid_data",
            65,
        ),
    ):
        done = tasker_ctl(project, *args)
        assert (done.returncode, done.stdout) == (exit_code, ""), args
        document = json.loads(done.stderr)
        assert list(document) == ["error"]
        assert list(document["error"]) == ["code", "exit_code", "message", "hint"]
        assert (document["error"]["code"], document["error"]["exit_code"]) == (code, exit_code)
    status = json.loads(tasker_ctl(project, "task", "status", "ffff", "-f", "json").stderr)
    assert status == {
        "error": {
            "code": "not_found",
            "exit_code": 66,
            "message": "no task 'ffff' in the store .tasker/tasker.db",
            "hint": "list tasks with `tasker-ctl task list`",
        }
    }
    text = tasker_ctl(project, "task", "status", "ffff")
    assert text.stderr == (
        "error: no task 'ffff' in the store .tasker/tasker.db\n"
        "hint: list tasks with `tasker-ctl task list`\n"
    )


def test_usage_lines_name_arguments_in_capitals() -> None:
    from subprocesses import REPO_ROOT

    done = tasker_ctl(REPO_ROOT, "task", "audit", "--help", columns=100)
    assert "Usage: tasker-ctl task audit [OPTIONS] TASK [STEP]" in done.stdout
    assert "{" not in done.stdout


# --- delete and prune -------------------------------------------------------------------------


def rows_of(db: Path, task_uuid: str) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        counts = {
            table: conn.execute(f"SELECT COUNT(*) FROM {table} WHERE task_uuid = ?", (task_uuid,)).fetchone()[0]
            for table in (
                "steps", "step_edges", "task_transitions", "step_transitions", "step_results",
                "step_output", "run_leases",
            )
        }  # fmt: skip
        counts["tasks"] = conn.execute(
            "SELECT COUNT(*) FROM tasks WHERE uuid = ?", (task_uuid,)
        ).fetchone()[0]
        counts["template_snapshots"] = conn.execute(
            "SELECT COUNT(*) FROM template_snapshots"
        ).fetchone()[0]
        return counts
    finally:
        conn.close()


def test_delete_takes_everything_recorded_about_the_task_and_nothing_else(
    project: Path, two_tasks: Path
) -> None:
    before = rows_of(two_tasks, UUIDS[0])
    assert before["step_transitions"] and before["step_results"] and before["run_leases"]
    other = rows_of(two_tasks, UUIDS[1])
    done = tasker_ctl(project, "task", "delete", "aaaa")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"✓ Deleted task {UUIDS[0]} (shop/process_order_with_a_long_name v1.0.0, blocked_by_failures)\n",
        "",
    )
    assert rows_of(two_tasks, UUIDS[0]) == dict.fromkeys(before, 0) | {"template_snapshots": 1}
    assert rows_of(two_tasks, UUIDS[1]) == other
    again = tasker_ctl(project, "task", "delete", "aaaa", "--format", "json")
    assert again.returncode == 66 and json.loads(again.stderr)["error"]["code"] == "not_found"
    last = tasker_ctl(project, "task", "delete", "bbbb", "--format", "json")
    assert json.loads(last.stdout)["deleted"][0]["task_uuid"] == UUIDS[1]
    assert rows_of(two_tasks, UUIDS[1])["template_snapshots"] == 0  # no task uses it any more


def test_prune_deletes_old_tasks_at_rest_unless_told_which_states(
    project: Path, two_tasks: Path
) -> None:
    newest = create(project, "--run", exit_code=1)  # blocked, created now: too young
    conn = sqlite3.connect(two_tasks)
    with conn:
        conn.execute("UPDATE tasks SET state = 'complete' WHERE uuid = ?", (UUIDS[0],))
    conn.close()
    dry = tasker_ctl(project, "task", "prune", "--older-than", "30d", "--dry-run")
    assert dry.returncode == 0
    assert dry.stdout.startswith("Would delete 1 task created before ")
    assert dry.stdout.endswith(
        " (complete, error, cancelled, resolved_manually):\n"
        f"  {UUIDS[0]}  shop/process_order_with_a_long_name v1.0.0  complete\n"
    )
    assert rows_of(two_tasks, UUIDS[0])["tasks"] == 1
    pruned = tasker_ctl(project, "task", "prune", "--older-than", "30d")
    assert pruned.stdout.startswith("✓ Deleted 1 task created before ")
    assert rows_of(two_tasks, UUIDS[0])["tasks"] == 0
    assert rows_of(two_tasks, UUIDS[1])["tasks"] == 1  # pending: not at rest
    nothing = tasker_ctl(project, "task", "prune", "--older-than", "30d")
    assert nothing.stdout.startswith("No tasks to prune: none created before ")
    pending = tasker_ctl(
        project, "task", "prune", "--older-than", "30d", "--status", "pending", "-f", "json"
    )
    assert [task["task_uuid"] for task in json.loads(pending.stdout)["deleted"]] == [UUIDS[1]]
    assert rows_of(two_tasks, newest)["tasks"] == 1
    bad = tasker_ctl(project, "task", "prune", "--older-than", "a month")
    assert (bad.returncode, bad.stderr) == (
        2,
        "error: --older-than 'a month' is not a duration\n"
        "hint: give a number and a unit: 45m, 12h, 30d or 2w\n",
    )


def test_a_task_a_live_run_holds_is_neither_deleted_nor_pruned(tmp_path: Path) -> None:
    flow = Workflow(tmp_path, HELD_THEN_NEXT)
    task_uuid = flow.create()
    run = flow.start("task", "run", task_uuid)
    try:
        wait_for(lambda: len(starts(flow.journal, "first")) == 1, "the run to hold its first step")
        refused = flow.run("task", "delete", task_uuid)
        assert refused.returncode == 75
        assert refused.stderr.startswith(
            f"error: task {task_uuid} is being run by process {run.pid} since "
        )
        assert "it was not deleted" in refused.stderr
        pruned = flow.run("task", "prune", "--older-than", "0s", "--status", "steps_in_process")
        assert pruned.returncode == 0
        assert pruned.stderr == f"! kept task {task_uuid}: a live run holds it\n"
        assert flow.status_json(task_uuid)["status"] == "steps_in_process"
    finally:
        flow.gate.touch()
        code, _, err = finish(run)
    assert code == 0, err
    assert flow.run("task", "delete", task_uuid).returncode == 0
