"""The README's command blocks are true: each command of its ```bash blocks (after the first two,
which install the project and run this suite) runs, as a reader would type it, in a copy of the
repository's templates and handlers, with ``tasker-ctl`` the entry point of this environment, and
exits as the README implies: 0, unless its comment says ``exit N``. Blocks that talk to a Tasker
server (a profile) are left out: they need a network."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from subprocesses import REPO_ROOT, subprocess_env

README = REPO_ROOT / "README.md"
BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)
NEEDS_A_SERVER = re.compile(r"(^|\s)(-p|--profile)\s|profile check")
PLACEHOLDER = re.compile(r"<(full-)?uuid>")
TASK_UUID = re.compile(r"Task UUID: ([0-9a-f-]{36})")
EXPECTED_EXIT = re.compile(r"#.*\bexit (\d+)")


def _commands(block: str) -> list[str]:
    """The block's commands: lines joined where they end with a backslash."""
    return [command for command in re.sub(r"\\\n", " ", block).splitlines() if command.strip()]


def _blocks() -> list[str]:
    blocks = BASH_BLOCK.findall(README.read_text(encoding="utf-8"))[2:]
    return [block for block in blocks if not NEEDS_A_SERVER.search(block)]


def test_the_readme_has_command_blocks_to_check() -> None:
    assert len(_blocks()) >= 2
    assert sum(len(_commands(block)) for block in _blocks()) >= 6


@pytest.mark.slow
@pytest.mark.parametrize("block", _blocks(), ids=lambda block: _commands(block)[0][:60])
def test_each_readme_command_exits_as_the_readme_says(block: str, tmp_path: Path) -> None:
    for directory in ("templates", "handlers"):
        shutil.copytree(REPO_ROOT / directory, tmp_path / directory)
    entry_points = str(Path(sys.executable).parent)  # this environment's bin/, with tasker-ctl
    env = subprocess_env(PATH=os.pathsep.join([entry_points, os.environ.get("PATH", "")]))
    env.pop("PYTHONPATH", None)  # as a reader's shell: only the project's own code
    assert shutil.which("tasker-ctl", path=env["PATH"]) == str(Path(entry_points) / "tasker-ctl"), (
        "tasker-ctl is not installed in this environment"
    )
    task_uuid = None
    for line in _commands(block):
        command = line
        if PLACEHOLDER.search(line):
            assert task_uuid is not None, f"{line}: no task created before it in its block"
            command = PLACEHOLDER.sub(task_uuid, line)
        expected = EXPECTED_EXIT.search(command)
        completed = subprocess.run(
            ["bash", "-c", command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert completed.returncode == (int(expected[1]) if expected else 0), (
            f"{command}\n{completed.stdout}\n{completed.stderr}"
        )
        created = TASK_UUID.search(completed.stdout)
        task_uuid = created[1] if created else task_uuid
