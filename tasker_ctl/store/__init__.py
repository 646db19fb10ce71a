"""The local SQLite store: opening it (for writing or strictly for reading) and its repository.

Writers create the file on first use and apply pending migrations. Readers never create or
change a store: a missing or empty file reads as "no store" (``None``); the one exception is a
store written by an older tasker-ctl, which is migrated once before it is read.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tasker_ctl.store.connection import (
    DEFAULT_BUSY_TIMEOUT_MS,
    connect_for_reading,
    connect_for_writing,
    translate_errors,
    use_durability,
)
from tasker_ctl.store.migrations import check_usable, migrate, read_schema_status
from tasker_ctl.store.repository import Repository, TransitionConflictError

__all__ = [
    "Repository",
    "TransitionConflictError",
    "open_for_reading",
    "open_for_writing",
    "use_durability",
]


def open_for_writing(
    path: Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, durability: str | None = None
) -> Repository:
    """Open (creating if needed) and migrate the store at ``path``.

    A file that is not a tasker-ctl store is refused before a byte of it changes.
    ``durability`` is ``normal`` or ``full`` (``synchronous=FULL``: each commit is on disk
    when it returns); without it, the process's (:func:`use_durability`).
    """

    def refuse_foreign(conn: sqlite3.Connection) -> None:
        check_usable(path, read_schema_status(conn))

    conn = connect_for_writing(
        path, busy_timeout_ms=busy_timeout_ms, check=refuse_foreign, durability=durability
    )
    try:
        with translate_errors(path):
            migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return Repository(conn, path, writable=True)


def open_for_reading(
    path: Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
) -> Repository | None:
    """Open an existing store read-only, or return None when there is no store at ``path``."""
    if not path.is_file():
        return None
    conn = connect_for_reading(path, busy_timeout_ms=busy_timeout_ms)
    try:
        with translate_errors(path):
            status = read_schema_status(conn)
        if status.is_empty:
            conn.close()
            return None
        check_usable(path, status)
        if status.pending:
            conn.close()
            open_for_writing(path, busy_timeout_ms=busy_timeout_ms).close()
            conn = connect_for_reading(path, busy_timeout_ms=busy_timeout_ms)
    except BaseException:
        conn.close()
        raise
    return Repository(conn, path, writable=False)
