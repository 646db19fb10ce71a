"""The schema a new store gets, as recorded from sqlite-utils' migrations, for replaying at once.

sqlite-utils owns the schema: :mod:`tasker_ctl.store.migrations` defines every migration
through its ``Migrations``, and a store that has some of them applies the rest through it. A new,
empty file is different only in speed: importing sqlite-utils costs about 30 ms (click,
dateutil, pluggy come with it) and its table creation introspects the file between statements
(about 300 statements for four migrations), while the DDL itself takes a few milliseconds. So
the statements those migrations leave in ``sqlite_master`` are recorded here, and a new store
replays them in one transaction, with the same ``_sqlite_migrations`` rows sqlite-utils writes.

The recording is only used when it covers exactly the migrations this version defines
(:data:`MIGRATIONS` equal to ``MIGRATION_NAMES``); otherwise a new store goes through
sqlite-utils like any other. ``tests/integration/test_store.py`` checks that a replayed store
and a migrated one have the same schema. After adding a migration, record it again:

    python -m tasker_ctl.store.fresh_schema
"""

from __future__ import annotations


def record() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The migration names and the ``sqlite_master`` statements of a store migrated now by
    sqlite-utils (in an in-memory database), in creation order."""
    import sqlite3

    from sqlite_utils import Database

    from tasker_ctl.store.migrations import MIGRATION_NAMES, build_migrations

    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        build_migrations().apply(Database(conn, execute_plugins=False))
        statements = tuple(
            row[0]
            for row in conn.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
            )
        )
    finally:
        conn.close()
    return MIGRATION_NAMES, statements


_MARKER = "# --- recorded by `python -m tasker_ctl.store.fresh_schema`; do not edit below ---\n"


def _write_module() -> None:
    """Rewrite this module's :data:`MIGRATIONS` and :data:`STATEMENTS` from :func:`record`."""
    from pathlib import Path

    names, statements = record()
    if any('"""' in statement or "\\" in statement for statement in statements):
        raise SystemExit("a statement cannot be written as a plain triple-quoted string")
    path = Path(__file__)
    source = path.read_text(encoding="utf-8")
    kept = source[: source.index(_MARKER) + len(_MARKER)]
    rendered_names = "".join(f'    "{name}",\n' for name in names)
    rendered_statements = "".join(f'    """{statement}""",\n' for statement in statements)
    path.write_text(
        f"{kept}\nMIGRATIONS: tuple[str, ...] = (\n{rendered_names})\n\n"
        f"STATEMENTS: tuple[str, ...] = (\n{rendered_statements})\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    _write_module()

# --- recorded by `python -m tasker_ctl.store.fresh_schema`; do not edit below ---

MIGRATIONS: tuple[str, ...] = (
    "0001_initial_schema",
    "0002_step_output",
    "0003_task_priority_description",
    "0004_run_leases",
)

STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
)""",
    """CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name")""",
    """CREATE TABLE "template_snapshots" (
   "id" INTEGER PRIMARY KEY,
   "content_hash" TEXT NOT NULL,
   "namespace" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "version" TEXT NOT NULL,
   "snapshot" TEXT NOT NULL,
   "created_at" TEXT NOT NULL
)""",
    """CREATE UNIQUE INDEX "idx_template_snapshots_content_hash"
    ON "template_snapshots" ("content_hash")""",
    """CREATE TABLE "tasks" (
   "uuid" TEXT PRIMARY KEY,
   "namespace" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "version" TEXT NOT NULL,
   "template_id" INTEGER NOT NULL REFERENCES "template_snapshots"("id"),
   "template_path" TEXT,
   "state" TEXT NOT NULL,
   "input" TEXT NOT NULL,
   "initiator" TEXT,
   "reason" TEXT,
   "source_system" TEXT,
   "correlation_id" TEXT,
   "environment" TEXT,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL,
   "completed_at" TEXT
, "priority" INTEGER NOT NULL DEFAULT 5, "description" TEXT)""",
    """CREATE INDEX "idx_tasks_created_at"
    ON "tasks" ("created_at")""",
    """CREATE INDEX "idx_tasks_namespace_state"
    ON "tasks" ("namespace", "state")""",
    """CREATE TABLE "steps" (
   "uuid" TEXT PRIMARY KEY,
   "task_uuid" TEXT NOT NULL REFERENCES "tasks"("uuid"),
   "position" INTEGER NOT NULL,
   "name" TEXT NOT NULL,
   "template_step_name" TEXT NOT NULL,
   "step_type" TEXT NOT NULL,
   "handler" TEXT NOT NULL,
   "retry" TEXT NOT NULL,
   "timeout_seconds" INTEGER,
   "inputs" TEXT,
   "checkpoint" TEXT,
   "state" TEXT NOT NULL,
   "attempts" INTEGER NOT NULL DEFAULT 0,
   "max_attempts" INTEGER NOT NULL,
   "retryable" INTEGER NOT NULL,
   "next_retry_at" TEXT,
   "backoff_ms" INTEGER,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL,
   "started_at" TEXT,
   "completed_at" TEXT,
   "result" TEXT,
   "error" TEXT
)""",
    """CREATE UNIQUE INDEX "idx_steps_task_uuid_name"
    ON "steps" ("task_uuid", "name")""",
    """CREATE INDEX "idx_steps_task_uuid_position"
    ON "steps" ("task_uuid", "position")""",
    """CREATE TABLE "step_edges" (
   "task_uuid" TEXT NOT NULL REFERENCES "tasks"("uuid"),
   "from_step_uuid" TEXT REFERENCES "steps"("uuid"),
   "to_step_uuid" TEXT REFERENCES "steps"("uuid"),
   PRIMARY KEY ("from_step_uuid", "to_step_uuid")
)""",
    """CREATE INDEX "idx_step_edges_task_uuid"
    ON "step_edges" ("task_uuid")""",
    """CREATE INDEX "idx_step_edges_to_step_uuid"
    ON "step_edges" ("to_step_uuid")""",
    """CREATE TABLE "task_transitions" (
   "id" INTEGER PRIMARY KEY,
   "task_uuid" TEXT NOT NULL REFERENCES "tasks"("uuid"),
   "from_state" TEXT,
   "to_state" TEXT NOT NULL,
   "event" TEXT NOT NULL,
   "created_at" TEXT NOT NULL,
   "metadata" TEXT
)""",
    """CREATE INDEX "idx_task_transitions_task_uuid_id"
    ON "task_transitions" ("task_uuid", "id")""",
    """CREATE TABLE "step_transitions" (
   "id" INTEGER PRIMARY KEY,
   "task_uuid" TEXT NOT NULL REFERENCES "tasks"("uuid"),
   "step_uuid" TEXT NOT NULL REFERENCES "steps"("uuid"),
   "from_state" TEXT,
   "to_state" TEXT NOT NULL,
   "event" TEXT NOT NULL,
   "attempt" INTEGER NOT NULL,
   "created_at" TEXT NOT NULL,
   "metadata" TEXT
)""",
    """CREATE INDEX "idx_step_transitions_task_uuid_id"
    ON "step_transitions" ("task_uuid", "id")""",
    """CREATE TABLE "step_results" (
   "id" INTEGER PRIMARY KEY,
   "task_uuid" TEXT NOT NULL REFERENCES "tasks"("uuid"),
   "step_uuid" TEXT NOT NULL REFERENCES "steps"("uuid"),
   "attempt" INTEGER NOT NULL,
   "success" INTEGER NOT NULL,
   "result" TEXT,
   "error" TEXT,
   "metadata" TEXT,
   "created_at" TEXT NOT NULL
)""",
    """CREATE INDEX "idx_step_results_task_uuid_id"
    ON "step_results" ("task_uuid", "id")""",
    """CREATE TABLE "step_output" (
   "id" INTEGER PRIMARY KEY,
   "task_uuid" TEXT NOT NULL REFERENCES "tasks"("uuid"),
   "step_uuid" TEXT NOT NULL REFERENCES "steps"("uuid"),
   "attempt" INTEGER NOT NULL,
   "stream" TEXT NOT NULL,
   "text" TEXT NOT NULL,
   "created_at" TEXT NOT NULL
)""",
    """CREATE INDEX "idx_step_output_task_uuid_id"
    ON "step_output" ("task_uuid", "id")""",
    """CREATE TABLE "run_leases" (
   "task_uuid" TEXT PRIMARY KEY REFERENCES "tasks"("uuid"),
   "token" TEXT NOT NULL,
   "pid" INTEGER NOT NULL,
   "host" TEXT NOT NULL,
   "boot_id" TEXT,
   "process_start" TEXT,
   "acquired_at" TEXT NOT NULL,
   "heartbeat_at" TEXT NOT NULL,
   "heartbeat_seconds" REAL NOT NULL,
   "released_at" TEXT,
   "interrupt" TEXT
)""",
)
