"""Shell completion of task UUIDs and step names, read from the store this command would use.

Typer calls these while the shell completes a word; they must be fast and never fail loudly, so
any problem (no store, a bad config file, a busy store) offers nothing.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import typer


def _store(ctx: typer.Context) -> Path | None:
    """The store named by ``--db`` on the line being completed, else the configured one."""
    flag = ctx.params.get("db")
    try:
        from tasker_ctl.config import load_project_config, resolve_db_path

        with contextlib.redirect_stderr(io.StringIO()):
            return resolve_db_path(Path(flag) if flag else None, load_project_config())
    except Exception:  # completion must never fail loudly
        return None


def complete_task(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Task UUIDs starting with what was typed, the most recent first, with what each is."""
    from tasker_ctl.store.candidates import recent_tasks

    store = _store(ctx)
    return [] if store is None else recent_tasks(store, incomplete)


def complete_step(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """The step names of the task given before, starting with what was typed."""
    from tasker_ctl.store.candidates import step_names

    task = ctx.params.get("task")
    store = _store(ctx)
    if store is None or not isinstance(task, str):
        return []
    return step_names(store, task, incomplete)
