"""The loop after a step fails, through the real CLI: see why, see what it printed, carry on.

Every test writes a project (templates and a ``handlers`` package) to disk and runs
``tasker-ctl`` in a subprocess from it, as a developer does. Output tasker-ctl writes itself is
compared exactly at 80 and 120 columns; for tracebacks the frames and their ``file:line`` are
checked, not the layout rich draws them in.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from subprocesses import run_tasker_ctl, subprocess_env, tasker_ctl_command

PAYMENTS = """\
def validate(context):
    return {"ok": True}


def charge_card(context):
    order = {"total": 12.5}
    print("charging card")
    return {"charged": order["missing_key"]}
"""
RAISE_LINE = 8  # the line of `order["missing_key"]` above

CHATTY = """\
import logging
import sys
import time

log = logging.getLogger("chatty")


def talk(context):
    name = context.step_config["who"]
    for n in range(1, 4):
        print(f"{name} says line {n}")
        time.sleep(0.05)
    return {"who": name, "order_id": "ORD-" + "7" * 200}


def noisy(context):
    print("to stdout")
    print("to stderr", file=sys.stderr)
    log.info("an info record")
    log.warning("a warning record")
    return {}


def flood(context):
    for n in range(30_000):
        print(f"line {n:05d} " + "x" * 40)
    return {}


def flaky(context):
    if context.retry_count < 2:
        raise ConnectionError("remote refused")
    return {"order_id": "ORD-1234", "lines": list(range(40))}


def slow(context):
    print("slow started", flush=True)
    time.sleep(float(context.step_config.get("seconds", 30)))
    return {}
"""


def template(name: str, steps: list[dict[str, object]]) -> str:
    return json.dumps({"name": name, "namespace_name": "shop", "version": "1.0.0", "steps": steps})


def step(
    name: str, call: str, *deps: str, attempts: int = 3, **config: object
) -> dict[str, object]:
    return {
        "name": name,
        "handler": {"callable": call, "initialization": config},
        "dependencies": list(deps),
        "retry": {"retryable": True, "max_attempts": attempts, "backoff": "none"},
    }


TEMPLATES = {
    "pay": [
        step("validate", "handlers.x.validate"),
        step("charge_card", "handlers.x.charge_card", "validate", attempts=2),
        step("ship", "handlers.x.validate", "charge_card"),
    ],
    "chatty": [
        step("alpha", "handlers.chatty.talk", who="alpha"),
        step("beta", "handlers.chatty.talk", who="beta"),
        step("gamma", "handlers.chatty.talk", who="gamma"),
    ],
    "noisy": [step("noisy", "handlers.chatty.noisy")],
    "flood": [step("flood", "handlers.chatty.flood")],
    "retries": [
        step("fetch_remote", "handlers.chatty.flaky"),
        step("finalize", "handlers.chatty.talk", "fetch_remote", who="finalize"),
    ],
    "slow": [
        step("quick", "handlers.x.validate"),
        step("slow", "handlers.chatty.slow", "quick", seconds=30),
        step("after", "handlers.x.validate", "slow"),
    ],
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project: ./templates, a ./handlers package (x.py, chatty.py), a store in ./.tasker."""
    (tmp_path / "templates").mkdir()
    for name, steps in TEMPLATES.items():
        (tmp_path / "templates" / f"{name}.yaml").write_text(template(name, steps))
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "__init__.py").write_text("")
    (tmp_path / "handlers" / "x.py").write_text(PAYMENTS)
    (tmp_path / "handlers" / "chatty.py").write_text(CHATTY)
    return tmp_path


def cli(project: Path, *args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    return run_tasker_ctl(*args, cwd=project, env={"COLUMNS": str(columns)})


def create(project: Path, name: str) -> str:
    done = cli(project, "task", "create", "-n", "shop", "--name", name, "-i", "{}", "-q")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def summary_of(stdout: str) -> list[str]:
    """The summary: the lines from the one that starts with ✓, ✗ or ! on."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line[:1] in "✓✗!")
    return lines[start:]


# --- 1. why a step failed ---------------------------------------------------------------------


@pytest.mark.parametrize("columns", [80, 120])
def test_summary_names_the_exception_and_where_it_was_raised(project: Path, columns: int) -> None:
    task_uuid = create(project, "pay")

    run = cli(project, "task", "run", task_uuid, columns=columns)

    assert run.returncode == 1
    summary = summary_of(run.stdout)
    assert re.fullmatch(
        r"✗ Task shop/pay v1\.0\.0 blocked_by_failures: 1/3 steps complete, 1 failed, "
        r"1 not run \(\d+\.\d\ds\)",
        summary[0],
    )
    assert summary[1] == "  ✗ charge_card: KeyError: 'missing_key'"
    assert re.fullmatch(rf"    at handlers/x\.py:{RAISE_LINE} · 2 attempts, \d+\.\d\ds", summary[2])
    assert summary[3] == "Next, once the cause is fixed:"  # then the commands to type


def test_task_step_shows_the_error_in_full_with_the_handlers_frames(project: Path) -> None:
    task_uuid = create(project, "pay")
    cli(project, "task", "run", task_uuid)
    # Edited after the failure: what is shown is the source as it ran.
    handler = project / "handlers" / "x.py"
    handler.write_text(PAYMENTS.replace('order["missing_key"]', 'order.get("fixed")'))

    shown = cli(project, "task", "step", task_uuid, "charge_card", columns=200)

    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "  Last failure: KeyError: 'missing_key' (handler_error)\n" in out
    assert "Error of attempt 2/2 (" in out
    assert "  Exception: KeyError: 'missing_key'\n" in out
    assert "  Error type: handler_error\n" in out
    assert "  Retryable: Yes\n" in out
    assert f"  Raised at: handlers/x.py:{RAISE_LINE}\n" in out
    assert "  Other failed attempts: 1 (--attempt N shows one)\n" in out
    assert f"{handler}:{RAISE_LINE}" in out and "charge_card" in out
    assert 'order["missing_key"]' in out and "order.get" not in out
    assert "tasker_ctl" not in out
    assert "1 tasker-ctl frame hidden: --full-traceback shows them" in out

    full = cli(project, "task", "step", task_uuid, "charge_card", "--full-traceback", columns=200)
    assert "tasker_ctl/handlers/invoke.py" in full.stdout
    assert f"{handler}:{RAISE_LINE}" in full.stdout


def test_task_step_json_carries_the_exception_frames_and_traceback(project: Path) -> None:
    task_uuid = create(project, "pay")
    cli(project, "task", "run", task_uuid)

    shown = cli(project, "task", "step", task_uuid, "charge_card", "--format", "json")

    document = json.loads(shown.stdout)
    error = document["error"]
    assert error["exception_type"] == "KeyError"
    assert error["message"] == "'missing_key'"
    handler = str((project / "handlers" / "x.py").resolve())
    assert error["raised_at"] == {"file": handler, "line": RAISE_LINE}
    own = [frame for frame in error["frames"] if not frame["internal"]]
    assert [(f["file"], f["line"], f["function"], f["source"]) for f in own] == [
        (handler, RAISE_LINE, "charge_card", 'return {"charged": order["missing_key"]}')
    ]
    assert any(frame["internal"] for frame in error["frames"])
    assert error["traceback"].startswith("Traceback (most recent call last):")
    assert error["traceback"].rstrip().endswith("KeyError: 'missing_key'")
    history = document["attempt_history"]
    assert [(a["attempt"], a["success"]) for a in history] == [(1, False), (2, False)]
    assert all(a["error"]["exception_type"] == "KeyError" for a in history)


def test_task_step_attempt_shows_an_earlier_error_and_refuses_one_not_made(project: Path) -> None:
    task_uuid = create(project, "pay")
    cli(project, "task", "run", task_uuid)

    first = cli(project, "task", "step", task_uuid, "charge_card", "--attempt", "1", columns=200)
    missing = cli(project, "task", "step", task_uuid, "charge_card", "--attempt", "5")

    assert "Error of attempt 1/2 (" in first.stdout
    assert "  Other failed attempts: 2 (--attempt N shows one)\n" in first.stdout
    assert missing.returncode == 66
    assert missing.stderr.startswith(
        "error: step 'charge_card' has no recorded attempt 5 (attempts recorded: 1, 2)\n"
    )
    assert "Traceback" not in missing.stderr


# --- 2. what a step printed -------------------------------------------------------------------


def _logs_expected(columns: int) -> str:
    blocks = []
    for name in ("alpha", "beta", "gamma"):
        heading = f"── {name} · attempt 1 "
        lines = "".join(f"{name} says line {n}\n" for n in (1, 2, 3))
        blocks.append(heading + "─" * (columns - len(heading)) + "\n" + lines)
    return "\n".join(blocks)


@pytest.mark.parametrize("columns", [80, 120])
def test_task_logs_shows_every_printed_line_under_its_step(project: Path, columns: int) -> None:
    task_uuid = create(project, "chatty")
    assert cli(project, "task", "run", task_uuid).returncode == 0

    logs = cli(project, "task", "logs", task_uuid, columns=columns)

    assert logs.returncode == 0, logs.stderr
    assert logs.stdout == _logs_expected(columns)


def test_task_logs_of_one_step_attempt_and_as_json(project: Path) -> None:
    task_uuid = create(project, "chatty")
    cli(project, "task", "run", task_uuid)

    beta = cli(project, "task", "logs", task_uuid, "beta", "--attempt", "1", "--format", "json")
    none = cli(project, "task", "logs", task_uuid, "beta", "--attempt", "2")

    lines = json.loads(beta.stdout)
    assert [(x["step_name"], x["attempt"], x["stream"], x["text"]) for x in lines] == [
        ("beta", 1, "stdout", f"beta says line {n}") for n in (1, 2, 3)
    ]
    assert none.stdout == f"No output recorded for task {task_uuid} (status: complete)\n"


def test_piped_run_prints_each_line_with_its_step_before_the_step_completes(
    project: Path,
) -> None:
    task_uuid = create(project, "chatty")

    run = cli(project, "task", "run", task_uuid)

    lines = run.stdout.splitlines()
    for name in ("alpha", "beta", "gamma"):
        said = [i for i, line in enumerate(lines) if line.endswith(f" {name} | {name} says line 1")]
        said += [i for i, line in enumerate(lines) if f" {name} | {name} says line" in line][1:]
        completed = next(i for i, line in enumerate(lines) if f"step {name}: " in line and
                         line.endswith("-> complete"))  # fmt: skip
        assert len(said) == 3 and max(said) < completed, run.stdout
        assert [lines[i].split(" | ")[1] for i in said] == [
            f"{name} says line {n}" for n in (1, 2, 3)
        ]


def test_json_run_reports_output_as_events(project: Path) -> None:
    task_uuid = create(project, "chatty")

    run = cli(project, "task", "run", task_uuid, "--format", "json")

    events = [json.loads(line) for line in run.stdout.splitlines()]
    output = [e for e in events if e["type"] == "step_output"]
    assert sorted((e["step_name"], e["text"]) for e in output) == sorted(
        (name, f"{name} says line {n}") for name in ("alpha", "beta", "gamma") for n in (1, 2, 3)
    )
    assert {(e["stream"], e["attempt"]) for e in output} == {("stdout", 1)}


def test_stderr_and_logging_records_are_captured_with_the_attempt(project: Path) -> None:
    task_uuid = create(project, "noisy")

    run = cli(project, "task", "run", task_uuid)
    logs = cli(project, "task", "logs", task_uuid, "--format", "json")

    assert run.returncode == 0
    assert "to stderr" not in run.stderr and "a warning record" not in run.stderr
    assert [(x["stream"], x["text"]) for x in json.loads(logs.stdout)] == [
        ("stdout", "to stdout"),
        ("stderr", "to stderr"),
        ("log", "INFO chatty: an info record"),
        ("log", "WARNING chatty: a warning record"),
    ]


def test_output_over_the_cap_is_cut_and_the_cut_is_reported(project: Path) -> None:
    task_uuid = create(project, "flood")
    cli(project, "task", "run", task_uuid, "--quiet")

    logs = cli(project, "task", "logs", task_uuid, "--format", "json")

    lines = json.loads(logs.stdout)
    kept = [x for x in lines if x["stream"] == "stdout"]
    assert sum(len(x["text"]) + 1 for x in kept) <= 1_000_000
    assert kept[0]["text"].startswith("line 00000 ") and len(kept) == 1_000_000 // 52
    assert lines[-1]["stream"] == "note"
    cut = 30_000 - len(kept)
    assert lines[-1]["text"] == (
        f"output cut: {cut:,} more lines ({cut * 52:,} characters) were not kept; "
        "the limit is 1,000,000 characters per attempt"
    )


def test_task_logs_follow_prints_lines_while_another_process_runs_the_task(
    project: Path,
) -> None:
    (project / "templates" / "slowtalk.yaml").write_text(
        template("slowtalk", [step("alpha", "handlers.chatty.talk", who="alpha")])
    )
    (project / "handlers" / "chatty.py").write_text(CHATTY.replace("0.05", "0.5"))
    task_uuid = create(project, "slowtalk")
    runner = subprocess.Popen(
        tasker_ctl_command("task", "run", task_uuid, "--quiet"),
        cwd=project,
        env=subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        follow = cli(project, "task", "logs", task_uuid, "--follow")
    finally:
        runner.wait(timeout=60)

    assert follow.stdout == "".join(f"alpha | alpha says line {n}\n" for n in (1, 2, 3))


# --- 4. Ctrl-C --------------------------------------------------------------------------------


def _wait_for(process: subprocess.Popen[str], text: str, seen: list[str]) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if text in line:
            return
    raise AssertionError(f"{text!r} never appeared in {''.join(seen)}")


def test_ctrl_c_is_acknowledged_at_once_and_a_second_says_what_was_abandoned(
    project: Path,
) -> None:
    task_uuid = create(project, "slow")
    process = subprocess.Popen(
        tasker_ctl_command("task", "run", task_uuid),
        cwd=project,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    try:
        _wait_for(process, "slow | slow started", seen)
        process.send_signal(signal.SIGINT)
        _wait_for(process, "stopping:", seen)
        assert seen[-1].split(" ", 1)[1] == (
            "stopping: waiting up to 10 s for 1 running step (slow) — Ctrl-C again to stop now\n"
        )
        process.send_signal(signal.SIGINT)
        rest, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 130, stderr
    summary = summary_of(rest)
    assert summary[0].startswith("! Interrupted after ")
    assert summary[0].endswith(
        f"1/3 steps complete; run `tasker-ctl task run {task_uuid}` to resume"
    )
    assert summary[1] == "  ! abandoned while running: slow (run again when the task resumes)"


# --- 5. results and retries -------------------------------------------------------------------


@pytest.mark.parametrize("columns", [80, 120])
def test_summary_shows_attempts_time_and_final_results_within_the_width(
    project: Path, columns: int
) -> None:
    task_uuid = create(project, "retries")

    run = cli(project, "task", "run", task_uuid, columns=columns)

    assert run.returncode == 0, run.stderr
    summary = summary_of(run.stdout)
    assert re.fullmatch(
        r"✓ Task shop/retries v1\.0\.0 complete: 2/2 steps in \d+\.\d\ds", summary[0]
    )
    assert re.fullmatch(r"  ↻ fetch_remote: 3 attempts, \d+\.\d\ds", summary[1])
    result = '{"who": "finalize", "order_id": "ORD-' + "7" * 200 + '"}'
    line = f"  → finalize: {result}"
    assert summary[2] == line[: columns - 1] + "…"
    assert len(summary) == 3


# --- 6. a closed pipe -------------------------------------------------------------------------


def test_json_run_into_a_closed_pipe_ends_quietly_and_the_run_is_recorded(project: Path) -> None:
    task_uuid = create(project, "chatty")
    command = " ".join(tasker_ctl_command("task", "run", task_uuid, "-f", "json"))

    piped = subprocess.run(
        ["sh", "-c", f"{command} | head -1"],
        cwd=project,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert json.loads(piped.stdout)["type"] == "run_started"
    assert piped.stderr == ""
    status = cli(project, "task", "status", task_uuid, "--format", "json")
    assert json.loads(status.stdout)["status"] == "complete"


@pytest.mark.parametrize("columns", [80, 120])
def test_task_status_text_shows_step_results_shortened(project: Path, columns: int) -> None:
    task_uuid = create(project, "retries")
    cli(project, "task", "run", task_uuid, "--quiet")

    status = cli(project, "task", "status", task_uuid, "--no-graph", columns=columns)

    steps = status.stdout.split("Steps:\n", 1)[1].splitlines()
    fetched = '  • fetch_remote  complete  3/3  → {"order_id": "ORD-1234", "lines": [0, 1, 2, '
    assert steps[0].startswith(fetched) and steps[0].endswith("…") and len(steps[0]) == columns
    finalize = '  • finalize      complete  1/3  → {"who": "finalize", "order_id": "ORD-777'
    assert steps[1] == (finalize + "7" * 200)[: columns - 1] + "…"
