"""What a run's safety checks cost per step: the run lease, the store's identity, data isolation.

Runs a chain of N steps whose handler returns a small dict, in-process (no interpreter start-up),
many times, and reports the per-step CPU time ((chain of N - chain of 4) / (N - 4), the first
quartile of the repetitions) with every check on, and with each one switched off in turn by
replacing it with a no-op. The differences are what each check costs a step. Variants run in
separate processes, interleaved, so no variant warms another's caches.

    .venv/bin/python benchmarks/bench_run_checks.py [--steps 300] [--reps 21] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VARIANTS = ("all checks", "no lease check", "no store identity", "no data isolation", "none")


def _switch_off(variant: str) -> None:
    """Replace the checks ``variant`` leaves out with no-ops (this process only)."""
    from tasker_ctl.engine import dispatch, isolation
    from tasker_ctl.store import connection, repository

    if variant in ("no lease check", "none"):

        def identity_only(self: repository.Repository, conn: object) -> None:
            if self._identity is not None:
                self._identity.check()

        repository.Repository._check_before_writing = identity_only  # type: ignore[method-assign]
    if variant in ("no store identity", "none"):
        connection.StoreIdentity.check = lambda self: None  # type: ignore[method-assign]
    if variant in ("no data isolation", "none"):
        dispatch.fresh_copy = lambda value: value
        isolation.FrozenJson.__init__ = lambda self, value: setattr(self, "_text", value)  # type: ignore[method-assign]
        isolation.FrozenJson.thaw = lambda self: self._text  # type: ignore[method-assign]


def _measure(variant: str, steps: int, reps: int) -> float:
    """Per-step CPU seconds of ``variant`` (run in a child process)."""
    sys.path.insert(0, str(REPO / "tests" / "fixtures"))
    from engine_handlers.workflows import StepSpec, create, write_template

    from tasker_ctl.tasks.run import run_task

    _switch_off(variant)

    def chain(length: int) -> list[StepSpec]:
        return [StepSpec(f"s{i}", "small", (f"s{i - 1}",) if i else ()) for i in range(length)]

    quartiles = {}
    for length in (4, steps):
        times = []
        for _ in range(reps):
            directory = Path(tempfile.mkdtemp(prefix="bench-checks-"))
            write_template(directory / "templates", "wf", chain(length))
            db = directory / "tasker.db"
            task = create(db, directory / "templates", "wf", {})
            started = time.process_time()
            result = run_task(db, task, handler_modules=["engine_handlers"])
            times.append(time.process_time() - started)
            assert result.status == "complete", result
        quartiles[length] = sorted(times)[len(times) // 4]
    return (quartiles[steps] - quartiles[4]) / (steps - 4)


def main() -> None:
    """Interleave the variants over ``--rounds`` and print medians and differences."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--reps", type=int, default=21)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(args.child, args.steps, args.reps)))
        return
    samples: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for _ in range(args.rounds):
        for variant in VARIANTS:
            child = subprocess.run(
                [sys.executable, __file__, "--child", variant, "--steps", str(args.steps),
                 "--reps", str(args.reps)],
                capture_output=True, text=True, check=True, cwd=REPO,
            )  # fmt: skip
            samples[variant].append(json.loads(child.stdout.splitlines()[-1]))
    base = statistics.median(samples["none"])
    print(f"| variant | per-step CPU (median of {args.rounds}) | the checks it leaves out cost |")
    print("|---|---|---|")
    full = statistics.median(samples["all checks"])
    for variant in VARIANTS:
        value = statistics.median(samples[variant])
        saved = full - value
        share = (
            f"{saved * 1e6:+.1f} µs ({saved / base:+.1%} of 'none')"
            if variant != "all checks"
            else "—"
        )
        print(f"| {variant} | {value * 1e6:.1f} µs | {share} |")


if __name__ == "__main__":
    main()
