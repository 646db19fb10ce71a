"""Flags as people use them (issue 12 §4), each through the real entry point in a subprocess:
``-h``, shell completion, ``--no-color`` after the subcommand, upstream's short flags, an
optional ``--input``, hints for ``--input FILE`` and ``--input -``, and ``--handlers`` /
``--templates`` replacing what the config file lists."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import textwrap
from pathlib import Path

import pytest
from subprocesses import run_tasker_ctl, subprocess_env, tasker_ctl_command

WIDTH = "100"

GREET = """
name: greet
namespace_name: demo
version: "{version}"
steps:
  - name: hello
    handler: {{callable: demo.hello}}
"""

NEEDS_INPUT = """
name: needs
namespace_name: demo
version: "1.0.0"
input_schema:
  type: object
  required: [order_id]
  properties: {order_id: {type: integer}}
steps:
  - name: hello
    handler: {callable: demo.hello}
"""

OPTIONAL_INPUT = """
name: optional
namespace_name: demo
version: "1.0.0"
input_schema:
  type: object
  properties: {note: {type: string}}
steps:
  - name: hello
    handler: {callable: demo.hello}
"""

HANDLER = """
from tasker_core.step_handler.functional import step_handler


@step_handler("demo.hello")
def hello():
    return {{"from": "{package}"}}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def tasker_ctl(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    env = {"COLUMNS": WIDTH, "HOME": str(project / "home"), **env}
    return run_tasker_ctl(*args, cwd=project, env=env)


def on_a_terminal(
    project: Path, *args: str, typed: bytes = b"", color: bool = True
) -> tuple[int, str, str]:
    """Run with standard input and output on a pseudo-terminal (what was typed is sent first):
    exit code, what the terminal showed, standard error."""
    env = subprocess_env(COLUMNS=WIDTH, HOME=str(project / "home"))
    if color:
        env.pop("NO_COLOR")
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        tasker_ctl_command(*args),
        cwd=project,
        env=env,
        stdin=terminal,
        stdout=terminal,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(terminal)
    if typed:
        os.write(controller, typed)
    shown = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 60)
        if not ready:  # never wait forever: a command that waits for more input fails the test
            process.kill()
            break
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process has exited
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    stderr = process.stderr.read() if process.stderr else ""
    return process.wait(timeout=120), shown.decode().replace("\r\n", "\n"), stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    write(tmp_path / "templates" / "greet.yaml", GREET.format(version="1.0.0"))
    write(tmp_path / "templates" / "needs.yaml", NEEDS_INPUT)
    write(tmp_path / "templates" / "optional.yaml", OPTIONAL_INPUT)
    return tmp_path


# --- -h and completion -------------------------------------------------------------------------


def test_h_shows_a_commands_help(project: Path) -> None:
    """Through the real entry point (test_help_walk checks ``-h`` is ``--help`` everywhere)."""
    shown = tasker_ctl(project, "config", "show", "-h")
    assert shown.returncode == 0, shown.stderr
    assert "Print the config file in use and each resolved setting with its source." in shown.stdout
    assert "Example: tasker-ctl config show" in shown.stdout


def test_shell_completion_completes_commands(project: Path) -> None:
    def complete(words: str, index: int) -> str:
        result = tasker_ctl(
            project,
            _TASKER_CTL_COMPLETE="complete_bash",
            COMP_WORDS=words,
            COMP_CWORD=str(index),
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert complete("tasker-ctl task li", 2) == "list\n"
    assert complete("tasker-ctl task re", 2) == "reset-step\nresolve-step\nretry\n"
    assert complete("tasker-ctl templ", 1) == "template\n"


def test_show_and_install_completion(project: Path) -> None:
    shown = tasker_ctl(project, "--show-completion", "bash")
    assert shown.returncode == 0, shown.stderr
    assert "_TASKER_CTL_COMPLETE=complete_bash" in shown.stdout
    installed = tasker_ctl(project, "--install-completion", "bash")
    assert installed.returncode == 0, installed.stderr
    script = project / "home" / ".bash_completions" / "tasker-ctl.sh"
    assert "_TASKER_CTL_COMPLETE=complete_bash" in script.read_text()
    assert str(script.relative_to(project / "home")) in (project / "home" / ".bashrc").read_text()


# --- --no-color after the subcommand -----------------------------------------------------------

BROKEN = """
name: broken
namespace_name: demo
version: "1.0.0"
steps:
  - name: a
    handler: {callable: demo.a}
    dependencies: [nowhere]
"""


def test_no_color_works_after_the_subcommand_as_before_it(project: Path) -> None:
    write(project / "broken.yaml", BROKEN)
    finding = "broken.yaml:7: {0}error{1} MISSING_DEP_REF Step 'a' depends on 'nowhere' which does not exist"
    code, shown, _stderr = on_a_terminal(project, "template", "validate", "broken.yaml")
    assert (code, shown.splitlines()[0]) == (1, finding.format("\x1b[31m", "\x1b[0m"))
    after = on_a_terminal(project, "template", "validate", "broken.yaml", "--no-color")
    before = on_a_terminal(project, "--no-color", "template", "validate", "broken.yaml")
    assert after == before
    code, shown, _stderr = after
    assert (code, shown.splitlines()[0]) == (1, finding.format("", ""))
    assert "\x1b" not in shown


# --- short flags as upstream's -----------------------------------------------------------------


def test_task_create_v_is_the_version_as_upstreams(project: Path) -> None:
    write(project / "templates" / "greet_2.yaml", GREET.format(version="2.0.0"))
    created = tasker_ctl(
        project,
        "task",
        "create",
        "-n",
        "demo",
        "--name",
        "greet",
        "-v",
        "1.0.0",
        "-i",
        "{}",
        "-f",
        "json",
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["version"] == "1.0.0"


def test_letters_that_mean_something_else_elsewhere_are_gone(project: Path) -> None:
    # -t is generate's --template (upstream), so not task create's --templates; -a is
    # template visualize's --annotations (upstream), so not --attempt.
    for args in (
        ["task", "create", "-n", "demo", "--name", "greet", "-t", "templates"],
        ["task", "logs", "abc", "-a", "1"],
        ["task", "step", "abc", "hello", "-a", "1"],
    ):
        refused = tasker_ctl(project, *args)
        assert refused.returncode == 2, args
        assert "-t" in refused.stderr or "-a" in refused.stderr


# --- --input ----------------------------------------------------------------------------------


def test_input_may_be_left_out_when_the_schema_accepts_an_empty_object(project: Path) -> None:
    for name in ("greet", "optional"):
        created = tasker_ctl(project, "task", "create", "-n", "demo", "--name", name, "-f", "json")
        assert created.returncode == 0, created.stderr
        uuid = json.loads(created.stdout)["task_uuid"]
        shown = tasker_ctl(project, "task", "status", uuid, "-f", "json")
        assert json.loads(shown.stdout)["input"] == {}, shown.stdout


def test_input_left_out_where_the_schema_needs_some_is_a_usage_error(project: Path) -> None:
    refused = tasker_ctl(project, "task", "create", "-n", "demo", "--name", "needs")
    assert refused.returncode == 2
    lines = refused.stderr.splitlines()
    assert lines[0] == (
        "error: no input given, and the input_schema of demo/needs v1.0.0 "
        "(templates/needs.yaml) needs one (1 problem):"
    )
    assert lines[1].startswith("  $: ")
    assert lines[2:] == [
        "hint: give the input with --input JSON, --input @FILE or --input - (standard input)"
    ]
    assert refused.stdout == ""


def test_a_bare_file_path_given_to_input_gets_a_hint_to_write_at_path(project: Path) -> None:
    (project / "order.json").write_text('{"order_id": 7}')
    refused = tasker_ctl(
        project, "task", "create", "-n", "demo", "--name", "needs", "-i", "order.json"
    )
    assert refused.returncode == 65
    assert refused.stderr == (
        "error: --input is not valid JSON: Expecting value at line 1 column 1\n"
        "hint: order.json is a file: to read it, write --input @order.json\n"
    )
    no_file = tasker_ctl(
        project, "task", "create", "-n", "demo", "--name", "needs", "-i", "nothing.json"
    )
    assert no_file.stderr.splitlines()[1] == (
        "hint: --input takes JSON, @FILE or - (standard input), e.g. --input '{\"id\": 1}'"
    )


def test_input_dash_on_a_terminal_says_it_waits_for_json(project: Path) -> None:
    code, shown, stderr = on_a_terminal(
        project,
        *("task", "create", "-n", "demo", "--name", "needs", "-i", "-", "-q"),
        typed=b'{"order_id": 3}\n\x04',
        color=False,
    )
    assert code == 0, (shown, stderr)
    assert stderr == (
        "reading --input from standard input: type or paste JSON, then press Ctrl-D\n"
    )
    piped = subprocess.run(
        tasker_ctl_command("task", "create", "-n", "demo", "--name", "needs", "-i", "-", "-q"),
        cwd=project,
        env=subprocess_env(),
        input='{"order_id": 3}',
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (piped.returncode, piped.stderr) == (0, "")


# --- flags replace the config file's lists -------------------------------------------------------


def test_handlers_on_the_command_line_replace_the_configs_handler_packages(project: Path) -> None:
    write(project / ".tasker-ctl.toml", 'handler-packages = ["configured"]\n')
    write(project / "configured" / "__init__.py", HANDLER.format(package="configured"))
    write(project / "generated" / "__init__.py", HANDLER.format(package="generated"))
    created = tasker_ctl(
        project, "task", "create", "-n", "demo", "--name", "greet", "-i", "{}", "-q"
    )
    uuid = created.stdout.strip()
    ran = tasker_ctl(project, "task", "run", uuid, "--handlers", "generated", "-q")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[-1] == '  → hello: {"from": "generated"}'
    again = tasker_ctl(
        project, "task", "create", "-n", "demo", "--name", "greet", "-i", "{}", "--run", "-q"
    )
    assert again.stdout.splitlines()[-1] == '  → hello: {"from": "configured"}'


def test_templates_on_the_command_line_replace_the_environment_and_the_config(
    tmp_path: Path,
) -> None:
    (tmp_path / "home").mkdir()
    write(tmp_path / ".tasker-ctl.toml", 'template-paths = ["configured"]\n')
    for directory, version in (("configured", "3.0.0"), ("from_env", "2.0.0"), ("mine", "1.0.0")):
        write(tmp_path / directory / "greet.yaml", GREET.format(version=version))

    def version_created(*args: str, **env: str) -> str:
        created = tasker_ctl(
            tmp_path,
            "task",
            "create",
            "-n",
            "demo",
            "--name",
            "greet",
            "-i",
            "{}",
            "-f",
            "json",
            *args,
            **env,
        )
        assert created.returncode == 0, created.stderr
        return str(json.loads(created.stdout)["version"])

    assert version_created() == "3.0.0"
    assert version_created(TASKER_TEMPLATE_PATH="from_env") == "2.0.0"
    assert version_created("--templates", "mine", TASKER_TEMPLATE_PATH="from_env") == "1.0.0"
    shown = tasker_ctl(tmp_path, "config", "show", TASKER_TEMPLATE_PATH="from_env")
    assert "    - from_env  [$TASKER_TEMPLATE_PATH]\n" in shown.stdout
    assert "configured" not in shown.stdout.split("template-paths:")[1].split("plugin-paths")[0]


@pytest.mark.parametrize(
    ("args", "exit_code", "expected"),
    [
        (["task", "crate"], 2, "Did you mean 'create'?"),  # an unknown command: the whole group
        (["task", "create", "--help"], 0, "--input"),  # one command of the group
        (["task", "templates", "--help"], 0, "show"),  # a subgroup of the group
        (["--no-color", "task", "list", "--help"], 0, "--status"),  # a global option first
        (["task", "--help"], 0, "complete-step"),  # no command: the whole group is listed
    ],
)
def test_the_command_line_builds_the_command_it_names(
    tmp_path: Path, args: list[str], exit_code: int, expected: str
) -> None:
    completed = subprocess.run(
        tasker_ctl_command(*args),
        cwd=tmp_path,
        env=subprocess_env(COLUMNS="200"),
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == exit_code, completed.stderr
    assert expected in completed.stdout + completed.stderr
