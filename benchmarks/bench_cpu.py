"""CPU-bound handlers: the thread pool against ``--workers process`` (issue 13 §5).

The workload is one root, ``--steps`` parallel steps and one join; each parallel step runs
``probes.burn``: a pure-Python loop calibrated here to take ``--step-ms`` of CPU (20 ms by
default). Threads run such handlers one at a time (the interpreter lock), so their wall time
does not fall with ``-j``; worker processes run them on every core.

Each case is a fresh ``python -m tasker_ctl task create ... --run --format json -j J`` process,
run ``--runs`` times, the cases interleaved. The table shows medians of the whole process's
wall time, of the run alone (``run_finished``'s ``duration_ms``) and of the CPU time of the
process and its worker processes (``wait4``), and the ratio of the thread pool's wall time to
each case's.

    .venv/bin/python benchmarks/bench_cpu.py [--runs 3] [--steps 200] [--step-ms 20] [-j 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from workloads import (
    StepSpec,
    child_env,
    run_child,
    run_finished_event,
    task_create_run_command,
    write_template,
)


def calibrate(step_ms: float) -> int:
    """Iterations of :func:`spin` that take ``step_ms`` of CPU here (best of a few tries)."""
    probe = 200_000
    best = min(_cpu_seconds(probe) for _ in range(5))
    return max(1, round(probe * step_ms / 1000 / best))


def _cpu_seconds(iterations: int) -> float:
    from tasker_ctl.sdk.compat import activate_tasker_core

    activate_tasker_core()  # the handler module imports tasker_core
    from engine_handlers.probes import spin  # on the path once workloads is imported

    started = time.process_time()
    spin(iterations)
    return time.process_time() - started


def workload(steps: int, iterations: int) -> list[StepSpec]:
    """One root, ``steps`` parallel CPU-bound steps, one join."""
    middle = [f"p{i:03d}" for i in range(steps)]
    config = {"iterations": iterations}
    return [
        StepSpec("root", "small"),
        *(StepSpec(name, "burn", depends_on=["root"], config=config) for name in middle),
        StepSpec("join", "small", depends_on=middle),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--step-ms", type=float, default=20.0)
    parser.add_argument("-j", "--concurrency", type=int, default=2)
    args = parser.parse_args()

    iterations = calibrate(args.step_ms)
    cases = {
        f"threads -j {args.concurrency}": ("thread", args.concurrency),
        f"processes -j {args.concurrency}": ("process", args.concurrency),
    }
    print(
        f"{args.steps} steps x {args.step_ms:g} ms of Python ({iterations:,} iterations each); "
        f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}; {args.runs} runs each",
        file=sys.stderr,
    )
    env = child_env()
    figures: dict[str, list[tuple[float, float, float]]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as scratch:
        directory = Path(scratch)
        write_template(directory / "templates", "cpu", workload(args.steps, iterations))
        for run in range(args.runs):
            for name, (workers, concurrency) in cases.items():
                command = [
                    *task_create_run_command(directory, "cpu", concurrency),
                    "--workers",
                    workers,
                ]
                child = run_child(command, env)
                finished = run_finished_event(child.stdout)
                if child.exit_code != 0 or finished is None or finished["status"] != "complete":
                    raise SystemExit(f"error: {name} run {run + 1} failed:\n{child.stderr}")
                figures[name].append((child.wall_s, finished["duration_ms"] / 1000, child.cpu_s))
                print(
                    f"  run {run + 1} {name}: wall {child.wall_s:.2f} s, cpu {child.cpu_s:.2f} s",
                    file=sys.stderr,
                )
    baseline = statistics.median(wall for wall, _, _ in figures[next(iter(cases))])
    print("| Case | wall (median) | run alone | CPU (process + workers) | speed-up (wall) |")
    print("|---|---|---|---|---|")
    for name, rows in figures.items():
        wall, alone, cpu = (statistics.median(column) for column in zip(*rows, strict=True))
        print(f"| {name} | {wall:.2f} s | {alone:.2f} s | {cpu:.2f} s | {baseline / wall:.2f}x |")
    print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
