"""Whole-process timings of creating and running a task with the local engine (issue 4).

Workloads (every handler returns a small dict, ``tests/fixtures/engine_handlers/probes.small``):

    W1   linear chain of 4 steps
    W2   linear chain of 100 steps
    W3   one root -> 200 parallel steps -> one join
    W3s  W3 with each parallel handler sleeping 50 ms, --concurrency 50 (run time is measured)
    W4   one step failing twice (10 ms backoff) then succeeding
    W5   10,000-step layered DAG (100 layers of 100; each step depends on two above it)

Each run is a fresh ``python -m tasker_ctl task create ... --run --format json`` process. The
table shows the median of ``--runs`` runs (W5: ``--big-runs``) of the whole process's wall time,
of the run alone (the ``run_finished`` event's ``duration_ms``), and the peak memory (``ru_maxrss``
of that child, from ``wait4``).

    .venv/bin/python benchmarks/bench_engine.py [--runs 5] [--big-runs 1] [--only W1,W2]
    .venv/bin/python benchmarks/bench_engine.py --profile      # cProfile of W2's create --run
    .venv/bin/python benchmarks/bench_engine.py --importtime   # slowest imports of a W1 process
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workloads import (
    REPO_ROOT,
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

TARGETS = {
    "per-step overhead (W2-W1)/96": ("ms", 0.3),
    "W1 whole process": ("s", 0.3),
    "W3 whole process": ("s", 0.4),
    "W3s run (RunFinished)": ("s", 0.35),
    "W5 peak memory": ("MB", 150.0),
}


@dataclass(frozen=True)
class Workload:
    key: str
    build: Callable[[], list[StepSpec]]
    concurrency: int = 8
    big: bool = False


WORKLOADS = [
    Workload("W1", lambda: chain(4)),
    Workload("W2", lambda: chain(100)),
    Workload("W3", lambda: fan(200)),
    Workload("W3s", lambda: fan(200, sleep_ms=50), concurrency=50),
    Workload("W4", flaky),
    Workload("W5", layered, big=True),
]


@dataclass(frozen=True)
class Sample:
    whole_s: float
    run_s: float
    maxrss_mb: float
    cpu_s: float


def cli_command(directory: Path, workload: Workload, *python_flags: str) -> list[str]:
    """``tasker-ctl task create ... --run`` for ``workload``'s template in ``directory``."""
    return task_create_run_command(
        directory, workload.key.lower(), workload.concurrency, *python_flags
    )


def run_measured(workload: Workload, steps: list[StepSpec], env: dict[str, str]) -> Sample:
    """One fresh process creating and running ``steps``; its peak memory comes from wait4."""
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as scratch:
        directory = Path(scratch)
        write_template(directory / "templates", workload.key.lower(), steps)
        # A template cache of its own: every run creates from a template it has not seen.
        cold = {**env, "XDG_CACHE_HOME": str(directory / "cache")}
        child = run_child(cli_command(directory, workload), cold)
    if child.exit_code != 0:
        raise SystemExit(f"{workload.key} failed:\n{child.stdout[-2000:]}\n{child.stderr}")
    finished = run_finished_event(child.stdout)
    if finished is None or finished["status"] != "complete":
        tail = child.stdout[-2000:]
        raise SystemExit(f"{workload.key} did not complete:\n{tail}\n{child.stderr}")
    return Sample(child.wall_s, finished["duration_ms"] / 1000, child.maxrss_mb, child.cpu_s)


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
    print(f"{'workload':<8} {'runs':>4} {'whole s':>9} {'cpu s':>9} {'run s':>9} {'peak MB':>8}")
    for key, rows in samples.items():
        print(
            f"{key:<8} {len(rows):>4} {_median([r.whole_s for r in rows]):>9.3f} "
            f"{_median([r.cpu_s for r in rows]):>9.3f} "
            f"{_median([r.run_s for r in rows]):>9.3f} {max(r.maxrss_mb for r in rows):>8.1f}"
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
    """cProfile of ``task create --run`` of W2 in this process (imports included)."""
    import cProfile
    import pstats

    workload = next(w for w in WORKLOADS if w.key == "W2")
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as scratch:
        directory = Path(scratch)
        write_template(directory / "templates", "w2", workload.build())
        os.chdir(REPO_ROOT)
        sys.argv = ["tasker-ctl", *cli_command(directory, workload)[3:]]
        profiler = cProfile.Profile()
        with contextlib.suppress(SystemExit):  # the command line always exits
            profiler.runcall(_cli_main)
    stats = pstats.Stats(profiler, stream=sys.stderr)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)


def _cli_main() -> None:
    from tasker_ctl.cli import main

    main()


def importtime_w1() -> None:
    """``python -X importtime`` of a W1 process: the slowest modules (cumulative)."""
    workload = next(w for w in WORKLOADS if w.key == "W1")
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as scratch:
        directory = Path(scratch)
        write_template(directory / "templates", "w1", workload.build())
        completed = subprocess.run(
            cli_command(directory, workload, "-X", "importtime"),
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
    args = parser.parse_args()
    if args.profile:
        profile_w2()
    elif args.importtime:
        importtime_w1()
    else:
        only = {key.strip() for key in args.only.split(",")} if args.only else None
        env = child_env(bytecode_cache=not args.no_bytecode_cache)
        print_table(bench(args.runs, args.big_runs, only, env))


if __name__ == "__main__":
    main()
