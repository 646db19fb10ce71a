"""The floor for a durable runner in ``bench_peers.py``: a workflow run by a loop of a few lines.

    python bare_sqlite_loop.py STEPS_JSON STORE_DB [CONCURRENCY]

Reads the steps (``name``, ``parents``, ``handler``, ``config``, ``max_attempts``,
``backoff_ms``) that ``bench_peers.py`` writes, stores the task, its steps and its edges in one
commit, then runs the steps in dependency order on a thread pool. Only the scheduling thread
touches SQLite; every transition (pending → in_progress → complete, or → waiting_for_retry /
error) is committed on its own, the result in the same commit as the completion, with WAL and
``synchronous=NORMAL`` as tasker-ctl's store. A handler is given its parents' results. Prints
``{"steps": N, "complete": N, "failed": [...]}`` and exits 0 only when every step completed.

Standard library only, and no more of it than the loop needs: what this costs is the floor.
"""

from __future__ import annotations

import heapq
import json
import sqlite3
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY, state TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS steps (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    UNIQUE (task_id, name)
);
CREATE TABLE IF NOT EXISTS edges (
    parent_id INTEGER NOT NULL REFERENCES steps(id),
    child_id INTEGER NOT NULL REFERENCES steps(id),
    PRIMARY KEY (parent_id, child_id)
);
CREATE TABLE IF NOT EXISTS transitions (
    id INTEGER PRIMARY KEY,
    step_id INTEGER NOT NULL REFERENCES steps(id),
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    at REAL NOT NULL,
    error TEXT
);
CREATE TABLE IF NOT EXISTS results (
    step_id INTEGER PRIMARY KEY REFERENCES steps(id), result TEXT NOT NULL
);
"""

Handler = Callable[[Mapping[str, Any], Mapping[str, Any], int], Any]


def small(parents: Mapping[str, Any], config: Mapping[str, Any], retries: int) -> Any:
    """Return a small dict at once."""
    return {"ok": True, "n": 1}


def reads_parents(parents: Mapping[str, Any], config: Mapping[str, Any], retries: int) -> Any:
    """Fail unless every parent's result is there and says ``ok``."""
    for name, result in parents.items():
        if not (isinstance(result, dict) and result.get("ok")):
            raise RuntimeError(f"parent {name} has no result: {result!r}")
    return {"ok": True, "n": 1}


def flaky(parents: Mapping[str, Any], config: Mapping[str, Any], retries: int) -> Any:
    """Fail on the first ``config["failures"]`` attempts, then succeed."""
    if retries < int(config.get("failures") or 0):
        raise RuntimeError(f"flaky failure on attempt {retries + 1}")
    return {"ok": True, "succeeded_on_attempt": retries + 1}


HANDLERS: dict[str, Handler] = {
    "small": small,
    "reads_parents": reads_parents,
    "flaky": flaky,
}


class Store:
    """The task's rows; every method is one committed transaction."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.executescript(SCHEMA)

    def create(self, steps: list[dict[str, Any]]) -> dict[str, int]:
        """Store a task of ``steps`` (all pending) and its edges; ``step name -> row id``."""
        with self.conn:
            task_id = self.conn.execute(
                "INSERT INTO tasks (state, created_at) VALUES ('pending', ?)", (time.time(),)
            ).lastrowid
            self.conn.executemany(
                "INSERT INTO steps (task_id, name, state) VALUES (?, ?, 'pending')",
                [(task_id, step["name"]) for step in steps],
            )
            ids = dict(
                self.conn.execute("SELECT name, id FROM steps WHERE task_id = ?", (task_id,))
            )
            self.conn.executemany(
                "INSERT INTO edges (parent_id, child_id) VALUES (?, ?)",
                [(ids[parent], ids[step["name"]]) for step in steps for parent in step["parents"]],
            )
        return ids

    def move(self, step_id: int, from_state: str, to_state: str, error: str | None = None) -> None:
        """Commit one transition of one step (a start also counts an attempt)."""
        with self.conn:
            self._transition(step_id, from_state, to_state, error)

    def complete(self, step_id: int, result: Any) -> None:
        """Commit the step's completion and its result together."""
        with self.conn:
            self._transition(step_id, "in_progress", "complete", None)
            self.conn.execute(
                "INSERT INTO results (step_id, result) VALUES (?, ?)", (step_id, json.dumps(result))
            )

    def _transition(self, step_id: int, from_state: str, to_state: str, error: str | None) -> None:
        attempts = 1 if to_state == "in_progress" else 0
        self.conn.execute(
            "UPDATE steps SET state = ?, attempts = attempts + ? WHERE id = ?",
            (to_state, attempts, step_id),
        )
        self.conn.execute(
            "INSERT INTO transitions (step_id, from_state, to_state, at, error)"
            " VALUES (?, ?, ?, ?, ?)",
            (step_id, from_state, to_state, time.time(), error),
        )


def run(steps: list[dict[str, Any]], store: Store, concurrency: int) -> dict[str, Any]:
    """Run every step once its parents have completed; retry failures after their backoff."""
    by_name = {step["name"]: step for step in steps}
    ids = store.create(steps)
    children: dict[str, list[str]] = {name: [] for name in by_name}
    waiting = {}
    for step in steps:
        waiting[step["name"]] = len(step["parents"])
        for parent in step["parents"]:
            children[parent].append(step["name"])
    ready = deque(name for name, count in waiting.items() if count == 0)
    delayed: list[tuple[float, str]] = []  # (due on the monotonic clock, step name)
    retries = dict.fromkeys(by_name, 0)
    results: dict[str, Any] = {}
    failed: list[str] = []
    running: dict[Future[Any], str] = {}
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        while ready or running or delayed:
            now = time.monotonic()
            while delayed and delayed[0][0] <= now:
                ready.append(heapq.heappop(delayed)[1])
            while ready and len(running) < concurrency:
                name = ready.popleft()
                step = by_name[name]
                from_state = "waiting_for_retry" if retries[name] else "pending"
                store.move(ids[name], from_state, "in_progress")
                parents = {parent: results[parent] for parent in step["parents"]}
                handler = HANDLERS[step["handler"]]
                running[pool.submit(handler, parents, step["config"], retries[name])] = name
            timeout = max(0.0, delayed[0][0] - now) if delayed else None
            if not running:
                time.sleep(timeout or 0)
                continue
            done, _ = wait(running, timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                error = future.exception()
                if error is None:
                    results[name] = future.result()
                    store.complete(ids[name], results[name])
                    for child in children[name]:
                        waiting[child] -= 1
                        if waiting[child] == 0:
                            ready.append(child)
                elif retries[name] + 1 < by_name[name]["max_attempts"]:
                    retries[name] += 1
                    store.move(ids[name], "in_progress", "waiting_for_retry", repr(error))
                    due = time.monotonic() + by_name[name]["backoff_ms"] / 1000
                    heapq.heappush(delayed, (due, name))
                else:
                    store.move(ids[name], "in_progress", "error", repr(error))
                    failed.append(name)
    return {"steps": len(steps), "complete": len(results), "failed": failed}


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as spec:  # noqa: PTH123 - pathlib is not needed here
        steps = json.load(spec)["steps"]
    store = Store(argv[2])
    summary = run(steps, store, int(argv[3]) if len(argv) == 4 else 8)
    store.conn.close()
    print(json.dumps(summary))
    return 0 if summary["complete"] == summary["steps"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
