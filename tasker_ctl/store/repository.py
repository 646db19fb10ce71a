"""All SQL of tasker-ctl: tasks, steps, edges, transitions and attempt results.

One ``Repository`` wraps one ``sqlite3`` connection. Writes go through :meth:`Repository.write`
(``BEGIN IMMEDIATE`` … ``COMMIT``; nested calls join the open transaction), and every state change
is a compare-and-set ``UPDATE … WHERE uuid = ? AND state = ?`` checked by
:func:`tasker_ctl.states.check_transition` and followed by a transition row. The hot path used by
the engine (:meth:`Repository.apply`) is plain prepared statements: no ORM, no schema
introspection, no extra reads when the caller states the expected state.

Calls are serialised with a lock, so worker threads may share one repository; they should still
leave writing to a single scheduler thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from tasker_ctl.errors import (
    LeaseLostError,
    NotFoundError,
    RunInterruptedError,
    TaskerCtlError,
    UsageError,
)
from tasker_ctl.states import (
    STEP_MACHINE,
    STEP_TERMINAL,
    TASK_MACHINE,
    TASK_TERMINAL,
    StepEvent,
    StepState,
    TaskEvent,
    TaskState,
    check_transition,
)
from tasker_ctl.store.connection import (
    PendingRows,
    StoreIdentity,
    WriteTransaction,
    synchronous_setting,
    translate_errors,
    utc_now,
)
from tasker_ctl.store.records import (
    AttemptOutcome,
    AttemptRecord,
    EdgeRecord,
    JsonObject,
    LeaseHolder,
    LeaseRecord,
    NewOutput,
    NewStep,
    NewTask,
    OutputRecord,
    StepChange,
    StepRecord,
    TaskChange,
    TaskGraph,
    TaskRecord,
    TaskSummary,
    TransitionRecord,
)

CREATE_EVENT = "create"
"""The event recorded for the first transition of a task or step (from nothing to pending)."""
TAKE_OVER_EVENT = "run_taken_over"
"""The audit event of a run taking a task's lease from another (its state does not change)."""

_AMBIGUOUS_SHOWN = 10
_HEX = frozenset("0123456789abcdef-")
# Everything stored about a task, children before parents (foreign keys point to tasks/steps).
_TASK_CHILD_TABLES = (
    "step_output",
    "step_results",
    "step_transitions",
    "task_transitions",
    "run_leases",
    "step_edges",
    "steps",
)
_DELETE_BATCH = 500
_FINISHED_STEP_STATES = STEP_TERMINAL | {StepState.ERROR}  # a step here gets its completed_at


class TransitionConflictError(TaskerCtlError):
    """A compare-and-set update found the row in another state: someone else moved it."""


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_json_default)


def dumps(value: Any) -> str:
    """Compact JSON for a column; dates become ISO strings, unknown objects their ``str``."""
    return _ENCODER.encode(value)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class _Named:
    """The rows of an executed query as ``{column name: value}``, named by SQLite itself.

    Records are decoded by name at this edge, so a column added to a SELECT or moved in it cannot
    shift the fields of a record. A dict per row costs about a third of what ``sqlite3.Row``'s
    lookups by name do (about 1 ms per 1,000 step rows).
    """

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor
        self._names = tuple(column[0] for column in cursor.description)

    def fetchone(self) -> dict[str, Any] | None:
        row = self._cursor.fetchone()
        return None if row is None else dict(zip(self._names, row, strict=True))

    def fetchall(self) -> list[dict[str, Any]]:
        names = self._names
        return [dict(zip(names, row, strict=True)) for row in self._cursor.fetchall()]


def _named(conn: sqlite3.Connection, sql: str, params: Any = ()) -> _Named:
    """Run a SELECT whose rows are read by column name."""
    return _Named(conn.execute(sql, params))


_TASK_COLUMNS = (
    "uuid, namespace, name, version, template_id, template_path, state, input, initiator, "
    "reason, source_system, correlation_id, environment, created_at, updated_at, completed_at, "
    "priority, description"
)
_STEP_COLUMNS = (
    "uuid, task_uuid, position, name, template_step_name, step_type, handler, retry, "
    "timeout_seconds, inputs, checkpoint, state, attempts, max_attempts, retryable, "
    "next_retry_at, backoff_ms, created_at, updated_at, started_at, completed_at, result, error"
)


def _task_from_row(row: Mapping[str, Any]) -> TaskRecord:
    return TaskRecord(
        uuid=row["uuid"],
        namespace=row["namespace"],
        name=row["name"],
        version=row["version"],
        template_id=row["template_id"],
        template_path=row["template_path"],
        state=TaskState.parse(row["state"]),
        input=_loads(row["input"]),
        initiator=row["initiator"],
        reason=row["reason"],
        source_system=row["source_system"],
        correlation_id=row["correlation_id"],
        environment=row["environment"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        completed_at=row["completed_at"],
        priority=row["priority"],
        description=row["description"],
    )


def _step_from_row(row: Mapping[str, Any]) -> StepRecord:
    return StepRecord(
        uuid=row["uuid"],
        task_uuid=row["task_uuid"],
        position=row["position"],
        name=row["name"],
        template_step_name=row["template_step_name"],
        step_type=row["step_type"],
        handler=json.loads(row["handler"]),
        retry=json.loads(row["retry"]),
        timeout_seconds=row["timeout_seconds"],
        inputs=_loads(row["inputs"]),
        checkpoint=_loads(row["checkpoint"]),
        state=StepState(row["state"]),
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        retryable=bool(row["retryable"]),
        next_retry_at=row["next_retry_at"],
        backoff_ms=row["backoff_ms"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["started_at"],
        completed_at=row["completed_at"],
        result=_loads(row["result"]),
        error=_loads(row["error"]),
    )


# What each step event does to the row besides its state (SQL, by column).
_STEP_EFFECTS: dict[str, dict[str, str]] = {
    StepEvent.START: {
        "attempts": "attempts + 1",
        "started_at": ":now",
        "next_retry_at": "NULL",
        "backoff_ms": "NULL",
        "completed_at": "NULL",
    },
    StepEvent.RESET_FOR_RETRY: {
        "attempts": "0",
        "checkpoint": "NULL",
        "next_retry_at": "NULL",
        "backoff_ms": "NULL",
        "completed_at": "NULL",
    },
    StepEvent.RETRY: {"next_retry_at": "NULL", "completed_at": "NULL"},
    StepEvent.WAIT_FOR_RETRY: {"next_retry_at": ":next_retry_at", "backoff_ms": ":backoff_ms"},
}


@lru_cache(maxsize=128)
def _step_update_sql(moves: tuple[tuple[str, str], ...], outcome: str | None) -> str:
    """One compare-and-set UPDATE for a chain of transitions of one step (built once per kind).

    ``moves`` are ``(event, to_state)`` in order; later effects on a column win, as if applied
    one by one. ``outcome`` is None, ``"success"`` or ``"failure"``. Named parameters: state,
    now, next_retry_at, backoff_ms, result, error, uuid, expected.
    """
    sets = {"state": ":state", "updated_at": ":now"}
    for event, to_state in moves:
        sets.update(_STEP_EFFECTS.get(event, {}))
        if to_state in _FINISHED_STEP_STATES:
            sets["completed_at"] = ":now"
    if outcome == "success":
        sets.update(result=":result", error="NULL")
    elif outcome == "failure":
        sets.update(result="COALESCE(:result, result)", error=":error")
    assignments = ", ".join(f"{column} = {value}" for column, value in sets.items())
    return (
        f"UPDATE steps SET {assignments} WHERE uuid = :uuid AND state = :expected "
        "RETURNING task_uuid, attempts"
    )


def _task_filter(namespace: str | None, state: str | None) -> tuple[str, list[Any]]:
    """The WHERE clause and parameters of the task listing filters."""
    clauses: list[str] = []
    params: list[Any] = []
    if namespace is not None:
        clauses.append("namespace = ?")
        params.append(namespace)
    if state is not None:
        clauses.append("state = ?")
        params.append(state)
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


def _chains(changes: Sequence[StepChange]) -> Iterator[list[StepChange]]:
    """Consecutive changes of one step that a single UPDATE can apply, in order.

    Every right-hand side of an UPDATE sees the row as it was, so a chain may count at most
    one attempt, never reset the count, and carry at most one outcome (on its first change).
    """
    chain: list[StepChange] = []
    for change in changes:
        starts = sum(1 for c in (*chain, change) if c.event == StepEvent.START)
        joins = (
            chain
            and change.step_uuid == chain[0].step_uuid
            and change.outcome is None
            and change.event != StepEvent.RESET_FOR_RETRY
            and chain[0].event != StepEvent.RESET_FOR_RETRY
            and starts <= 1
        )
        if chain and not joins:
            yield chain
            chain = []
        chain.append(change)
    if chain:
        yield chain


@lru_cache(maxsize=32)
def _task_update_sql(to_state: str, event: str) -> str:
    # Parameters: ?1 state, ?2 now, ?3 uuid, ?4 expected state. SET expressions read the row as
    # it was, so the completion time is the new timestamp, not the old updated_at.
    sets = ["state = ?1", "updated_at = ?2"]
    if to_state in TASK_TERMINAL:
        sets.append("completed_at = ?2")
    elif event == TaskEvent.RESET:
        sets.append("completed_at = NULL")
    return f"UPDATE tasks SET {', '.join(sets)} WHERE uuid = ?3 AND state = ?4"


_INSERT_STEP_TRANSITION = (
    "INSERT INTO step_transitions (task_uuid, step_uuid, from_state, to_state, event, attempt, "
    "created_at, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_TASK_TRANSITION = (
    "INSERT INTO task_transitions (task_uuid, from_state, to_state, event, created_at, metadata) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_RESULT = (
    "INSERT INTO step_results (task_uuid, step_uuid, attempt, success, result, error, metadata, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


_SELECT_LEASE = (
    "SELECT task_uuid, token, pid, host, boot_id, process_start, acquired_at, heartbeat_at, "
    "heartbeat_seconds, released_at, interrupt FROM run_leases WHERE task_uuid = ?"
)


def _lease_from_row(row: Mapping[str, Any]) -> LeaseRecord:
    return LeaseRecord(
        task_uuid=row["task_uuid"],
        token=row["token"],
        holder=LeaseHolder(
            pid=row["pid"],
            host=row["host"],
            boot_id=row["boot_id"],
            process_start=row["process_start"],
        ),
        acquired_at=row["acquired_at"],
        heartbeat_at=row["heartbeat_at"],
        heartbeat_seconds=float(row["heartbeat_seconds"]),
        released_at=row["released_at"],
        interrupt=_loads(row["interrupt"]),
    )


def _lease_lost(task_uuid: str, now_held: LeaseRecord | None) -> LeaseLostError:
    if now_held is None:
        taker = "its lease was removed"
    else:
        holder = now_held.holder
        taker = f"process {holder.pid} on {holder.host} took it over at {now_held.acquired_at}"
    return LeaseLostError(
        f"this run no longer holds task {task_uuid}: {taker}; it stopped without writing more",
        hint=f"follow the task with `tasker-ctl task status --watch {task_uuid}`",
    )


class Repository:
    """The store: typed reads, and writes that check and record every state transition."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, writable: bool) -> None:
        self.conn = conn
        self.path = path
        self.writable = writable
        self._lock = threading.RLock()
        self._identity = StoreIdentity(path) if writable else None
        self._lease: tuple[str, str] | None = None
        self._heed_interrupts = False
        self._lease_checked_at: int | None = None  # data_version of the last passed check
        self._last_graph: tuple[tuple[str, int, int], TaskGraph] | None = None
        self._pending = PendingRows()  # transition and result rows, inserted at each commit

    # --- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (a WAL checkpoint happens when the last writer closes)."""
        with self._lock:
            self.conn.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def synchronous(self) -> str:
        """The connection's ``PRAGMA synchronous`` as SQLite reports it (``normal``, ``full``)."""
        with self._lock:
            return synchronous_setting(self.conn)

    def write(self) -> WriteTransaction:
        """One write transaction, started with ``BEGIN IMMEDIATE``; nested calls join it.

        Each outermost one first checks that the store file is still the one opened and, while
        a run holds a lease through this repository, that it still does
        (:meth:`_check_before_writing`).
        """
        return WriteTransaction(
            self.conn, self.path, self._lock, self._check_before_writing, self._pending
        )

    def _check_before_writing(self, conn: sqlite3.Connection) -> None:
        if self._identity is not None:
            self._identity.check()
        if self._lease is None:
            return
        # Only another connection's commit can take the lease or flag the run, and SQLite's
        # data_version changes exactly then: while it stays the same, the last check holds.
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version == self._lease_checked_at:
            return
        task_uuid, token = self._lease
        row = _named(conn, _SELECT_LEASE, (task_uuid,)).fetchone()
        if row is None or row["token"] != token:
            raise _lease_lost(task_uuid, None if row is None else _lease_from_row(row))
        if self._heed_interrupts and row["interrupt"] is not None:
            raise RunInterruptedError(json.loads(row["interrupt"]))
        self._lease_checked_at = version

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock, translate_errors(self.path):
            yield self.conn

    # --- creating tasks and steps --------------------------------------------------------------

    def create_task(
        self,
        task: NewTask,
        steps: Sequence[NewStep],
        edges: Iterable[tuple[str, str]],
    ) -> TaskRecord:
        """Store the template snapshot, the task, its steps and edges in one transaction.

        ``edges`` are ``(from step name, to step name)`` pairs among ``steps``.
        """
        now = utc_now()
        snapshot_json = dumps(task.snapshot)
        content_hash = hashlib.sha256(snapshot_json.encode("utf-8")).hexdigest()
        with self.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO template_snapshots (content_hash, namespace, name, version, "
                "snapshot, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (content_hash, task.namespace, task.name, task.version, snapshot_json, now),
            )
            template_id = conn.execute(
                "SELECT id FROM template_snapshots WHERE content_hash = ?", (content_hash,)
            ).fetchone()[0]
            conn.execute(
                f"INSERT INTO tasks ({_TASK_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                (
                    task.uuid,
                    task.namespace,
                    task.name,
                    task.version,
                    template_id,
                    task.template_path,
                    TaskState.PENDING,
                    dumps(task.input),
                    task.initiator,
                    task.reason,
                    task.source_system,
                    task.correlation_id,
                    task.environment,
                    now,
                    now,
                    task.priority,
                    task.description,
                ),
            )
            conn.execute(
                _INSERT_TASK_TRANSITION,
                (task.uuid, None, TaskState.PENDING, CREATE_EVENT, now, None),
            )
            self._insert_steps(conn, task.uuid, steps, edges, now, first_position=0)
        created = self.get_task(task.uuid)
        assert created is not None
        return created

    def add_steps(
        self,
        task_uuid: str,
        steps: Sequence[NewStep],
        edges: Iterable[tuple[str, str]],
    ) -> list[StepRecord]:
        """Create steps later in a task's life (decision branches, batch workers) atomically.

        ``edges`` are ``(from step name, to step name)`` pairs; a name may be a step created here
        or one the task already has. Joins the caller's transaction when one is open.
        """
        now = utc_now()
        with self.write() as conn:
            position = conn.execute(
                "SELECT COALESCE(MAX(position) + 1, 0) FROM steps WHERE task_uuid = ?",
                (task_uuid,),
            ).fetchone()[0]
            self._insert_steps(conn, task_uuid, steps, edges, now, first_position=position)
            placeholders = ", ".join("?" for _ in steps)
            rows = _named(
                conn,
                f"SELECT {_STEP_COLUMNS} FROM steps WHERE uuid IN ({placeholders}) "
                "ORDER BY position",
                [step.uuid for step in steps],
            ).fetchall()
        return [_step_from_row(row) for row in rows]

    def _insert_steps(
        self,
        conn: sqlite3.Connection,
        task_uuid: str,
        steps: Sequence[NewStep],
        edges: Iterable[tuple[str, str]],
        now: str,
        *,
        first_position: int,
    ) -> None:
        conn.executemany(
            f"INSERT INTO steps ({_STEP_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 0, ?, ?, NULL, NULL, ?, ?, NULL, NULL, "
            "NULL, NULL)",
            [
                (
                    step.uuid,
                    task_uuid,
                    first_position + index,
                    step.name,
                    step.template_step_name,
                    step.step_type,
                    dumps(step.handler),
                    dumps(step.retry),
                    step.timeout_seconds,
                    None if step.inputs is None else dumps(step.inputs),
                    StepState.PENDING,
                    step.max_attempts,
                    int(step.retryable),
                    now,
                    now,
                )
                for index, step in enumerate(steps)
            ],
        )
        self._pending.add(
            _INSERT_STEP_TRANSITION,
            [
                (task_uuid, step.uuid, None, StepState.PENDING, CREATE_EVENT, 0, now, None)
                for step in steps
            ],
        )
        uuids = {step.name: step.uuid for step in steps}
        pairs = list(edges)
        missing = {name for pair in pairs for name in pair if name not in uuids}
        if missing:
            placeholders = ", ".join("?" for _ in missing)
            for name, step_uuid in conn.execute(
                f"SELECT name, uuid FROM steps WHERE task_uuid = ? AND name IN ({placeholders})",
                [task_uuid, *missing],
            ).fetchall():
                uuids[name] = step_uuid
            unknown = sorted(missing - uuids.keys())
            if unknown:
                raise NotFoundError(
                    f"task {task_uuid}: cannot link steps that do not exist: {', '.join(unknown)}"
                )
        conn.executemany(
            "INSERT INTO step_edges (task_uuid, from_step_uuid, to_step_uuid) VALUES (?, ?, ?)",
            [(task_uuid, uuids[source], uuids[target]) for source, target in pairs],
        )

    # --- transitions ---------------------------------------------------------------------------

    def apply(
        self,
        step_changes: Sequence[StepChange] = (),
        task_changes: Sequence[TaskChange] = (),
        now: str | None = None,
    ) -> None:
        """Apply step then task transitions atomically: all of them, or none.

        ``now`` is the time recorded (default: the current time). Raises
        ``InvalidTransitionError`` for a move the state machine forbids and
        ``TransitionConflictError`` when a row is no longer in the expected state.
        """
        now = now or utc_now()
        with self.write() as conn:
            for chain in _chains(step_changes):
                self._apply_step_chain(conn, chain, now)
            for task_change in task_changes:
                self._apply_task_change(conn, task_change, now)

    def transition_step(self, change: StepChange) -> None:
        """Apply one step transition in its own short transaction."""
        self.apply(step_changes=(change,))

    def transition_task(self, change: TaskChange) -> None:
        """Apply one task transition in its own short transaction."""
        self.apply(task_changes=(change,))

    def _apply_step_chain(
        self, conn: sqlite3.Connection, chain: Sequence[StepChange], now: str
    ) -> None:
        """Check every move of ``chain``, apply them with one UPDATE, record each transition."""
        first = chain[0]
        from_state = first.expected_state
        if from_state is None:
            row = conn.execute("SELECT state FROM steps WHERE uuid = ?", (first.step_uuid,))
            found = row.fetchone()
            if found is None:
                raise NotFoundError(f"no step {first.step_uuid} in the store {self.path}")
            from_state = found[0]
        moves: list[tuple[str, str, str]] = []
        state = from_state
        for change in chain:
            target = check_transition(STEP_MACHINE, state, change.event)
            moves.append((state, target, change.event))
            state = target
        outcome = first.outcome
        kind = None if outcome is None else ("success" if outcome.success else "failure")
        result_json = None if outcome is None or outcome.result is None else dumps(outcome.result)
        error_json = None if outcome is None or outcome.error is None else dumps(outcome.error)
        waiting = next((c for c in chain if c.event == StepEvent.WAIT_FOR_RETRY), None)
        sql = _step_update_sql(tuple((event, to) for _, to, event in moves), kind)
        params = {
            "state": state,
            "now": now,
            "next_retry_at": waiting.next_retry_at if waiting else None,
            "backoff_ms": waiting.backoff_ms if waiting else None,
            "result": result_json,
            "error": error_json,
            "uuid": first.step_uuid,
            "expected": from_state,
        }
        returned = conn.execute(sql, params).fetchone()
        if returned is None:
            raise self._step_conflict(conn, first, from_state)
        task_uuid, attempts = returned
        started_at = next((i for i, c in enumerate(chain) if c.event == StepEvent.START), None)
        self._pending.add(
            _INSERT_STEP_TRANSITION,
            [
                (
                    task_uuid,
                    change.step_uuid,
                    move_from,
                    move_to,
                    change.event,
                    attempts - 1 if started_at is not None and index < started_at else attempts,
                    now,
                    None if change.metadata is None else dumps(change.metadata),
                )
                for index, (change, (move_from, move_to, _)) in enumerate(
                    zip(chain, moves, strict=True)
                )
            ],
        )
        if outcome is not None:
            self._pending.add(
                _INSERT_RESULT,
                [
                    (
                        task_uuid,
                        first.step_uuid,
                        attempts,
                        int(outcome.success),
                        result_json,
                        error_json,
                        None if outcome.metadata is None else dumps(outcome.metadata),
                        now,
                    )
                ],
            )

    def _step_conflict(
        self, conn: sqlite3.Connection, change: StepChange, expected: str
    ) -> TaskerCtlError:
        found = conn.execute("SELECT state FROM steps WHERE uuid = ?", (change.step_uuid,))
        row = found.fetchone()
        if row is None:
            return NotFoundError(f"no step {change.step_uuid} in the store {self.path}")
        return TransitionConflictError(
            f"step {change.step_uuid} is {row[0]}, not {expected}: "
            "another process changed it meanwhile",
            hint="look at it again with `tasker-ctl task step`, then retry the command",
        )

    def _apply_task_change(self, conn: sqlite3.Connection, change: TaskChange, now: str) -> None:
        from_state = change.expected_state
        if from_state is None:
            found = conn.execute(
                "SELECT state FROM tasks WHERE uuid = ?", (change.task_uuid,)
            ).fetchone()
            if found is None:
                raise NotFoundError(f"no task {change.task_uuid} in the store {self.path}")
            from_state = str(TaskState.parse(found[0]))
        to_state = check_transition(TASK_MACHINE, from_state, change.event)
        cursor = conn.execute(
            _task_update_sql(to_state, change.event),
            (to_state, now, change.task_uuid, from_state),
        )
        if cursor.rowcount != 1:
            raise TransitionConflictError(
                f"task {change.task_uuid} is no longer {from_state}: "
                "another process changed it meanwhile",
                hint="look at it again with `tasker-ctl task status`, then retry the command",
            )
        metadata = None if change.metadata is None else dumps(change.metadata)
        conn.execute(
            _INSERT_TASK_TRANSITION,
            (change.task_uuid, from_state, to_state, change.event, now, metadata),
        )

    def save_checkpoint(self, step_uuid: str, checkpoint: JsonObject | None) -> None:
        """Store a step's checkpoint (a yield is neither an attempt nor a state change)."""
        with self.write() as conn:
            conn.execute(
                "UPDATE steps SET checkpoint = ?, updated_at = ? WHERE uuid = ?",
                (None if checkpoint is None else dumps(checkpoint), utc_now(), step_uuid),
            )

    # --- run leases ----------------------------------------------------------------------------

    def get_lease(self, task_uuid: str) -> LeaseRecord | None:
        """The task's run lease (current or last), or None when it was never run."""
        with self._reading() as conn:
            row = _named(conn, _SELECT_LEASE, (task_uuid,)).fetchone()
        return None if row is None else _lease_from_row(row)

    def take_lease(
        self, task_uuid: str, token: str, holder: LeaseHolder, heartbeat_seconds: float
    ) -> None:
        """Make ``token`` the task's lease (joins the caller's transaction, which must check
        first that no live run holds it); later writes through this repository check it."""
        now = utc_now()
        with self.write() as conn:
            conn.execute(
                "INSERT INTO run_leases (task_uuid, token, pid, host, boot_id, process_start, "
                "acquired_at, heartbeat_at, heartbeat_seconds, released_at, interrupt) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL) ON CONFLICT (task_uuid) DO UPDATE "
                "SET token = excluded.token, pid = excluded.pid, host = excluded.host, "
                "boot_id = excluded.boot_id, process_start = excluded.process_start, "
                "acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at, "
                "heartbeat_seconds = excluded.heartbeat_seconds, released_at = NULL, "
                "interrupt = NULL",
                (
                    task_uuid,
                    token,
                    holder.pid,
                    holder.host,
                    holder.boot_id,
                    holder.process_start,
                    now,
                    now,
                    heartbeat_seconds,
                ),
            )
        self._lease = (task_uuid, token)
        self._heed_interrupts = True
        self._lease_checked_at = None

    def heed_interrupts(self, heed: bool) -> None:
        """Whether a write fails with ``RunInterruptedError`` once an operator changed the task
        (off while a stopping run records what its running handlers did)."""
        self._heed_interrupts = heed
        self._lease_checked_at = None

    def beat(self, task_uuid: str, token: str) -> tuple[bool, JsonObject | None]:
        """Renew the lease's heartbeat: (still held, the operator notice if any).

        Raises ``StoreUnusableError`` when the store file went away under this process.
        """
        if self._identity is not None:
            self._identity.check()
        with WriteTransaction(self.conn, self.path, self._lock, pending=self._pending) as conn:
            row = conn.execute(
                "UPDATE run_leases SET heartbeat_at = ? WHERE task_uuid = ? AND token = ? "
                "RETURNING interrupt",
                (utc_now(), task_uuid, token),
            ).fetchone()
        if row is None:
            return False, None
        return True, None if row[0] is None else json.loads(row[0])

    def release_lease(self, task_uuid: str, token: str) -> None:
        """The run ends by itself: keep the row, marked released (when the last run stopped)."""
        self._lease = None
        now = utc_now()
        with WriteTransaction(self.conn, self.path, self._lock, pending=self._pending) as conn:
            conn.execute(
                "UPDATE run_leases SET released_at = ?, heartbeat_at = ? "
                "WHERE task_uuid = ? AND token = ?",
                (now, now, task_uuid, token),
            )

    def interrupt_run(self, task_uuid: str, token: str, notice: JsonObject) -> None:
        """Tell the live run holding ``token`` what an operator did (in the caller's write)."""
        with self.write() as conn:
            conn.execute(
                "UPDATE run_leases SET interrupt = ? WHERE task_uuid = ? AND token = ?",
                (dumps(notice), task_uuid, token),
            )

    def record_takeover(self, task_uuid: str, task_state: str, metadata: JsonObject) -> None:
        """An audit row: a run took the task's lease from another; the task's state stays."""
        with self.write() as conn:
            conn.execute(
                _INSERT_TASK_TRANSITION,
                (task_uuid, task_state, task_state, TAKE_OVER_EVENT, utc_now(), dumps(metadata)),
            )

    def add_attempt_result(
        self, task_uuid: str, step_uuid: str, attempt: int, outcome: AttemptOutcome
    ) -> None:
        """Keep what an attempt produced without moving its step (an operator moved it)."""
        with self.write() as conn:
            conn.execute(
                _INSERT_RESULT,
                (
                    task_uuid,
                    step_uuid,
                    attempt,
                    int(outcome.success),
                    None if outcome.result is None else dumps(outcome.result),
                    None if outcome.error is None else dumps(outcome.error),
                    None if outcome.metadata is None else dumps(outcome.metadata),
                    utc_now(),
                ),
            )

    # --- reading -------------------------------------------------------------------------------

    def get_task(self, task_uuid: str) -> TaskRecord | None:
        """The task with exactly this UUID, or None."""
        with self._reading() as conn:
            row = _named(
                conn, f"SELECT {_TASK_COLUMNS} FROM tasks WHERE uuid = ?", (task_uuid,)
            ).fetchone()
        return None if row is None else _task_from_row(row)

    def resolve_task_uuid(self, reference: str) -> str:
        """The UUID of the task that ``reference`` (a full UUID or a unique prefix) names."""
        prefix = reference.strip().lower()
        if not prefix or not set(prefix) <= _HEX:
            raise NotFoundError(
                f"no task '{reference}': a task is named by its UUID or a prefix of it",
                hint="list tasks with `tasker-ctl task list`",
            )
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT uuid, namespace, name, created_at FROM tasks "
                "WHERE uuid >= ? AND uuid < ? ORDER BY created_at LIMIT ?",
                (prefix, prefix + "~", _AMBIGUOUS_SHOWN + 1),
            ).fetchall()
        if not rows:
            raise NotFoundError(
                f"no task '{reference}' in the store {self.path}",
                hint="list tasks with `tasker-ctl task list`",
            )
        if len(rows) > 1 and rows[0][0] != prefix:
            shown = [
                f"{uuid} ({namespace}/{name}, {created})"
                for uuid, namespace, name, created in rows[:_AMBIGUOUS_SHOWN]
            ]
            more = " …" if len(rows) > _AMBIGUOUS_SHOWN else ""
            raise UsageError(
                f"task prefix '{reference}' is ambiguous: it matches {'; '.join(shown)}{more}",
                hint="give more characters of the task UUID",
            )
        return str(rows[0][0])

    def shortest_unique_prefix(self, task_uuid: str, minimum: int = 8) -> str:
        """The shortest prefix of ``task_uuid`` (at least ``minimum`` characters) that names it
        alone in this store: what commands print for people to type."""
        with self._reading() as conn:
            for length in range(minimum, len(task_uuid)):
                prefix = task_uuid[:length]
                matches = conn.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM tasks WHERE uuid >= ? AND uuid < ? "
                    "LIMIT 2)",
                    (prefix, prefix + "~"),
                ).fetchone()[0]
                if matches == 1:
                    return prefix
        return task_uuid

    def list_tasks(
        self,
        *,
        namespace: str | None = None,
        state: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[TaskSummary]:
        """The newest tasks first (``limit`` of them after the first ``offset``), optionally
        filtered, each with its step counts per state."""
        where, params = _task_filter(namespace, state)
        with self._reading() as conn:
            rows = _named(
                conn,
                f"SELECT {_TASK_COLUMNS} FROM tasks {where} "
                "ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
            tasks = [_task_from_row(row) for row in rows]
            counts: dict[str, dict[str, int]] = {task.uuid: {} for task in tasks}
            if tasks:
                placeholders = ", ".join("?" for _ in tasks)
                for task_uuid, step_state, count in conn.execute(
                    "SELECT task_uuid, state, COUNT(*) FROM steps "
                    f"WHERE task_uuid IN ({placeholders}) GROUP BY task_uuid, state",
                    [task.uuid for task in tasks],
                ):
                    counts[task_uuid][step_state] = count
        return [TaskSummary(task=task, step_counts=counts[task.uuid]) for task in tasks]

    def count_tasks(self, *, namespace: str | None = None, state: str | None = None) -> int:
        """How many tasks match the filters of :meth:`list_tasks`."""
        where, params = _task_filter(namespace, state)
        with self._reading() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM tasks {where}", params).fetchone()[0])

    def load_steps(self, task_uuid: str) -> list[StepRecord]:
        """Every step of a task, in creation order."""
        with self._reading() as conn:
            rows = _named(
                conn,
                f"SELECT {_STEP_COLUMNS} FROM steps WHERE task_uuid = ? ORDER BY position",
                (task_uuid,),
            ).fetchall()
        return [_step_from_row(row) for row in rows]

    def get_step(self, step_uuid: str) -> StepRecord | None:
        """One step by UUID, or None."""
        with self._reading() as conn:
            row = _named(
                conn, f"SELECT {_STEP_COLUMNS} FROM steps WHERE uuid = ?", (step_uuid,)
            ).fetchone()
        return None if row is None else _step_from_row(row)

    def load_edges(self, task_uuid: str) -> list[EdgeRecord]:
        """Every dependency edge of a task, in creation order."""
        with self._reading() as conn:
            rows = _named(
                conn,
                "SELECT from_step_uuid, to_step_uuid FROM step_edges WHERE task_uuid = ? "
                "ORDER BY rowid",
                (task_uuid,),
            ).fetchall()
        return [
            EdgeRecord(from_step_uuid=row["from_step_uuid"], to_step_uuid=row["to_step_uuid"])
            for row in rows
        ]

    def load_graph(self, task_uuid: str) -> TaskGraph:
        """The task, its steps and its edges, read in one transaction (a consistent snapshot).

        A run reads its task's graph twice (to check its handlers, then under its lease): when
        nothing was committed since the first read, by this connection (``total_changes``) or
        another (``data_version``), the second returns the first read's graph rather than
        decoding every step again. The version is read before the snapshot's first row, so a
        commit in between can only make the graph newer than its version (read again, later).

        Ending the read transaction can fail too (a corrupt page reports again there), so it is
        inside the error translation like the reads.
        """
        with self._lock, translate_errors(self.path):
            own_transaction = not self.conn.in_transaction
            if own_transaction:
                self.conn.execute("BEGIN")
            try:
                version = (
                    self.conn.execute("PRAGMA data_version").fetchone()[0],
                    self.conn.total_changes,
                )
                last = self._last_graph
                if last is not None and last[0] == (task_uuid, *version):
                    return last[1]
                task = self.get_task(task_uuid)
                if task is None:
                    raise NotFoundError(f"no task {task_uuid} in the store {self.path}")
                steps = self.load_steps(task_uuid)
                edges = self.load_edges(task_uuid)
            finally:
                if own_transaction and self.conn.in_transaction:
                    self._end_read(reads_failed=sys.exc_info()[0] is not None)
        graph = TaskGraph(task=task, steps=tuple(steps), edges=tuple(edges))
        self._last_graph = ((task_uuid, *version), graph)
        return graph

    def _end_read(self, *, reads_failed: bool) -> None:
        """End a read transaction; when the reads already failed, their error is the one told."""
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error:
            if self.conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            if not reads_failed:
                raise

    def load_template_snapshot(self, task_uuid: str) -> JsonObject:
        """The template snapshot a task was created from."""
        with self._reading() as conn:
            row = conn.execute(
                "SELECT s.snapshot FROM tasks t JOIN template_snapshots s ON s.id = t.template_id "
                "WHERE t.uuid = ?",
                (task_uuid,),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no task {task_uuid} in the store {self.path}")
        snapshot: JsonObject = json.loads(row[0])
        return snapshot

    def load_transitions(
        self, task_uuid: str, *, step_uuid: str | None = None
    ) -> list[TransitionRecord]:
        """The audit trail, oldest first: task and step transitions, or one step's only."""
        with self._reading() as conn:
            step_rows = _named(
                conn,
                "SELECT id, task_uuid, step_uuid, from_state, to_state, event, attempt, "
                "created_at, metadata FROM step_transitions WHERE task_uuid = ? "
                + ("AND step_uuid = ? " if step_uuid else "")
                + "ORDER BY id",
                (task_uuid, step_uuid) if step_uuid else (task_uuid,),
            ).fetchall()
            task_rows = (
                []
                if step_uuid
                else _named(
                    conn,
                    "SELECT id, task_uuid, NULL AS step_uuid, from_state, to_state, event, "
                    "NULL AS attempt, created_at, "
                    "metadata FROM task_transitions WHERE task_uuid = ? ORDER BY id",
                    (task_uuid,),
                ).fetchall()
            )
        records = [
            TransitionRecord(
                id=row["id"],
                task_uuid=row["task_uuid"],
                step_uuid=row["step_uuid"],
                from_state=row["from_state"],
                to_state=row["to_state"],
                event=row["event"],
                attempt=row["attempt"],
                created_at=row["created_at"],
                metadata=_loads(row["metadata"]) or {},
            )
            for row in [*task_rows, *step_rows]
        ]
        # Task and step rows live in two tables; time orders them, a step row first on a tie
        # because a step change is what moves its task.
        records.sort(key=lambda r: (r.created_at, r.step_uuid is None, r.id))
        return records

    def load_attempts(self, step_uuid: str) -> list[AttemptRecord]:
        """Every recorded attempt result of a step, oldest first."""
        with self._reading() as conn:
            rows = _named(
                conn,
                "SELECT id, task_uuid, step_uuid, attempt, success, result, error, metadata, "
                "created_at FROM step_results "
                "WHERE task_uuid = (SELECT task_uuid FROM steps WHERE uuid = ?) AND step_uuid = ? "
                "ORDER BY id",
                (step_uuid, step_uuid),
            ).fetchall()
        return [
            AttemptRecord(
                id=row["id"],
                task_uuid=row["task_uuid"],
                step_uuid=row["step_uuid"],
                attempt=row["attempt"],
                success=bool(row["success"]),
                result=_loads(row["result"]),
                error=_loads(row["error"]),
                metadata=_loads(row["metadata"]),
                created_at=row["created_at"],
            )
            for row in rows
        ]

    def append_output(self, task_uuid: str, lines: Sequence[NewOutput]) -> None:
        """Store captured output lines of a task's steps (joins an open transaction)."""
        if not lines:
            return
        with self.write() as conn:
            conn.executemany(
                "INSERT INTO step_output (task_uuid, step_uuid, attempt, stream, text, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        task_uuid,
                        line.step_uuid,
                        line.attempt,
                        line.stream,
                        line.text,
                        line.created_at,
                    )
                    for line in lines
                ],
            )

    def load_output(
        self,
        task_uuid: str,
        *,
        step_uuid: str | None = None,
        attempt: int | None = None,
        after_id: int = 0,
    ) -> list[OutputRecord]:
        """Captured output of a task (or one step, one attempt), in the order it was written."""
        clauses = ["task_uuid = ?", "id > ?"]
        params: list[Any] = [task_uuid, after_id]
        if step_uuid is not None:
            clauses.append("step_uuid = ?")
            params.append(step_uuid)
        if attempt is not None:
            clauses.append("attempt = ?")
            params.append(attempt)
        with self._reading() as conn:
            rows = _named(
                conn,
                "SELECT id, task_uuid, step_uuid, attempt, stream, text, created_at "
                f"FROM step_output WHERE {' AND '.join(clauses)} ORDER BY id",
                params,
            ).fetchall()
        return [
            OutputRecord(
                id=row["id"],
                task_uuid=row["task_uuid"],
                step_uuid=row["step_uuid"],
                attempt=row["attempt"],
                stream=row["stream"],
                text=row["text"],
                created_at=row["created_at"],
            )
            for row in rows
        ]

    # --- deleting tasks ------------------------------------------------------------------------

    def tasks_created_before(self, cutoff: str, states: Sequence[str]) -> list[TaskRecord]:
        """The tasks created before ``cutoff`` (a stored timestamp) in one of ``states``,
        oldest first (``task prune``; the ``created_at`` index finds them)."""
        placeholders = ", ".join("?" for _ in states)
        with self._reading() as conn:
            rows = _named(
                conn,
                f"SELECT {_TASK_COLUMNS} FROM tasks WHERE created_at < ? "
                f"AND state IN ({placeholders}) ORDER BY created_at, rowid",
                [cutoff, *states],
            ).fetchall()
        return [_task_from_row(row) for row in rows]

    def delete_tasks(self, task_uuids: Sequence[str]) -> None:
        """Delete tasks with everything recorded about them (joins an open transaction).

        Each table is reached through its ``task_uuid`` index, so the cost follows the rows
        deleted, not the size of the store; template snapshots no task uses any more go too.
        """
        with self.write() as conn:
            for start in range(0, len(task_uuids), _DELETE_BATCH):
                batch = list(task_uuids[start : start + _DELETE_BATCH])
                placeholders = ", ".join("?" for _ in batch)
                for table in _TASK_CHILD_TABLES:
                    conn.execute(f"DELETE FROM {table} WHERE task_uuid IN ({placeholders})", batch)
                conn.execute(f"DELETE FROM tasks WHERE uuid IN ({placeholders})", batch)
            conn.execute(
                "DELETE FROM template_snapshots WHERE id NOT IN (SELECT template_id FROM tasks)"
            )

    def table_counts(self) -> dict[str, int]:
        """Rows per table (for diagnostics and tests)."""
        tables = (
            "template_snapshots",
            "tasks",
            "steps",
            "step_edges",
            "task_transitions",
            "step_transitions",
            "step_results",
            "step_output",
        )
        with self._reading() as conn:
            return {
                table: int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                for table in tables
            }
