"""Whole-process timings of creating and running a task with the local engine (issue 4).

Workloads (every handler returns a small dict, ``tests/fixtures/engine_handlers/probes.small``):

    W1   linear chain of 4 steps
    W2   linear chain of 100 steps
    W3   one root -> 200 parallel steps -> one join
    W3s  W3 with each parallel handler sleeping 50 ms, --concurrency 50 (run time is measured)
    W4   one step failing twice (10 ms backoff) then succeeding
    W5   10,000-step layered DAG (100 layers of 100; each step depends on two above it)

Each run is a fresh process that does what ``tasker-ctl task create ... --run`` does: import the
command line, create the task (``tasker_ctl.tasks.create_task``), run it
(``tasker_ctl.cli.task_run.execute``, quiet). The table shows the median of ``--runs`` runs (W5:
``--big-runs``) of the whole process, the create and run parts measured inside it, and the peak
memory (``ru_maxrss`` of that child).

    .venv/bin/python benchmarks/bench_engine.py [--runs 5] [--big-runs 1] [--only W1,W2]
    .venv/bin/python benchmarks/bench_engine.py --profile      # cProfile of a W2 run
    .venv/bin/python benchmarks/bench_engine.py --importtime   # slowest imports of a W1 process
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
sys.path.append(str(FIXTURES))

from engine_handlers.workflows import (  # noqa: E402
    NAMESPACE,
    StepSpec,
    layered_dag,
    subprocess_env,
    write_template,
)

RESULT_MARK = "@@bench "
PYCACHE = Path(tempfile.gettempdir()) / "tasker-ctl-bench-pycache"


def child_env(*, bytecode_cache: bool = True) -> dict[str, str]:
    """The child's environment; with ``bytecode_cache``, compiled modules are cached as users'
    installs are (under a temporary prefix, so the working tree stays clean), even when the
    calling environment sets ``PYTHONDONTWRITEBYTECODE``."""
    env = subprocess_env()
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


TARGETS = {
    "per-step overhead (W2-W1)/96": ("ms", 0.3),
    "W1 whole process": ("s", 0.3),
    "W3 whole process": ("s", 0.4),
    "W3s run (RunFinished)": ("s", 0.35),
    "W5 peak memory": ("MB", 150.0),
}


def _chain(count: int) -> list[StepSpec]:
    return [
        StepSpec(f"s{i:04d}", "small", depends_on=[f"s{i - 1:04d}"] if i else [])
        for i in range(count)
    ]


def _fan(width: int, sleep_ms: int = 0) -> list[StepSpec]:
    config = {"sleep_ms": sleep_ms} if sleep_ms else {}
    middle = [f"p{i:03d}" for i in range(width)]
    return [
        StepSpec("root", "small"),
        *(StepSpec(name, "small", depends_on=["root"], config=config) for name in middle),
        StepSpec("join", "small", depends_on=middle),
    ]


def _flaky() -> list[StepSpec]:
    retry = {"backoff": "exponential", "backoff_base_ms": 10, "max_backoff_ms": 10}
    return [StepSpec("flaky", "flaky", config={"failures": 2}, retry=retry)]


def _layered() -> list[StepSpec]:
    return [
        StepSpec(name, "small", depends_on=parents)
        for name, parents in layered_dag(layers=100, width=100)
    ]


@dataclass(frozen=True)
class Workload:
    key: str
    build: Callable[[], list[StepSpec]]
    concurrency: int = 8
    big: bool = False


WORKLOADS = [
    Workload("W1", lambda: _chain(4)),
    Workload("W2", lambda: _chain(100)),
    Workload("W3", lambda: _fan(200)),
    Workload("W3s", lambda: _fan(200, sleep_ms=50), concurrency=50),
    Workload("W4", _flaky),
    Workload("W5", _layered, big=True),
]


@dataclass(frozen=True)
class Sample:
    whole_s: float
    import_s: float
    create_s: float
    run_s: float
    maxrss_mb: float


# --- the child: one create + run --------------------------------------------------------------


def child(directory: Path, name: str, concurrency: int) -> None:
    """Create and run one task like ``task create --run``; print the inner timings."""
    started = time.perf_counter()
    from tasker_ctl.cli import task_run
    from tasker_ctl.tasks import CreateRequest, create_task

    imported = time.perf_counter()
    db = directory / "tasker.db"
    created = create_task(
        CreateRequest(
            namespace=NAMESPACE,
            name=name,
            input={},
            search_path=[directory / "templates"],
            db_path=db,
        )
    )
    made = time.perf_counter()
    result = task_run.execute(
        created.task_uuid, db, [], concurrency, task_run.RunFormat.TEXT, quiet=True
    )
    finished = time.perf_counter()
    report = {
        "import_s": imported - started,
        "create_s": made - imported,
        "run_s": finished - made,
        "run_finished_ms": result.duration_ms,
        "status": result.status,
    }
    print(RESULT_MARK + json.dumps(report), flush=True)


# --- the parent -------------------------------------------------------------------------------


def _child_command(directory: Path, workload: Workload, *python_flags: str) -> list[str]:
    return [
        sys.executable,
        *python_flags,
        str(Path(__file__).resolve()),
        "--child",
        str(directory),
        workload.key.lower(),
        str(workload.concurrency),
    ]


def run_measured(workload: Workload, steps: list[StepSpec], env: dict[str, str]) -> Sample:
    """One fresh process creating and running ``steps``; its peak memory comes from wait4."""
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as scratch:
        directory = Path(scratch)
        write_template(directory / "templates", workload.key.lower(), steps)
        out_path = directory / "stdout.txt"
        err_path = directory / "stderr.txt"
        with out_path.open("w") as out, err_path.open("w") as err:
            started = time.perf_counter()
            process = subprocess.Popen(
                _child_command(directory, workload),
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=err,
            )
            _, status, usage = os.wait4(process.pid, 0)
            whole = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
        stdout, stderr = out_path.read_text(), err_path.read_text()
        if process.returncode != 0:
            raise SystemExit(f"{workload.key} failed ({process.returncode}):\n{stderr}")
    report = _report(stdout, stderr, workload)
    return Sample(
        whole,
        report["import_s"],
        report["create_s"],
        report["run_finished_ms"] / 1000,
        usage.ru_maxrss / 1024,
    )


def _report(stdout: str, stderr: str, workload: Workload) -> dict[str, float]:
    lines = [x for x in stdout.splitlines() if x.startswith(RESULT_MARK)]
    if not lines:
        raise SystemExit(f"{workload.key}: no result line\n{stdout}\n{stderr}")
    report: dict[str, float] = json.loads(lines[-1][len(RESULT_MARK) :])
    if report["status"] != "complete":
        raise SystemExit(f"{workload.key} ended {report['status']}:\n{stdout}")
    return report


def bench(
    runs: int, big_runs: int, only: set[str] | None, env: dict[str, str]
) -> dict[str, list[Sample]]:
    samples: dict[str, list[Sample]] = {}
    if env.get("PYTHONPYCACHEPREFIX"):  # one unmeasured run fills the bytecode cache
        run_measured(WORKLOADS[0], WORKLOADS[0].build(), env)
    for workload in WORKLOADS:
        if only and workload.key not in only:
            continue
        steps = workload.build()
        count = big_runs if workload.big else runs
        samples[workload.key] = [run_measured(workload, steps, env) for _ in range(count)]
        print(f"  {workload.key}: {count} run(s) done", file=sys.stderr, flush=True)
    return samples


def _median(values: list[float]) -> float:
    return statistics.median(values)


def print_table(samples: dict[str, list[Sample]]) -> None:
    columns = ("whole s", "import s", "create s", "run s")
    print(f"{'workload':<8} {'runs':>4} " + " ".join(f"{c:>9}" for c in columns) + "  peak MB")
    for key, rows in samples.items():
        medians = [
            _median([getattr(r, field) for r in rows])
            for field in ("whole_s", "import_s", "create_s", "run_s")
        ]
        print(
            f"{key:<8} {len(rows):>4} "
            + " ".join(f"{value:>9.3f}" for value in medians)
            + f"  {max(r.maxrss_mb for r in rows):>7.1f}"
        )
    measured: dict[str, float] = {}
    if "W1" in samples and "W2" in samples:
        w1 = _median([r.whole_s for r in samples["W1"]])
        w2 = _median([r.whole_s for r in samples["W2"]])
        measured["per-step overhead (W2-W1)/96"] = (w2 - w1) / 96 * 1000
        run1 = _median([r.run_s for r in samples["W1"]])
        run2 = _median([r.run_s for r in samples["W2"]])
        print(f"\nper-step run overhead from RunFinished: {(run2 - run1) / 96 * 1000:.3f} ms")
    if "W1" in samples:
        measured["W1 whole process"] = _median([r.whole_s for r in samples["W1"]])
    if "W3" in samples:
        measured["W3 whole process"] = _median([r.whole_s for r in samples["W3"]])
    if "W3s" in samples:
        measured["W3s run (RunFinished)"] = _median([r.run_s for r in samples["W3s"]])
    if "W5" in samples:
        measured["W5 peak memory"] = max(r.maxrss_mb for r in samples["W5"])
    print(f"\n{'target':<32} {'measured':>10} {'budget':>10}  ok")
    for label, value in measured.items():
        unit, budget = TARGETS[label]
        verdict = "yes" if value <= budget else "NO"
        print(f"{label:<32} {value:>7.3f} {unit:<2} {budget:>7.2f} {unit:<2} {verdict}")


# --- profiling --------------------------------------------------------------------------------


def profile_w2() -> None:
    """cProfile of creating and running W2 in this process (cumulative time, top 30)."""
    import cProfile
    import pstats

    workload = next(w for w in WORKLOADS if w.key == "W2")
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as scratch:
        directory = Path(scratch)
        write_template(directory / "templates", "w2", workload.build())
        os.chdir(REPO_ROOT)
        profiler = cProfile.Profile()
        profiler.runcall(child, directory, "w2", workload.concurrency)
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)


def importtime_w1() -> None:
    """``python -X importtime`` of a W1 process: the slowest modules (cumulative)."""
    workload = next(w for w in WORKLOADS if w.key == "W1")
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as scratch:
        directory = Path(scratch)
        write_template(directory / "templates", "w1", workload.build())
        completed = subprocess.run(
            _child_command(directory, workload, "-X", "importtime"),
            cwd=REPO_ROOT,
            env=child_env(),
            capture_output=True,
            text=True,
            check=True,
        )
    rows = []
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative_us, name = line.split(":", 1)[1].split("|", 2)
        rows.append((int(cumulative_us), int(self_us), name.rstrip()))
    total = sum(self_us for _, self_us, _ in rows)
    print(f"total import time (sum of self): {total / 1000:.1f} ms over {len(rows)} modules")
    print(f"{'cumulative ms':>14} {'self ms':>8}  module")
    for cumulative, self_us, name in sorted(rows, reverse=True)[:40]:
        print(f"{cumulative / 1000:>14.1f} {self_us / 1000:>8.1f}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--big-runs", type=int, default=1, help="runs of W5")
    parser.add_argument("--only", help="comma-separated workloads, e.g. W1,W2")
    parser.add_argument("--profile", action="store_true", help="cProfile a W2 create+run")
    parser.add_argument("--importtime", action="store_true", help="slowest imports of W1")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="compile every module from source in each run (as with PYTHONDONTWRITEBYTECODE=1)",
    )
    parser.add_argument("--child", nargs=3, metavar=("DIR", "NAME", "CONCURRENCY"))
    args = parser.parse_args()
    if args.child:
        directory, name, concurrency = args.child
        child(Path(directory), name, int(concurrency))
    elif args.profile:
        profile_w2()
    elif args.importtime:
        importtime_w1()
    else:
        only = {key.strip() for key in args.only.split(",")} if args.only else None
        env = child_env(bytecode_cache=not args.no_bytecode_cache)
        print_table(bench(args.runs, args.big_runs, only, env))


if __name__ == "__main__":
    main()
