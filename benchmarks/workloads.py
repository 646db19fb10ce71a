"""What the engine benchmarks share: the workload shapes, the child's environment, the
``task create ... --run`` command line, and running one child with its wall time and peak memory.

``bench_engine.py`` times tasker-ctl alone; ``bench_peers.py`` runs the same shapes with doit and
a bare SQLite loop beside it.
"""

from __future__ import annotations

import atexit
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = Path(__file__).resolve().parent
FIXTURES = REPO_ROOT / "tests" / "fixtures"
sys.path.append(str(FIXTURES))

from bytecode import with_bytecode_cache  # noqa: E402
from engine_handlers.workflows import (  # noqa: E402
    NAMESPACE,
    StepSpec,
    layered_dag,
    write_template,
)
from subprocesses import subprocess_env  # noqa: E402

__all__ = [
    "BENCHMARKS",
    "NAMESPACE",
    "REPO_ROOT",
    "ChildRun",
    "StepSpec",
    "chain",
    "child_env",
    "fan",
    "flaky",
    "layered",
    "run_child",
    "run_finished_event",
    "task_create_run_command",
    "write_template",
]

FLAKY_RETRY = {"backoff": "exponential", "backoff_base_ms": 10, "max_backoff_ms": 10}
"""W4's retry block: two failures, 10 ms apart, then success."""


def child_env(*, bytecode_cache: bool = True) -> dict[str, str]:
    """The child's environment; with ``bytecode_cache``, compiled modules are cached as users'
    installs are (under a temporary prefix, so the working tree stays clean), even when the
    calling environment sets ``PYTHONDONTWRITEBYTECODE``."""
    env = subprocess_env()
    env.pop("PYTHONUNBUFFERED", None)  # a user's shell does not set it: pipes are buffered
    return with_bytecode_cache(env) if bytecode_cache else env


# --- workload shapes --------------------------------------------------------------------------
# ``handler`` is a name in tests/fixtures/engine_handlers/probes or a dotted import path.


def chain(count: int, handler: str = "small") -> list[StepSpec]:
    """A linear chain of ``count`` steps (W1: 4, W2: 100)."""
    return [
        StepSpec(f"s{i:04d}", handler, depends_on=[f"s{i - 1:04d}"] if i else [])
        for i in range(count)
    ]


def fan(width: int, sleep_ms: int = 0, handler: str = "small") -> list[StepSpec]:
    """One root, ``width`` parallel steps, one join (W3: 200)."""
    config = {"sleep_ms": sleep_ms} if sleep_ms else {}
    middle = [f"p{i:03d}" for i in range(width)]
    return [
        StepSpec("root", handler),
        *(StepSpec(name, handler, depends_on=["root"], config=config) for name in middle),
        StepSpec("join", handler, depends_on=middle),
    ]


def flaky(handler: str = "flaky") -> list[StepSpec]:
    """One step that fails twice (10 ms backoff), then succeeds (W4)."""
    return [StepSpec("flaky", handler, config={"failures": 2}, retry=FLAKY_RETRY)]


def layered(
    layers: int = 100, width: int = 100, handler: str = "small", parents_in_config: bool = False
) -> list[StepSpec]:
    """``layers`` × ``width`` steps, each depending on two steps of the layer above (10k DAG).

    With ``parents_in_config`` each step's ``initialization`` lists its parents, for a handler
    that reads their results.
    """
    return [
        StepSpec(
            name,
            handler,
            depends_on=parents,
            config={"parents": parents} if parents_in_config else {},
        )
        for name, parents in layered_dag(layers=layers, width=width)
    ]


# --- running a child ----------------------------------------------------------------------------


def task_create_run_command(
    directory: Path, template_name: str, concurrency: int, *python_flags: str
) -> list[str]:
    """``tasker-ctl task create ... --run --format json`` of ``directory/templates/<name>.yaml``
    on the store ``directory/tasker.db``."""
    return [
        sys.executable,
        *python_flags,
        "-m",
        "tasker_ctl",
        "task",
        "create",
        "--namespace",
        NAMESPACE,
        "--name",
        template_name,
        "--input",
        "{}",
        "--templates",
        str(directory / "templates"),
        "--db",
        str(directory / "tasker.db"),
        "--run",
        "--concurrency",
        str(concurrency),
        "--format",
        "json",
    ]


@dataclass(frozen=True)
class ChildRun:
    """One finished child: its wall time, exit code, peak memory and output."""

    wall_s: float
    cpu_s: float
    exit_code: int
    maxrss_mb: float
    stdout: str
    stderr: str


class _Launcher:
    """The ``child_launcher.py`` process, started on first use and kept for every child."""

    process: subprocess.Popen[str] | None = None

    @classmethod
    def run(cls, request: dict[str, Any]) -> dict[str, Any]:
        if cls.process is None or cls.process.poll() is not None:
            cls.process = subprocess.Popen(
                [sys.executable, str(BENCHMARKS / "child_launcher.py")],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            atexit.register(cls.process.communicate)
        assert cls.process.stdin is not None and cls.process.stdout is not None
        cls.process.stdin.write(json.dumps(request) + "\n")
        cls.process.stdin.flush()
        answer = cls.process.stdout.readline()
        if not answer:
            raise SystemExit(f"error: the child launcher died running {request['command']}")
        result: dict[str, Any] = json.loads(answer)
        return result


def run_child(command: Sequence[str], env: dict[str, str], cwd: Path = REPO_ROOT) -> ChildRun:
    """Run ``command`` to its end; wall time from just before the start to the reap, and the
    child's own peak RSS and CPU time from ``wait4`` (see ``child_launcher.py``)."""
    with tempfile.TemporaryDirectory(prefix="bench-output-") as scratch:
        out_path = Path(scratch) / "stdout.txt"
        err_path = Path(scratch) / "stderr.txt"
        answer = _Launcher.run(
            {
                "command": list(command),
                "cwd": str(cwd),
                "env": env,
                "stdout": str(out_path),
                "stderr": str(err_path),
            }
        )
        return ChildRun(
            wall_s=answer["wall_s"],
            cpu_s=answer["cpu_s"],
            exit_code=answer["exit_code"],
            maxrss_mb=answer["maxrss_kb"] / 1024,
            stdout=out_path.read_text(errors="replace"),
            stderr=err_path.read_text(errors="replace"),
        )


def run_finished_event(stdout: str) -> dict[str, Any] | None:
    """The last ``run_finished`` event of ``task create --run --format json`` output, if any."""
    finished = None
    for line in stdout.splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            if event.get("type") == "run_finished":
                finished = event
    return finished
