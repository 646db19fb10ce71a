"""The task commands with ``--profile`` against the fake Tasker server (every request checked
against the OpenAPI document), the profile commands, the refusals and each error path, through
the CLI; and that without a profile nothing imports httpx."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_tasker_server import API_KEY, FakeTasker, Injected
from subprocesses import REPO_ROOT, subprocess_env, tasker_ctl_command
from typer.testing import CliRunner, Result

from tasker_ctl.cli import app

TEMPLATES = REPO_ROOT / "templates"
ORDER = "@" + str(TEMPLATES / "inputs" / "ecommerce_order.json")
STEPS = [
    ("validate_cart", []),
    ("process_payment", ["validate_cart"]),
    ("update_inventory", ["validate_cart"]),
    ("create_order", ["process_payment", "update_inventory"]),
    ("send_confirmation", ["create_order"]),
]
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def fake() -> Iterator[FakeTasker]:
    server = FakeTasker()
    server.start()
    server.add_template("ecommerce", "ecommerce_order_processing", "1.0.0", STEPS)
    yield server
    server.stop()
    assert server.violations == [], "\n".join(server.violations)


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeTasker) -> Path:
    """A project whose .config/tasker.toml has a profile on the fake server, a profile with a
    wrong key and one on a closed port; templates from the repository."""
    monkeypatch.chdir(tmp_path)
    for variable in ("TASKER_API_KEY", "TASKER_AUTH_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("TASKER_ORCHESTRATION_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("TASKER_ORCHESTRATION_URL", raising=False)
    monkeypatch.setenv("TASKER_TEMPLATE_PATH", str(TEMPLATES))
    monkeypatch.setenv("TASKER_CTL_DB", str(tmp_path / "local.db"))
    config = tmp_path / ".config"
    config.mkdir()
    (config / "tasker.toml").write_text(
        f"""
[profile.default.orchestration]
base_url = "http://127.0.0.1:9"
max_retries = 0

[profile.fake]
description = "the contract tests' fake server"

[profile.fake.orchestration]
base_url = "{fake.base_url}"

[profile.fake.orchestration.auth]
method = {{ type = "ApiKey", value = {{ key = "{API_KEY}" }} }}

[profile.wrongkey.orchestration]
base_url = "{fake.base_url}"

[profile.wrongkey.orchestration.auth]
method = {{ type = "ApiKey", value = {{ key = "not-the-key" }} }}
"""
    )
    return tmp_path


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def remote(*args: str) -> Result:
    return run("--profile", "fake", *args)


def create(*extra: str) -> str:
    result = remote(
        "task", "create", "-n", "ecommerce", "--name", "ecommerce_order_processing",
        "--input", ORDER, "-q", *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_create_status_steps_step_and_list_work_on_the_server(fake: FakeTasker) -> None:
    task = create()
    assert task in fake.tasks
    status = remote("task", "status", task, "--no-graph")
    assert status.exit_code == 0
    assert f"  UUID: {task}\n" in status.stdout
    assert "  • validate_cart      pending  0/3" in status.stdout
    as_json = json.loads(remote("task", "status", task, "--format", "json").stdout)
    assert {"from": "validate_cart", "to": "process_payment"} in as_json["edges"]
    steps = json.loads(remote("task", "steps", task, "--format", "json").stdout)
    assert [s["name"] for s in steps][:2] == ["validate_cart", "process_payment"]
    step = remote("task", "step", task, "process_payment")
    assert "  Dependencies: validate_cart\n" in step.stdout
    listing = json.loads(remote("task", "list", "--format", "json").stdout)
    assert [t["task_uuid"] for t in listing["tasks"]] == [task]
    assert listing["total"] == 1


def test_status_draws_the_graph_from_the_local_template(fake: FakeTasker) -> None:
    task = create()
    fake.set_step(task, "validate_cart", "complete")
    result = remote("task", "status", task)
    assert result.exit_code == 0
    assert "validate_cart" in result.stdout and "│" in result.stdout


def test_watch_polls_until_the_task_rests(fake: FakeTasker) -> None:
    task = create()
    fake.set_step(task, "validate_cart", "error", error="declined")  # blocked: at rest
    result = remote("task", "status", task, "--watch", "--no-graph")
    assert result.exit_code == 0 and "blocked_by_failures" in result.stdout


def test_watch_waits_for_the_server_to_start_a_pending_task(fake: FakeTasker) -> None:
    task = create()
    blocked = threading.Timer(0.3, fake.set_step, (task, "validate_cart", "error"), {"error": "x"})
    blocked.start()
    result = remote("task", "status", task, "--watch", "--no-graph", "--exit-status")
    blocked.join()
    assert result.exit_code == 1  # --exit-status: the task ended blocked
    assert result.stdout.startswith(
        "Waiting for the server to start the task; Ctrl-C stops watching.\n"
        "  the server of profile: fake\n"
        "Task Details\n"
    )
    assert "  Status: blocked_by_failures\n" in result.stdout


def test_operator_commands_work_on_the_server(fake: FakeTasker) -> None:
    task = create()
    fake.set_step(task, "validate_cart", "error", error="declined")
    reset = remote("task", "reset-step", task, "validate_cart", "--reason", "transient")
    assert reset.exit_code == 0 and "  New state: pending\n" in reset.stdout
    audit = json.loads(remote("task", "audit", task, "validate_cart", "--format", "json").stdout)
    assert [entry["event"] for entry in audit] == ["fail", "reset_for_retry"]
    resolve = remote("task", "resolve-step", task, "validate_cart", "--reason", "by hand")
    assert resolve.exit_code == 0 and "resolved_manually" in resolve.stdout
    complete = remote(
        "task", "complete-step", task, "process_payment", "--result", '{"paid": true}',
        "--reason", "paid offline",
    )  # fmt: skip
    assert complete.exit_code == 0
    assert fake.calls("resolve_step_manually")[-1].body["completion_data"] == {
        "result": {"paid": True}
    }
    cancel = remote("task", "cancel", task)
    assert cancel.exit_code == 0 and f"Cancelled task {task}" in cancel.stdout
    again = remote("task", "cancel", task)
    assert again.exit_code == 1 and "Cannot cancel" in again.stderr


def test_create_sends_priority_idempotency_key_and_tags(fake: FakeTasker) -> None:
    create("-p", "8", "--idempotency-key", "order-7", "--tag", "replay", "--tag", "urgent")
    body = fake.calls("create_task")[-1].body
    assert (body["priority"], body["idempotency_key"], body["tags"]) == (
        8,
        "order-7",
        ["replay", "urgent"],
    )
    again = remote(
        "task", "create", "-n", "ecommerce", "--name", "ecommerce_order_processing",
        "--input", ORDER, "--idempotency-key", "order-7",
    )  # fmt: skip
    assert again.exit_code == 75, again.output  # the server's 409: that key made a task already
    assert again.stderr.startswith("error: ")


def test_tags_and_idempotency_keys_are_refused_locally(project: Path) -> None:
    result = run(
        "task", "create", "-n", "ecommerce", "--name", "ecommerce_order_processing",
        "--input", ORDER, "--tag", "replay", "--idempotency-key", "k",
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --idempotency-key and --tag: only a Tasker server keeps these; a local task "
        "has no tags and no idempotency key\n"
        "hint: create the task on a server with `tasker-ctl --profile NAME task create …`, "
        "or leave the option out\n"
    )
    assert not (project / "local.db").exists()  # nothing was stored


@pytest.mark.parametrize("where", ["server", "local"])
def test_list_pages(fake: FakeTasker, where: str) -> None:
    invoke = remote if where == "server" else run
    made = []
    for _ in range(3):
        result = invoke(
            "task", "create", "-n", "ecommerce", "--name", "ecommerce_order_processing",
            "--input", ORDER, "-q",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        made.append(result.stdout.strip())
    pages = [
        json.loads(invoke("task", "list", "-l", "2", "--page", page, "--format", "json").stdout)
        for page in ("1", "2", "3")
    ]
    assert [[t["task_uuid"] for t in page["tasks"]] for page in pages] == [
        [made[2], made[1]],
        [made[0]],
        [],
    ]
    assert [(page["total"], page["limit"], page["page"]) for page in pages] == [
        (3, 2, 1),
        (3, 2, 2),
        (3, 2, 3),
    ]
    bad = invoke("task", "list", "--page", "0")
    assert bad.exit_code == 2 and bad.stderr == "error: --page must be at least 1, not 0\n"


def test_templates_list_and_show() -> None:
    listing = remote("task", "templates")
    assert listing.exit_code == 0
    assert "  • ecommerce/ecommerce_order_processing v1.0.0 (5 steps)" in listing.stdout
    shown = remote("task", "templates", "show", "ecommerce", "ecommerce_order_processing", "1.0.0")
    assert "    • validate_cart (up to 3 attempts)" in shown.stdout
    missing = remote("task", "templates", "show", "ecommerce", "nope", "1.0.0")
    assert missing.exit_code == 66
    local = run("task", "templates")  # without a profile: the local search path's templates
    assert local.exit_code == 0 and local.stdout.startswith("NAMESPACE")


def test_the_environment_variable_selects_the_profile(fake: FakeTasker) -> None:
    result = run("task", "list", env={"TASKER_CLIENT_PROFILE": "fake"})
    assert result.exit_code == 0 and fake.calls("list_tasks")


def test_the_input_is_checked_locally_before_anything_is_sent(fake: FakeTasker) -> None:
    result = remote(
        "task", "create", "-n", "ecommerce", "--name", "ecommerce_order_processing",
        "--input", '{"customer_info": {}}',
    )  # fmt: skip
    assert result.exit_code == 65 and "input_schema" in result.stderr
    assert fake.calls("create_task") == []


@pytest.mark.parametrize(
    ("args", "instead"),
    [
        (["task", "run", MISSING], "task status TASK --watch"),
        (["task", "retry", MISSING], "task reset-step TASK STEP"),
        (
            ["task", "create", "-n", "ecommerce", "--name", "ecommerce_order_processing",
             "--input", ORDER, "--run"],
            "leave out --run",
        ),
    ],
)  # fmt: skip
def test_commands_that_need_the_local_engine_refuse(
    fake: FakeTasker, args: list[str], instead: str
) -> None:
    result = remote(*args)
    assert result.exit_code == 2
    assert "needs the local engine" in result.stderr and instead in result.stderr
    assert fake.seen == []


@pytest.mark.parametrize(
    ("profile", "args", "code", "fragment"),
    [
        ("fake", ["task", "status", MISSING], 66, f"no task {MISSING}"),
        ("fake", ["task", "status", "0000"], 2, "full task UUID"),
        ("wrongkey", ["task", "status", MISSING], 77, "tasks:read"),
        ("wrongkey", ["task", "list"], 77, "tasks:list"),
        ("default", ["task", "list"], 69, "connection refused"),
    ],
)
def test_error_paths_exit_with_their_codes(
    profile: str, args: list[str], code: int, fragment: str
) -> None:
    result = run("--profile", profile, *args)
    assert result.exit_code == code, result.output
    first, *rest = result.stderr.splitlines()
    assert first.startswith("error: ") and fragment in first
    assert rest and rest[0].startswith("hint: ")
    assert "not-the-key" not in result.stderr


def test_forbidden_conflict_unavailable_and_protocol_errors(fake: FakeTasker) -> None:
    task = create("--format", "text")
    fake.forbidden.add("tasks:cancel")
    forbidden = remote("task", "cancel", task)
    assert forbidden.exit_code == 77 and "tasks:cancel" in forbidden.stderr
    fake.inject("create_task", Injected(409, {"Conflict": {"message": "duplicate identity"}}))
    conflict = remote(
        "task", "create", "-n", "ecommerce", "--name", "ecommerce_order_processing",
        "--input", ORDER,
    )  # fmt: skip
    assert conflict.exit_code == 75 and "409" in conflict.stderr
    fake.inject("get_task", Injected(503, "ServiceUnavailable"))  # max_retries 0 from default
    unavailable = remote("task", "status", task)
    assert unavailable.exit_code == 69 and "503" in unavailable.stderr
    assert len(fake.calls("get_task")) == 2  # cancel's read, then the one failed attempt
    fake.inject("get_task", Injected(200, {"task_uuid": task}))
    broken = remote("task", "status", task)
    assert broken.exit_code == 76 and "breaks its schema" in broken.stderr, broken.stderr


def test_profile_list_show_and_check(fake: FakeTasker) -> None:
    listing = run("profile", "list")
    assert listing.exit_code == 0
    assert "  fake\n    the contract tests' fake server\n" in listing.stdout
    shown = remote("profile", "show")
    assert "    Auth: ApiKey in X-API-Key (from profile file)\n" in shown.stdout
    assert API_KEY not in shown.stdout + remote("profile", "show", "--format", "json").stdout
    check = run("profile", "check", "fake")
    assert check.exit_code == 0 and "Profile 'fake' is healthy." in check.stdout
    assert fake.calls("basic_health") and fake.calls("list_tasks")
    wrong = run("profile", "check", "wrongkey")
    assert wrong.exit_code == 77
    unknown = run("profile", "show", "fkae")
    assert unknown.exit_code == 66 and "did you mean 'fake'" in unknown.stderr


def test_the_entry_point_sends_a_profiled_command_to_the_server(
    fake: FakeTasker, project: Path
) -> None:
    env = subprocess_env(TASKER_TEMPLATE_PATH=str(TEMPLATES))
    completed = subprocess.run(
        tasker_ctl_command("--profile", "fake", "task", "status", MISSING),
        cwd=project, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert completed.returncode == 66, completed.stderr
    assert fake.calls("get_task")


def test_a_local_command_does_not_import_httpx(tmp_path: Path) -> None:
    db = tmp_path / "local.db"
    created = subprocess.run(
        tasker_ctl_command(
            "task", "create", "-n", "ecommerce", "--name", "ecommerce_order_processing",
            "--input", ORDER, "--db", str(db), "-q",
        ),
        cwd=REPO_ROOT, env=subprocess_env(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['tasker-ctl', 'task', 'status', {created.stdout.strip()!r}, '--db', {str(db)!r}]\n"
        "try:\n    runpy.run_module('tasker_ctl', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print('httpx' in sys.modules, 'tasker_ctl.remote.client' in sys.modules, file=sys.stderr)\n"
    )
    env = {key: value for key, value in subprocess_env().items() if key != "TASKER_CLIENT_PROFILE"}
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert "Task Details" in completed.stdout, completed.stderr
    assert completed.stderr.strip().splitlines()[-1] == "False False"
