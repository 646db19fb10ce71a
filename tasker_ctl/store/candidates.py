"""What shell completion offers: task UUIDs (the most recent first) and a task's step names.

Completion runs on every Tab press, so this reads as little as it can, never writes (not even
the migration a reader would apply to an older store) and never raises: any problem, a store
that is missing, busy, corrupt, older or newer than this version, just offers nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tasker_ctl.store.connection import connect_for_reading
from tasker_ctl.store.migrations import read_schema_status

COMPLETION_BUSY_TIMEOUT_MS = 200
"""How long completion waits for a writer's lock before offering nothing."""


def _connect(path: Path) -> sqlite3.Connection | None:
    if not path.is_file():
        return None
    conn = connect_for_reading(path, busy_timeout_ms=COMPLETION_BUSY_TIMEOUT_MS)
    status = read_schema_status(conn)
    if status.pending or status.unknown or status.has_other_tables or status.is_empty:
        conn.close()
        return None
    return conn


def recent_tasks(path: Path, prefix: str, limit: int = 50) -> list[tuple[str, str]]:
    """``(uuid, "namespace/name vX state")`` of the tasks whose UUID starts with ``prefix``,
    newest first; empty on any problem."""
    try:
        conn = _connect(path)
        if conn is None:
            return []
        with conn:
            rows = conn.execute(
                "SELECT uuid, namespace, name, version, state FROM tasks "
                "WHERE uuid >= ? AND uuid < ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
                (prefix.lower(), prefix.lower() + "~", limit),
            ).fetchall()
        conn.close()
    except Exception:  # completion must never fail loudly
        return []
    return [
        (str(uuid), f"{ns}/{name} v{version} {state}") for uuid, ns, name, version, state in rows
    ]


def step_names(path: Path, task_reference: str, prefix: str) -> list[tuple[str, str]]:
    """``(step name, state)`` of the one task ``task_reference`` (a UUID or unique prefix)
    names, for step names starting with ``prefix``; empty on any problem."""
    reference = task_reference.strip().lower()
    if not reference:
        return []
    try:
        conn = _connect(path)
        if conn is None:
            return []
        with conn:
            tasks = conn.execute(
                "SELECT uuid FROM tasks WHERE uuid >= ? AND uuid < ? LIMIT 2",
                (reference, reference + "~"),
            ).fetchall()
            rows = []
            if len(tasks) == 1:
                rows = conn.execute(
                    "SELECT name, state FROM steps WHERE task_uuid = ? ORDER BY position",
                    (tasks[0][0],),
                ).fetchall()
        conn.close()
    except Exception:  # completion must never fail loudly
        return []
    return [(str(name), str(state)) for name, state in rows if str(name).startswith(prefix)]
