"""Hostile or mistaken input and early Ctrl-C: refused cleanly, one ``error:`` line, no traceback.

The entry point runs as a real process (``python -m tasker_ctl``), as a user starts it; the
configurable size limit is checked in-process with ``CliRunner``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from subprocesses import run_tasker_ctl, subprocess_env, tasker_ctl_command
from typer.testing import CliRunner

from tasker_ctl.cli import app

MIB = 1024 * 1024
TEMPLATE = """
name: echo
namespace_name: shop
version: 1.0.0
steps:
  - name: only
    handler: {callable: shop.handlers.Only}
"""
CREATE = ("task", "create", "-n", "shop", "--name", "echo")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory with one template and no store yet."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TASKER_CTL_MAX_INPUT_MIB", raising=False)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "echo.yaml").write_text(textwrap.dedent(TEMPLATE))
    return tmp_path


def _assert_one_error(stderr: str, *fragments: str) -> None:
    lines = stderr.splitlines()
    assert lines[0].startswith("error: "), stderr
    assert all(line.startswith("hint: ") for line in lines[1:]) and len(lines) <= 2, stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_input_nested_a_thousand_levels_deep_is_refused_with_65(project: Path) -> None:
    (project / "deep.json").write_text('{"a":' * 1000 + "1" + "}" * 1000)

    result = run_tasker_ctl(*CREATE, "--input", "@deep.json", cwd=project)

    assert result.returncode == 65
    _assert_one_error(result.stderr, "deep.json", "deeper than 200 levels")
    assert not (project / ".tasker").exists()


def test_input_over_the_size_limit_is_refused_before_it_is_read(project: Path) -> None:
    with (project / "huge.json").open("wb") as huge:
        huge.write(b'{"blob": "')
        huge.truncate(100 * MIB)  # sparse: 100 MiB on paper, nothing on disk

    result = run_tasker_ctl(*CREATE, "--input", "@huge.json", cwd=project)

    assert result.returncode == 65
    _assert_one_error(result.stderr, "huge.json", "8 MiB limit")
    assert "max-input-mib" in result.stderr
    assert not (project / ".tasker").exists()


def test_the_size_limit_applies_to_standard_input_and_can_be_raised(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nine_mib = '{"blob": "' + "x" * (9 * MIB) + '"}'
    runner = CliRunner()

    refused = runner.invoke(app, [*CREATE, "--input", "-"], input=nine_mib)
    (project / ".tasker-ctl.toml").write_text("max-input-mib = 10\n")
    by_config = runner.invoke(app, [*CREATE, "--input", "-", "-q"], input=nine_mib)
    monkeypatch.setenv("TASKER_CTL_MAX_INPUT_MIB", "9")
    by_environment = runner.invoke(app, [*CREATE, "--input", "-"], input=nine_mib)

    assert refused.exit_code == 65
    _assert_one_error(refused.stderr, "standard input", "8 MiB limit")
    assert by_config.exit_code == 0, by_config.output
    assert by_environment.exit_code == 65  # the environment wins over the project file
    _assert_one_error(by_environment.stderr, "9 MiB limit")


def test_ctrl_c_during_start_up_exits_130_quietly(tmp_path: Path) -> None:
    """Ctrl-C while the command line is still importing (a slow import stands in for it)."""
    slow = tmp_path / "slow_imports" / "typer"
    slow.mkdir(parents=True)
    marker = tmp_path / "importing"
    (slow / "__init__.py").write_text(
        f"import pathlib, time\npathlib.Path({str(marker)!r}).touch()\ntime.sleep(30)\n"
    )
    env = subprocess_env()
    env["PYTHONPATH"] = os.pathsep.join([str(slow.parent), env["PYTHONPATH"]])
    process = subprocess.Popen(
        tasker_ctl_command("task", "list"),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)

    assert process.returncode == 130
    assert (stdout, stderr) == ("", "")


def test_init_into_a_dangling_templates_symlink_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "templates").symlink_to(tmp_path / "nowhere")

    result = run_tasker_ctl("init", "--no-example", cwd=tmp_path)

    assert result.returncode == 1
    _assert_one_error(result.stderr, "templates", "nothing was written")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["templates"]
    assert result.stdout == ""
