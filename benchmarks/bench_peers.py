"""tasker-ctl beside its peers (issue 13): the same workflows run by doit and by a bare loop.

Contenders, each a fresh process per run, in a fresh scratch directory:

    tasker-ctl   ``python -m tasker_ctl task create ... --run`` of a generated template on a store
                 (handlers: ``peer_handlers``, plain functions; ``--concurrency 8``)
    doit         ``python -m doit`` of ``peer_dodo.py``: one Python action per step, parents'
                 results through ``getargs``; installed into its own virtualenv; its default
                 (serial) runner
    bare loop    ``bare_sqlite_loop.py``: a thread pool of 8 and SQLite, every transition and
                 result committed: the floor for a durable runner
    F            the import floor: ``python -c`` of the imports a run needs (typer, pydantic's
                 BaseModel, sqlite3, a thread pool)

Workloads (``--only`` takes these keys):

    W1    linear chain of 4 steps, on a new store (and, for tasker-ctl, a new template)
    W1k   W1 again in the same directory: a known template on an existing store
    W2    linear chain of 100 steps          (per step on a chain = (W2 - W1) / 96)
    W3    one root -> 200 parallel steps -> one join
    W4    one step failing twice (10 ms backoff), then succeeding (not doit: it has no retries)
    10k   100 layers of 100 steps, two parents each; every handler reads its parents' results

Runs are interleaved: each repetition runs every workload once per contender, rotating which
contender goes first. The tables give medians of the wall time (and of the child's CPU time), the
10k DAG's peak RSS (``wait4``), and ratios against the bare loop and against doit.

    .venv/bin/python benchmarks/bench_peers.py [--runs 7] [--big-runs 3] [--only W1,W1k,W2]
                                               [--skip-big] [--doit-venv DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workloads import (
    BENCHMARKS,
    ChildRun,
    StepSpec,
    chain,
    child_env,
    fan,
    flaky,
    layered,
    run_child,
    run_finished_event,
    task_create_run_command,
    write_template,
)

CONCURRENCY = 8
DOIT_REQUIREMENT = ("doit", "0.37.0")
DEFAULT_DOIT_VENV = Path(tempfile.gettempdir()) / "tasker-ctl-bench-doit"
FLOOR_IMPORTS = (
    "import sqlite3, typer; "
    "from concurrent.futures import ThreadPoolExecutor; "
    "from pydantic import BaseModel"
)
HANDLERS = "peer_handlers"


@dataclass(frozen=True)
class PeerWorkload:
    """One workload: its steps, and how it is run."""

    key: str
    label: str
    build: Callable[[], list[StepSpec]]
    again: bool = False
    """The measured run is the second in the same directory (known template, existing store)."""
    retries: bool = False
    """Needs retries (doit has none)."""
    big: bool = False
    """Run ``--big-runs`` times, and not at all with ``--skip-big``."""

    @property
    def template_name(self) -> str:
        return f"peer_{self.key.lower()}"


WORKLOADS = [
    PeerWorkload("W1", "W1 linear 4", lambda: chain(4, f"{HANDLERS}.small")),
    PeerWorkload(
        "W1k", "W1 known template, existing store", lambda: chain(4, f"{HANDLERS}.small"), True
    ),
    PeerWorkload("W2", "W2 linear 100", lambda: chain(100, f"{HANDLERS}.small")),
    PeerWorkload("W3", "W3 1→200→1", lambda: fan(200, handler=f"{HANDLERS}.small")),
    PeerWorkload(
        "W4", "W4 fails twice, then succeeds", lambda: flaky(f"{HANDLERS}.flaky"), retries=True
    ),
    PeerWorkload(
        "10k",
        "10k-step DAG, handlers read parents",
        lambda: layered(handler=f"{HANDLERS}.reads_parents", parents_in_config=True),
        big=True,
    ),
]


class BenchFailure(Exception):
    """A child exited non-zero or did not run the whole workflow."""


def _failure(what: str, child: ChildRun) -> BenchFailure:
    return BenchFailure(
        f"{what} (exit code {child.exit_code})\n"
        f"--- stdout (tail) ---\n{child.stdout[-1500:]}\n--- stderr (tail) ---\n"
        f"{child.stderr[-3000:]}"
    )


def steps_document(steps: list[StepSpec]) -> dict[str, Any]:
    """The steps as the bare loop and the dodo file read them (``steps.json``)."""
    rows = []
    for step in steps:
        retry = step.retry
        backoff_ms = 0
        if retry.get("backoff", "none") != "none":
            backoff_ms = min(retry.get("backoff_base_ms", 0), retry.get("max_backoff_ms", 0))
        rows.append(
            {
                "name": step.name,
                "parents": list(step.depends_on),
                "handler": step.callable.rsplit(".", 1)[-1],
                "config": dict(step.config),
                "max_attempts": retry.get("max_attempts", 3),
                "backoff_ms": backoff_ms,
            }
        )
    return {"steps": rows}


# --- contenders -------------------------------------------------------------------------------


class Contender:
    """Something that runs a workload as one process: writes its input, checks its output."""

    name = ""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def supports(self, workload: PeerWorkload) -> bool:
        return True

    def prepare(self, directory: Path, workload: PeerWorkload, steps: list[StepSpec]) -> list[str]:
        """Write what the run reads into ``directory``; the command line that runs it."""
        raise NotImplementedError

    def check(self, child: ChildRun, workload: PeerWorkload, steps: list[StepSpec]) -> None:
        """Raise :class:`BenchFailure` unless ``child`` ran every step to completion."""
        raise NotImplementedError

    def run(self, directory: Path, workload: PeerWorkload, steps: list[StepSpec]) -> ChildRun:
        """Run ``workload`` in ``directory`` (twice for a workload measured ``again``)."""
        command = self.prepare(directory, workload, steps)
        env = self.env_for(directory)
        if workload.again:
            self._checked(run_child(command, env, cwd=directory), workload, steps)
        return self._checked(run_child(command, env, cwd=directory), workload, steps)

    def env_for(self, directory: Path) -> dict[str, str]:
        """The environment of a run in ``directory``."""
        return self.env

    def _checked(self, child: ChildRun, workload: PeerWorkload, steps: list[StepSpec]) -> ChildRun:
        if child.exit_code != 0:
            raise _failure(f"{self.name} {workload.key} exited non-zero", child)
        self.check(child, workload, steps)
        return child


class TaskerCtl(Contender):
    name = "tasker-ctl"

    def env_for(self, directory: Path) -> dict[str, str]:
        """A template cache of the scratch directory's own: W1's template is new to it, W1k's
        second run finds what the first one cached."""
        return {**self.env, "XDG_CACHE_HOME": str(directory / "cache")}

    def prepare(self, directory: Path, workload: PeerWorkload, steps: list[StepSpec]) -> list[str]:
        write_template(directory / "templates", workload.template_name, steps)
        command = task_create_run_command(directory, workload.template_name, CONCURRENCY)
        # Handler code outside the project directory is called only when named as such.
        return [*command, "--handlers", HANDLERS]

    def check(self, child: ChildRun, workload: PeerWorkload, steps: list[StepSpec]) -> None:
        finished = run_finished_event(child.stdout)
        if finished is None or finished.get("status") != "complete":
            status = None if finished is None else finished.get("status")
            raise _failure(f"tasker-ctl {workload.key} did not complete (status {status})", child)


class Doit(Contender):
    name = "doit"

    def __init__(self, env: dict[str, str], python: Path) -> None:
        super().__init__(env)
        self.python = python

    def supports(self, workload: PeerWorkload) -> bool:
        return not workload.retries

    def prepare(self, directory: Path, workload: PeerWorkload, steps: list[StepSpec]) -> list[str]:
        (directory / "steps.json").write_text(json.dumps(steps_document(steps)), encoding="utf-8")
        shutil.copyfile(BENCHMARKS / "peer_dodo.py", directory / "dodo.py")
        return [str(self.python), "-m", "doit", "-f", str(directory / "dodo.py")]

    def check(self, child: ChildRun, workload: PeerWorkload, steps: list[StepSpec]) -> None:
        executed = sum(1 for line in child.stdout.splitlines() if line.startswith(".  step:"))
        if executed != len(steps):
            raise _failure(f"doit {workload.key} ran {executed} of {len(steps)} tasks", child)


class BareLoop(Contender):
    name = "bare loop"

    def prepare(self, directory: Path, workload: PeerWorkload, steps: list[StepSpec]) -> list[str]:
        spec = directory / "steps.json"
        spec.write_text(json.dumps(steps_document(steps)), encoding="utf-8")
        script = BENCHMARKS / "bare_sqlite_loop.py"
        store = directory / "bare.db"
        return [sys.executable, str(script), str(spec), str(store), str(CONCURRENCY)]

    def check(self, child: ChildRun, workload: PeerWorkload, steps: list[StepSpec]) -> None:
        try:
            summary = json.loads(child.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            raise _failure(f"bare loop {workload.key} printed no summary", child) from None
        if summary.get("complete") != len(steps):
            raise _failure(f"bare loop {workload.key} did not complete: {summary}", child)


def floor_command() -> list[str]:
    """F: this interpreter importing what a run needs, and nothing else."""
    return [sys.executable, "-c", FLOOR_IMPORTS]


# --- doit's virtualenv ----------------------------------------------------------------------


def ensure_doit(venv: Path) -> Path:
    """The Python of ``venv`` with doit installed (created or updated once, then reused)."""
    python = venv / "bin" / "python"
    name, version = DOIT_REQUIREMENT
    probe = f"import importlib.metadata as m, sys; sys.exit(m.version({name!r}) != {version!r})"
    if python.exists() and subprocess.run([python, "-c", probe], check=False).returncode == 0:
        return python
    print(f"installing {name}=={version} into {venv} ...", file=sys.stderr, flush=True)
    commands = [[str(python), "-m", "pip", "install", "-q", f"{name}=={version}"]]
    if not python.exists():
        commands.insert(0, [sys.executable, "-m", "venv", str(venv)])
    for command in commands:
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise SystemExit(
                f"error: could not set up doit's virtualenv ({' '.join(command)} exited "
                f"{completed.returncode}):\n{completed.stderr[-2000:]}\n"
                f"hint: pass --doit-venv DIR for another location, or delete {venv} and retry"
            )
    return python


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Results:
    """Samples per (contender name, workload key), the floor's, and what failed."""

    samples: dict[tuple[str, str], list[ChildRun]] = field(default_factory=dict)
    floor: list[ChildRun] = field(default_factory=list)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, contender: str, workload: str, child: ChildRun) -> None:
        self.samples.setdefault((contender, workload), []).append(child)


def measure(contender: Contender, workload: PeerWorkload, steps: list[StepSpec]) -> ChildRun:
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as scratch:
        return contender.run(Path(scratch), workload, steps)


def measure_floor(env: dict[str, str]) -> ChildRun:
    child = run_child(floor_command(), env)
    if child.exit_code != 0:
        raise SystemExit(f"error: {_failure('the import floor F exited non-zero', child)}")
    return child


def bench(
    contenders: list[Contender], workloads: list[PeerWorkload], runs: int, big_runs: int
) -> Results:
    results = Results()
    env = contenders[0].env
    built = {workload.key: workload.build() for workload in workloads}
    # One unmeasured run each fills the bytecode caches and catches a broken setup early.
    warm_up = next(w for w in WORKLOADS if w.key == "W1")
    measure_floor(env)
    for contender in contenders:
        try:
            measure(contender, warm_up, warm_up.build())
        except BenchFailure as failure:
            message = f"the warm-up run failed: {failure}"
            for workload in workloads:
                results.failures[contender.name, workload.key] = message
                message = "not run: the warm-up run failed (above)"
    repetitions = max(runs, big_runs if any(w.big for w in workloads) else 0)
    for repetition in range(repetitions):
        turn = repetition % len(contenders)
        order = contenders[turn:] + contenders[:turn]
        if repetition < runs:
            results.floor.append(measure_floor(env))
        for workload in workloads:
            if repetition >= (big_runs if workload.big else runs):
                continue
            for contender in order:
                key = (contender.name, workload.key)
                if not contender.supports(workload) or key in results.failures:
                    continue
                try:
                    results.add(*key, measure(contender, workload, built[workload.key]))
                except BenchFailure as failure:
                    results.failures[key] = str(failure)
        print(f"  repetition {repetition + 1} done", file=sys.stderr, flush=True)
    return results


# --- the report -------------------------------------------------------------------------------


def _median(children: list[ChildRun], attribute: str) -> float:
    return statistics.median(float(getattr(child, attribute)) for child in children)


def per_step_ms(results: Results, contender: str, attribute: str = "wall_s") -> float | None:
    """(W2 - W1) / 96 from the medians, in milliseconds."""
    w1 = results.samples.get((contender, "W1"))
    w2 = results.samples.get((contender, "W2"))
    if not w1 or not w2:
        return None
    return (_median(w2, attribute) - _median(w1, attribute)) / 96 * 1000


def cell(
    results: Results, contender: Contender, workload: PeerWorkload, attribute: str = "wall_s"
) -> str:
    key = (contender.name, workload.key)
    if not contender.supports(workload):
        return "n/a"
    if key in results.failures:
        return "FAILED"
    samples = results.samples.get(key)
    if not samples:
        return "—"
    text = f"{_median(samples, attribute):.3f} s"
    if workload.big:
        text += f", {max(child.maxrss_mb for child in samples):.0f} MB"
    return text


def ratio_cell(
    results: Results, top: str, bottom: str, workload: PeerWorkload, attribute: str
) -> str:
    high = results.samples.get((top, workload.key))
    low = results.samples.get((bottom, workload.key))
    if not high or not low:
        return "—"
    text = f"{_median(high, attribute) / _median(low, attribute):.2f}×"
    if workload.big:
        memory = max(c.maxrss_mb for c in high) / max(c.maxrss_mb for c in low)
        text += f", {memory:.2f}× memory"
    return text


def step_ratio(results: Results, top: str, bottom: str, attribute: str) -> str:
    high, low = per_step_ms(results, top, attribute), per_step_ms(results, bottom, attribute)
    if high is None or low is None or high <= 0 or low <= 0:
        return "—"  # a per-step cost lost in the noise has no meaningful ratio
    return f"{high / low:.2f}×"


def print_tables(
    results: Results, contenders: list[Contender], workloads: list[PeerWorkload], attribute: str
) -> None:
    """The table of the issue (one row per contender, the floor, then the ratios)."""
    keys = [w.key for w in workloads]
    # Columns in the order; ``None`` stands for the per-step column, after W3.
    columns: list[PeerWorkload | None] = [
        w for w in workloads if w.key in ("W1", "W1k", "W2", "W3")
    ]
    if "W1" in keys and "W2" in keys:
        columns.append(None)
    columns += [w for w in workloads if w.key not in ("W1", "W1k", "W2", "W3")]
    headers = ["per step (chain)" if w is None else w.label for w in columns]
    print("| | " + " | ".join(headers) + " |")
    print("|---" * (len(headers) + 1) + "|")

    def row(name: str, cells: list[str]) -> None:
        print(f"| {name} | " + " | ".join(cells) + " |")

    def step_cell(contender: str) -> str:
        step = per_step_ms(results, contender, attribute)
        return "—" if step is None else f"{step:.2f} ms"

    for contender in contenders:
        row(
            contender.name,
            [
                step_cell(contender.name) if w is None else cell(results, contender, w, attribute)
                for w in columns
            ],
        )
    if results.floor:
        floor = f"{_median(results.floor, attribute):.3f} s"
        row("import floor F", [floor if w and w.key in ("W1", "W1k") else "" for w in columns])
    names = [c.name for c in contenders]
    for top, bottom in (("tasker-ctl", "bare loop"), ("tasker-ctl", "doit"), ("doit", "bare loop")):
        if top in names and bottom in names:
            row(
                f"{top} ÷ {bottom}",
                [
                    step_ratio(results, top, bottom, attribute)
                    if w is None
                    else ratio_cell(results, top, bottom, w, attribute)
                    for w in columns
                ],
            )


def print_targets(results: Results) -> None:
    """Issue 13's targets for tasker-ctl (never a test: figures to read)."""
    floor = _median(results.floor, "wall_s") if results.floor else None

    def wall(contender: str, key: str) -> float | None:
        samples = results.samples.get((contender, key))
        return _median(samples, "wall_s") if samples else None

    def peak(contender: str, key: str) -> float | None:
        samples = results.samples.get((contender, key))
        return max(child.maxrss_mb for child in samples) if samples else None

    checks: list[tuple[str, float | None, float, str]] = []
    w1k, w1 = wall("tasker-ctl", "W1k"), wall("tasker-ctl", "W1")
    if floor is not None:
        checks.append(("W1 known template, existing store − F", _sub(w1k, floor), 0.030, "s"))
        checks.append(("W1 new store, new template − F", _sub(w1, floor), 0.090, "s"))
    step, bare_step = per_step_ms(results, "tasker-ctl"), per_step_ms(results, "bare loop")
    checks.append(("per step ÷ bare loop's", _div(step, bare_step), 1.6, "×"))
    big, bare_big, doit_big = (wall(n, "10k") for n in ("tasker-ctl", "bare loop", "doit"))
    checks.append(("10k DAG ÷ bare loop's", _div(big, bare_big), 1.5, "×"))
    checks.append(("10k DAG ÷ doit's (under 1)", _div(big, doit_big), 1.0, "×"))
    checks.append(("10k DAG peak memory", peak("tasker-ctl", "10k"), 150.0, "MB"))
    print("\n| tasker-ctl target | measured | budget | met |")
    print("|---|---|---|---|")
    for label, value, budget, unit in checks:
        if value is None:
            print(f"| {label} | — | {budget:g} {unit} | not measured |")
        else:
            met = "yes" if value <= budget else "NO"
            print(f"| {label} | {value:.3f} {unit} | {budget:g} {unit} | {met} |")


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _div(a: float | None, b: float | None) -> float | None:
    """``a / b``; None unless both are positive (a per-step cost lost in the noise can be < 0)."""
    return None if a is None or b is None or a <= 0 or b <= 0 else a / b


def print_header(runs: int, big_runs: int, doit_python: Path | None) -> None:
    doit_version = "not run"
    if doit_python is not None:
        doit_version = subprocess.run(
            [str(doit_python), "-c", "import importlib.metadata as m; print(m.version('doit'))"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    tasker_py = "installed" if importlib.util.find_spec("tasker_core") else "not installed"
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"Python {sys.version.split()[0]}; doit {doit_version}; tasker-py {tasker_py}; "
        f"{os.cpu_count()} CPUs; load average {load}"
    )
    big = f" (10k DAG: {big_runs})" if big_runs else ""
    print(
        f"medians of {runs} interleaved runs{big}; tasker-ctl and the bare loop with "
        f"{CONCURRENCY} threads, doit serial (its default)\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="repetitions (default 7)")
    parser.add_argument("--big-runs", type=int, default=3, help="runs of the 10k DAG (default 3)")
    parser.add_argument("--only", help="comma-separated workloads, e.g. W1,W1k,W2")
    parser.add_argument("--skip-big", action="store_true", help="leave out the 10k DAG")
    parser.add_argument(
        "--doit-venv",
        type=Path,
        default=DEFAULT_DOIT_VENV,
        help=f"doit's virtualenv, created on first use (default {DEFAULT_DOIT_VENV})",
    )
    args = parser.parse_args()
    if args.runs < 1 or args.big_runs < 1:
        parser.error("--runs and --big-runs must be at least 1")
    keys = {w.key for w in WORKLOADS}
    only = {key.strip() for key in args.only.split(",")} if args.only else keys
    if unknown := only - keys:
        parser.error(f"unknown workload(s) {', '.join(sorted(unknown))}; known: {sorted(keys)}")
    workloads = [w for w in WORKLOADS if w.key in only and not (args.skip_big and w.big)]
    if not workloads:
        parser.error("nothing to run (--skip-big left out every workload chosen by --only)")

    env = child_env()
    env["PYTHONPATH"] = os.pathsep.join([str(BENCHMARKS), env["PYTHONPATH"]])
    doit_python = ensure_doit(args.doit_venv)
    contenders: list[Contender] = [TaskerCtl(env), Doit(env, doit_python), BareLoop(env)]
    started = time.perf_counter()
    results = bench(contenders, workloads, args.runs, args.big_runs)
    big_runs = args.big_runs if any(w.big for w in workloads) else 0
    print_header(args.runs, big_runs, doit_python)
    print("Wall time (medians):\n")
    print_tables(results, contenders, workloads, "wall_s")
    print("\nCPU time of the child, user + system (medians; less sensitive to other load):\n")
    print_tables(results, contenders, workloads, "cpu_s")
    print_targets(results)
    print(f"\n({time.perf_counter() - started:.0f} s)")
    if results.failures:
        print(f"\n{len(results.failures)} contender/workload pair(s) FAILED:", file=sys.stderr)
        for (contender, workload), message in results.failures.items():
            print(f"\n== {contender} {workload}: {message}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
