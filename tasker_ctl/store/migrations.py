"""The store's schema, only through named, ordered migrations (sqlite-utils ``Migrations``).

Opening a store checks the applied migration names with the standard library alone, because
importing sqlite-utils costs a noticeable part of a command's start-up; sqlite-utils is imported
only when a migration must actually run on a store that has some already. A new, empty file
gets the recorded result of every migration instead (:mod:`tasker_ctl.store.fresh_schema`).
Migrations run inside one ``BEGIN IMMEDIATE`` transaction, so two processes opening a new store
at once cannot both apply them.

Append new migrations at the end of :func:`build_migrations` (then record the fresh schema
again); never rename or edit an applied one.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasker_ctl.errors import StoreUnusableError
from tasker_ctl.store.connection import WriteTransaction

if TYPE_CHECKING:
    from sqlite_utils.migrations import Migrations

MIGRATION_SET = "tasker_ctl"
MIGRATIONS_TABLE = "_sqlite_migrations"

MIGRATION_NAMES: tuple[str, ...] = (
    "0001_initial_schema",
    "0002_step_output",
    "0003_task_priority_description",
    "0004_run_leases",
)
"""Every migration this version knows, in order; must match :func:`build_migrations`."""


@dataclass(frozen=True)
class SchemaStatus:
    """Which of our migrations a store file has, and whether it is ours at all."""

    applied: tuple[str, ...]
    has_other_tables: bool

    @property
    def is_empty(self) -> bool:
        """A new file: nothing of ours and nothing of anyone else's."""
        return not self.applied and not self.has_other_tables

    @property
    def unknown(self) -> tuple[str, ...]:
        """Applied migrations this version does not know: the store is newer than the code."""
        return tuple(name for name in self.applied if name not in MIGRATION_NAMES)

    @property
    def pending(self) -> tuple[str, ...]:
        """Known migrations not yet applied."""
        return tuple(name for name in MIGRATION_NAMES if name not in self.applied)


def read_schema_status(conn: sqlite3.Connection) -> SchemaStatus:
    """Read the applied migration names with the standard library; writes nothing."""
    tables = {
        row[0]
        for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    }
    applied: tuple[str, ...] = ()
    if MIGRATIONS_TABLE in tables:
        applied = tuple(
            row[0]
            for row in conn.execute(
                f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY rowid",
                (MIGRATION_SET,),
            ).fetchall()
        )
    other = {name for name in tables if not name.startswith("sqlite_")} - {MIGRATIONS_TABLE}
    return SchemaStatus(applied=applied, has_other_tables=bool(other) and not applied)


def check_usable(path: Path, status: SchemaStatus) -> None:
    """Refuse a store written by a newer tasker-ctl, or a database that is not a store."""
    if status.unknown:
        raise StoreUnusableError(
            f"the store {path} was written by a newer tasker-ctl "
            f"(unknown migrations: {', '.join(status.unknown)})",
            hint="upgrade tasker-ctl, or point --db at another store",
        )
    if status.has_other_tables:
        raise StoreUnusableError(
            f"{path} is a SQLite database but not a tasker-ctl store",
            hint="point --db at another file (or a new path to start a store there)",
        )


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the store up to date, applying pending migrations under the write lock."""
    status = read_schema_status(conn)
    check_usable(path, status)
    if not status.pending:
        return
    with WriteTransaction(conn, path):
        # Another process may have migrated while this one waited for the lock.
        status = read_schema_status(conn)
        check_usable(path, status)
        if status.is_empty and _replay_fresh_schema(conn):
            return
        if status.pending:
            from sqlite_utils import Database

            build_migrations().apply(Database(conn, execute_plugins=False))


def _replay_fresh_schema(conn: sqlite3.Connection) -> bool:
    """Give an empty file the recorded result of every migration (see
    :mod:`tasker_ctl.store.fresh_schema`); False when the recording is not for this version."""
    from tasker_ctl.store import fresh_schema

    if fresh_schema.MIGRATIONS != MIGRATION_NAMES or not fresh_schema.STATEMENTS:
        return False
    for statement in fresh_schema.STATEMENTS:
        conn.execute(statement)
    applied_at = str(datetime.now(UTC))  # as sqlite-utils records it
    conn.executemany(
        f"INSERT INTO {MIGRATIONS_TABLE} (migration_set, name, applied_at) VALUES (?, ?, ?)",
        [(MIGRATION_SET, name, applied_at) for name in MIGRATION_NAMES],
    )
    return True


def _build() -> Migrations:
    """The migrations (kept under this name for callers that apply part of them)."""
    return build_migrations()


def build_migrations() -> Migrations:
    from sqlite_utils.migrations import Migrations

    migrations = Migrations(MIGRATION_SET)

    @migrations(name="0001_initial_schema")
    def initial_schema(db: Any) -> None:
        db["template_snapshots"].create(
            {
                "id": int,
                "content_hash": str,
                "namespace": str,
                "name": str,
                "version": str,
                "snapshot": str,
                "created_at": str,
            },
            pk="id",
            not_null=["content_hash", "namespace", "name", "version", "snapshot", "created_at"],
        )
        db["template_snapshots"].create_index(["content_hash"], unique=True)

        db["tasks"].create(
            {
                "uuid": str,
                "namespace": str,
                "name": str,
                "version": str,
                "template_id": int,
                "template_path": str,
                "state": str,
                "input": str,
                "initiator": str,
                "reason": str,
                "source_system": str,
                "correlation_id": str,
                "environment": str,
                "created_at": str,
                "updated_at": str,
                "completed_at": str,
            },
            pk="uuid",
            foreign_keys=[("template_id", "template_snapshots", "id")],
            not_null=[
                "namespace",
                "name",
                "version",
                "template_id",
                "state",
                "input",
                "created_at",
                "updated_at",
            ],
        )
        db["tasks"].create_index(["created_at"])
        db["tasks"].create_index(["namespace", "state"])

        db["steps"].create(
            {
                "uuid": str,
                "task_uuid": str,
                "position": int,
                "name": str,
                "template_step_name": str,
                "step_type": str,
                "handler": str,
                "retry": str,
                "timeout_seconds": int,
                "inputs": str,
                "checkpoint": str,
                "state": str,
                "attempts": int,
                "max_attempts": int,
                "retryable": int,
                "next_retry_at": str,
                "backoff_ms": int,
                "created_at": str,
                "updated_at": str,
                "started_at": str,
                "completed_at": str,
                "result": str,
                "error": str,
            },
            pk="uuid",
            foreign_keys=[("task_uuid", "tasks", "uuid")],
            not_null=[
                "task_uuid",
                "position",
                "name",
                "template_step_name",
                "step_type",
                "handler",
                "retry",
                "state",
                "attempts",
                "max_attempts",
                "retryable",
                "created_at",
                "updated_at",
            ],
            defaults={"attempts": 0},
        )
        db["steps"].create_index(["task_uuid", "name"], unique=True)
        db["steps"].create_index(["task_uuid", "position"])

        db["step_edges"].create(
            {"task_uuid": str, "from_step_uuid": str, "to_step_uuid": str},
            pk=("from_step_uuid", "to_step_uuid"),
            foreign_keys=[
                ("task_uuid", "tasks", "uuid"),
                ("from_step_uuid", "steps", "uuid"),
                ("to_step_uuid", "steps", "uuid"),
            ],
            not_null=["task_uuid"],
        )
        db["step_edges"].create_index(["task_uuid"])
        db["step_edges"].create_index(["to_step_uuid"])

        db["task_transitions"].create(
            {
                "id": int,
                "task_uuid": str,
                "from_state": str,
                "to_state": str,
                "event": str,
                "created_at": str,
                "metadata": str,
            },
            pk="id",
            foreign_keys=[("task_uuid", "tasks", "uuid")],
            not_null=["task_uuid", "to_state", "event", "created_at"],
        )
        db["task_transitions"].create_index(["task_uuid", "id"])

        db["step_transitions"].create(
            {
                "id": int,
                "task_uuid": str,
                "step_uuid": str,
                "from_state": str,
                "to_state": str,
                "event": str,
                "attempt": int,
                "created_at": str,
                "metadata": str,
            },
            pk="id",
            foreign_keys=[("task_uuid", "tasks", "uuid"), ("step_uuid", "steps", "uuid")],
            not_null=["task_uuid", "step_uuid", "to_state", "event", "attempt", "created_at"],
        )
        # Indexed by task only: an index on the random step UUID would dirty one more random
        # page in every transition commit, and one step's rows are found through its task.
        db["step_transitions"].create_index(["task_uuid", "id"])

        db["step_results"].create(
            {
                "id": int,
                "task_uuid": str,
                "step_uuid": str,
                "attempt": int,
                "success": int,
                "result": str,
                "error": str,
                "metadata": str,
                "created_at": str,
            },
            pk="id",
            foreign_keys=[("task_uuid", "tasks", "uuid"), ("step_uuid", "steps", "uuid")],
            not_null=["task_uuid", "step_uuid", "attempt", "success", "created_at"],
        )
        db["step_results"].create_index(["task_uuid", "id"])

    @migrations(name="0002_step_output")
    def step_output(db: Any) -> None:
        # What handlers printed or logged, one row per line, written while the run goes on so
        # that `task logs --follow` in another process sees it.
        db["step_output"].create(
            {
                "id": int,
                "task_uuid": str,
                "step_uuid": str,
                "attempt": int,
                "stream": str,
                "text": str,
                "created_at": str,
            },
            pk="id",
            foreign_keys=[("task_uuid", "tasks", "uuid"), ("step_uuid", "steps", "uuid")],
            not_null=["task_uuid", "step_uuid", "attempt", "stream", "text", "created_at"],
        )
        db["step_output"].create_index(["task_uuid", "id"])

    @migrations(name="0003_task_priority_description")
    def task_priority_description(db: Any) -> None:
        # `task create -p/--priority` (1-10, Tasker's default 5) and `-d/--description`.
        db["tasks"].add_column("priority", int, not_null_default=5)
        db["tasks"].add_column("description", str)

    @migrations(name="0004_run_leases")
    def run_leases(db: Any) -> None:
        # One row per task that was ever run: who holds (or last held) its run, and since when.
        db["run_leases"].create(
            {
                "task_uuid": str,
                "token": str,
                "pid": int,
                "host": str,
                "boot_id": str,
                "process_start": str,
                "acquired_at": str,
                "heartbeat_at": str,
                "heartbeat_seconds": float,
                "released_at": str,
                "interrupt": str,
            },
            pk="task_uuid",
            foreign_keys=[("task_uuid", "tasks", "uuid")],
            not_null=["token", "pid", "host", "acquired_at", "heartbeat_at", "heartbeat_seconds"],
        )

    return migrations
