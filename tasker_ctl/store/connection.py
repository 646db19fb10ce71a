"""The SQLite policy in one place: how the store file is opened, locked, and how its errors read.

* Writers open the file in WAL mode with ``synchronous=NORMAL`` (durable against a killed
  process, which is what a local tool needs; a power loss or OS crash may take the last
  commits), or ``synchronous=FULL`` when the durability is ``full`` (every commit reaches the
  disk before it returns), foreign keys on and a busy timeout; every
  transaction that reads before it writes starts with ``BEGIN IMMEDIATE``
  (:class:`WriteTransaction`) so that waiting for the lock happens up front, inside the timeout
  (a deferred ``BEGIN`` that later writes fails at once with "database is locked" under WAL).
* Readers open the file through a ``mode=ro`` URI, so a reading command cannot change it, and
  never create a store that does not exist.
* ``sqlite3`` errors become ``StoreBusyError`` (75) or ``StoreUnusableError`` (74) with a hint.
* A file that is not ours is refused before anything is written to it (not even the switch to
  WAL), and a writer checks at each transaction that the file it opened is still the one at its
  path (:class:`StoreIdentity`): a store deleted or replaced under a run must not look like
  success.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from tasker_ctl.errors import StoreBusyError, StoreUnusableError, TaskerCtlError

DEFAULT_BUSY_TIMEOUT_MS = 10_000
DURABILITY_NORMAL = "normal"
DURABILITY_FULL = "full"
SYNCHRONOUS_FOR_DURABILITY = {DURABILITY_NORMAL: "NORMAL", DURABILITY_FULL: "FULL"}
"""``durability`` setting -> the ``PRAGMA synchronous`` every writer's connection gets."""
_SYNCHRONOUS_NAMES = {0: "off", 1: "normal", 2: "full", 3: "extra"}
_process_durability = DURABILITY_NORMAL


def use_durability(durability: str) -> None:
    """The durability of every writer this process opens without naming one (the command line
    sets it once per command from ``--durability`` or the config file)."""
    global _process_durability  # noqa: PLW0603 - one process-wide setting, as the config file
    if durability not in SYNCHRONOUS_FOR_DURABILITY:
        raise ValueError(f"unknown durability {durability!r}")
    _process_durability = durability


def synchronous_setting(conn: sqlite3.Connection) -> str:
    """The connection's ``PRAGMA synchronous``, read back: ``normal``, ``full``, …"""
    value = conn.execute("PRAGMA synchronous").fetchone()[0]
    return _SYNCHRONOUS_NAMES.get(int(value), str(value))


_formatted_second: tuple[int, str] = (-1, "")


def utc_now() -> str:
    """The current time as ISO-8601 UTC with milliseconds, e.g. ``2026-03-01T12:00:00.123Z``.

    A run stamps every transition: the text of the current second is kept, and only the
    milliseconds are formatted at each call (a tenth of what ``datetime.isoformat`` costs).
    """
    global _formatted_second  # noqa: PLW0603 - one cached value; replacing a tuple is atomic
    now = time.time()
    second = int(now)
    cached = _formatted_second
    if cached[0] != second:
        cached = _formatted_second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)))
    return f"{cached[1]}.{int((now - second) * 1000):03d}Z"


def format_timestamp(moment: datetime) -> str:
    """``moment`` (aware, or naive meaning UTC) as ISO-8601 UTC with milliseconds and ``Z``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def parse_timestamp(text: str) -> datetime:
    """A stored timestamp back as an aware UTC datetime."""
    return datetime.fromisoformat(text)


def connect_for_writing(
    path: Path,
    *,
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    check: Callable[[sqlite3.Connection], None] | None = None,
    durability: str | None = None,
) -> sqlite3.Connection:
    """Open (creating if needed) the store for reading and writing, with the WAL policy applied.

    ``durability`` (``normal`` or ``full``; default: the process's, see :func:`use_durability`)
    chooses ``PRAGMA synchronous``.

    ``check`` runs first, before anything could be written (it refuses a file that is not a
    store: switching to WAL would already change its bytes). The connection is in autocommit
    mode: transactions are explicit (see :class:`WriteTransaction`).
    """
    synchronous = SYNCHRONOUS_FOR_DURABILITY[durability or _process_durability]
    with translate_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            path,
            timeout=busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if check is not None:
                check(conn)
            _switch_to_wal(conn, busy_timeout_ms)
            conn.execute(f"PRAGMA synchronous = {synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            conn.close()
            raise
    return conn


def _switch_to_wal(conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
    """Put the store in WAL mode, waiting out another process that is doing the same.

    Switching the journal mode needs an exclusive lock, and SQLite reports a clash there as
    "database is locked" at once instead of calling the busy handler. Two commands opening a
    new store together would then fail; so the switch is retried until the busy timeout, and
    succeeds as soon as the other process has made the file WAL.
    """
    deadline = time.monotonic() + busy_timeout_ms / 1000
    pause = 0.001
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() == "wal":
                return
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def connect_for_reading(
    path: Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
) -> sqlite3.Connection:
    """Open an existing store read-only; the caller checks that the file exists first."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    with translate_errors(path):
        conn = sqlite3.connect(
            uri,
            uri=True,
            timeout=busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    return conn


Guard = Callable[[sqlite3.Connection], None]
"""Checks run at the start of each outermost write transaction, under the write lock."""


class PendingRows:
    """Rows a write transaction inserts in bulk just before it commits (dropped on rollback).

    A run records several transitions and results per commit; one ``executemany`` per table at
    the commit costs less than one per step. Rows keep their order within each statement.
    """

    __slots__ = ("_rows",)

    def __init__(self) -> None:
        self._rows: dict[str, list[tuple[Any, ...]]] = {}

    def add(self, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """Insert ``rows`` with ``sql`` when the transaction commits."""
        self._rows.setdefault(sql, []).extend(rows)

    def flush(self, conn: sqlite3.Connection) -> None:
        """Insert every row added so far."""
        rows, self._rows = self._rows, {}
        for sql, values in rows.items():
            conn.executemany(sql, values)

    def clear(self) -> None:
        """Forget the rows of a transaction rolled back."""
        self._rows = {}


class WriteTransaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error), joining one already open.

    ``sqlite3`` errors raised by the body, the ``BEGIN`` or the ``COMMIT`` become user errors
    (:func:`store_error`). A class rather than a generator because the engine opens one per
    state change. ``lock``, when given, is held for the whole transaction. ``guard``, when
    given, runs right after ``BEGIN IMMEDIATE`` of an outermost transaction: an error it raises
    rolls the transaction back before its body runs.
    """

    __slots__ = ("_conn", "_guard", "_lock", "_owner", "_path", "_pending")

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        lock: threading.RLock | None = None,
        guard: Guard | None = None,
        pending: PendingRows | None = None,
    ) -> None:
        self._conn = conn
        self._path = path
        self._lock = lock
        self._guard = guard
        self._pending = pending
        self._owner = False

    def __enter__(self) -> sqlite3.Connection:
        if self._lock is not None:
            self._lock.acquire()
        try:
            self._owner = not self._conn.in_transaction
            if self._owner:
                self._conn.execute("BEGIN IMMEDIATE")
                if self._guard is not None:
                    self._guard(self._conn)
        except BaseException as exc:
            if self._owner and self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._release()
            if isinstance(exc, sqlite3.Error):
                raise store_error(self._path, exc) from exc
            raise
        return self._conn

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._owner:
                self._finish(committing=exc_type is None)
        finally:
            self._release()
        if isinstance(exc, sqlite3.Error):
            raise store_error(self._path, exc) from exc

    def _finish(self, *, committing: bool) -> None:
        pending = self._pending
        try:
            if committing:
                if pending is not None:
                    pending.flush(self._conn)
                self._conn.execute("COMMIT")
                return
        except BaseException as error:
            if pending is not None:
                pending.clear()
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise store_error(self._path, error) from error
            raise
        if pending is not None:
            pending.clear()
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()


@contextmanager
def translate_errors(path: Path) -> Iterator[None]:
    """Turn ``sqlite3`` failures into user errors that name the store and suggest a fix."""
    try:
        yield
    except sqlite3.Error as exc:
        raise store_error(path, exc) from exc
    except OSError as exc:
        raise StoreUnusableError(
            f"cannot create or open the store {path}: {exc.strerror or exc}",
            hint="check the path given with --db or TASKER_CTL_DB, and its permissions",
        ) from exc


def store_error(path: Path, exc: sqlite3.Error) -> TaskerCtlError:
    """The user-facing error for a ``sqlite3`` failure on the store at ``path``."""
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, sqlite3.IntegrityError):
        return TaskerCtlError(
            f"the store {path} refused a change: {text}",
            hint="nothing was written; check the names and UUIDs given",
        )
    if "locked" in lowered or "busy" in lowered:
        return StoreBusyError(
            f"the store {path} is busy: another process held its lock past the timeout",
            hint="wait for the other tasker-ctl command to finish, then try again",
        )
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return StoreUnusableError(
            f"the store {path} is not a usable SQLite database ({text})",
            hint="point --db at another file, or move this one aside to start a new store",
        )
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        return StoreUnusableError(
            f"cannot open the store {path}: {text}",
            hint="check that the file and its directory exist and are writable",
        )
    return StoreUnusableError(
        f"the store {path} cannot be used: {text}",
        hint="point --db at another file, or move this one aside to start a new store",
    )


class StoreIdentity:
    """The store file (and its write-ahead log) a connection opened, to notice it going away.

    SQLite keeps writing to a file that was deleted or replaced under it, and reports success:
    everything recorded after that is lost. Comparing the path's ``(st_dev, st_ino)`` with the
    opened file's at each transaction costs two ``stat`` calls. The ``-wal`` file exists as long
    as a connection is open, so its identity is taken the first time it is seen and must stay.
    """

    __slots__ = ("_file", "_path", "_path_text", "_wal", "_wal_path", "_wal_text")

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wal_path = path.with_name(path.name + "-wal")
        self._path_text, self._wal_text = str(path), str(self._wal_path)
        self._file = _identity(self._path_text)
        self._wal = _identity(self._wal_text)

    def check(self) -> None:
        """Raise ``StoreUnusableError`` when the store or its log is no longer the one opened."""
        found = _identity(self._path_text)
        if found != self._file:
            what = "deleted" if found is None else "replaced by another file"
            raise StoreUnusableError(
                f"the store {self._path} was {what} while this command was using it; "
                "what it recorded since then is lost",
                hint="keep the store in place while tasker-ctl runs; "
                "then run the task again from the store you keep",
            )
        wal = _identity(self._wal_text)
        if self._wal is None:
            self._wal = wal
        elif wal != self._wal:
            raise StoreUnusableError(
                f"the store's write-ahead log {self._wal_path} was deleted or replaced while "
                "this command was using it; the changes it held are lost",
                hint="keep the store and its -wal and -shm files in place while tasker-ctl "
                "runs; then run the task again",
            )


def _identity(path: str) -> tuple[int, int] | None:
    try:
        found = os.stat(path)  # noqa: PTH116 (Path.stat is slower; this runs at every write)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino
