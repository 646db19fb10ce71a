"""The SQLite store on real files: migrations, policy, errors, transitions and reads."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from tasker_ctl.errors import (
    EXIT_BUSY,
    EXIT_STORE_UNUSABLE,
    NotFoundError,
    StoreBusyError,
    StoreUnusableError,
    TaskerCtlError,
    UsageError,
)
from tasker_ctl.states import InvalidTransitionError, StepEvent, StepState, TaskEvent, TaskState
from tasker_ctl.store import (
    Repository,
    TransitionConflictError,
    fresh_schema,
    open_for_reading,
    open_for_writing,
)
from tasker_ctl.store.connection import parse_timestamp, utc_now
from tasker_ctl.store.fresh_schema import record
from tasker_ctl.store.migrations import MIGRATION_NAMES, MIGRATION_SET, build_migrations
from tasker_ctl.store.records import AttemptOutcome, NewStep, NewTask, StepChange, TaskChange


def new_step(name: str, max_attempts: int = 3) -> NewStep:
    return NewStep(
        name=name,
        template_step_name=name,
        step_type="standard",
        handler={"callable": f"handlers.{name}", "initialization": {}},
        retry={"retryable": True, "max_attempts": max_attempts},
        max_attempts=max_attempts,
        retryable=True,
        timeout_seconds=30,
    )


def new_task(**overrides: object) -> NewTask:
    values: dict[str, object] = {
        "namespace": "shop",
        "name": "process_order",
        "version": "1.0.0",
        "input": {"order_id": 7},
        "snapshot": {"name": "process_order", "steps": []},
    }
    values.update(overrides)
    return NewTask(**values)  # type: ignore[arg-type]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "tasker.db"


@pytest.fixture
def repo(db_path: Path) -> Iterator[Repository]:
    with open_for_writing(db_path) as repository:
        yield repository


def diamond(repo: Repository) -> dict[str, str]:
    """A task a -> (b, c) -> d; returns ``step name -> uuid`` plus the task under ``task``."""
    steps = [new_step(name) for name in "abcd"]
    task = repo.create_task(new_task(), steps, [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    return {"task": task.uuid, **{step.name: step.uuid for step in steps}}


def run_to(
    repo: Repository, step_uuid: str, *events: str, outcome: AttemptOutcome | None = None
) -> None:
    for index, event in enumerate(events):
        last = index == len(events) - 1
        repo.transition_step(StepChange(step_uuid, event, outcome=outcome if last else None))


# --- opening, migrations, policy --------------------------------------------------------------


def test_first_write_creates_the_file_in_wal_mode_with_every_migration(db_path: Path) -> None:
    assert not db_path.exists()
    open_for_writing(db_path).close()
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        applied = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
                (MIGRATION_SET,),
            )
        ]
    finally:
        conn.close()
    assert tuple(applied) == MIGRATION_NAMES


def test_an_up_to_date_store_opens_without_importing_sqlite_utils(db_path: Path) -> None:
    open_for_writing(db_path).close()
    script = (
        "import sys; from pathlib import Path; from tasker_ctl.store import open_for_writing; "
        f"open_for_writing(Path({str(db_path)!r})).close(); "
        "print('sqlite_utils' in sys.modules)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "False"


def test_a_new_store_is_created_without_importing_sqlite_utils(db_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from tasker_ctl.store import open_for_writing; "
        f"open_for_writing(Path({str(db_path)!r})).close(); "
        "print('sqlite_utils' in sys.modules)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "False"
    assert _migrations_applied(db_path) == list(MIGRATION_NAMES)


def test_the_fresh_schema_recording_is_what_sqlite_utils_migrations_create_now() -> None:
    assert record() == (fresh_schema.MIGRATIONS, fresh_schema.STATEMENTS), (
        "the migrations changed: run 'python -m tasker_ctl.store.fresh_schema'"
    )


def test_a_new_store_has_the_schema_sqlite_utils_migrations_give_it(tmp_path: Path) -> None:
    replayed, migrated = tmp_path / "replayed.db", tmp_path / "migrated.db"
    open_for_writing(replayed).close()
    build_migrations().apply(Database(sqlite3.connect(migrated)))

    assert _schema(replayed) == _schema(migrated)
    assert _migrations_applied(replayed) == _migrations_applied(migrated)


def _schema(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        objects = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        columns = [
            (table, *column)
            for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            for column in conn.execute(f"PRAGMA table_info({table})")
        ]
    finally:
        conn.close()
    return sorted(objects + columns, key=repr)


def _migrations_applied(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [
            row[0]
            for row in conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY id",
                (MIGRATION_SET,),
            )
        ]
    finally:
        conn.close()


def test_reading_a_missing_store_returns_none_and_creates_nothing(db_path: Path) -> None:
    assert open_for_reading(db_path) is None
    assert not db_path.exists()
    assert not db_path.parent.exists()


def test_an_empty_file_reads_as_no_store(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"")
    assert open_for_reading(db_path) is None
    assert db_path.read_bytes() == b""


def test_a_store_from_a_newer_version_is_refused(db_path: Path) -> None:
    open_for_writing(db_path).close()
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, ?, ?)",
            (MIGRATION_SET, "9999_from_the_future", "2030-01-01"),
        )
    conn.close()
    for opener in (open_for_writing, open_for_reading):
        with pytest.raises(StoreUnusableError, match="newer tasker-ctl") as caught:
            opener(db_path)
        assert caught.value.exit_code == EXIT_STORE_UNUSABLE
        assert "9999_from_the_future" in caught.value.message


def test_a_corrupt_file_is_refused_with_exit_74(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a database, just some text" * 200)
    for opener in (open_for_writing, open_for_reading):
        with pytest.raises(StoreUnusableError) as caught:
            opener(db_path)
        assert caught.value.exit_code == EXIT_STORE_UNUSABLE
        assert str(db_path) in caught.value.message
        assert caught.value.hint


def test_another_sqlite_database_is_not_taken_for_a_store(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    conn.close()
    with pytest.raises(StoreUnusableError, match="not a tasker-ctl store"):
        open_for_writing(db_path)


def test_a_lock_held_past_the_timeout_is_store_busy(db_path: Path) -> None:
    open_for_writing(db_path).close()
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with open_for_writing(db_path, busy_timeout_ms=50) as repo:
            with pytest.raises(StoreBusyError) as caught:
                repo.create_task(new_task(), [new_step("a")], [])
            assert caught.value.exit_code == EXIT_BUSY
            assert caught.value.hint
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


# --- creating ---------------------------------------------------------------------------------


def test_a_graph_read_again_is_reused_only_while_nothing_was_committed(
    repo: Repository, db_path: Path
) -> None:
    ids = diamond(repo)
    first = repo.load_graph(ids["task"])
    assert repo.load_graph(ids["task"]) is first  # nothing changed: not decoded again

    other = sqlite3.connect(db_path)  # another process's commit
    with other:
        other.execute("UPDATE steps SET attempts = 5 WHERE uuid = ?", (ids["a"],))
    other.close()
    second = repo.load_graph(ids["task"])
    assert second is not first
    assert second.step_by_uuid()[ids["a"]].attempts == 5

    repo.transition_step(StepChange(step_uuid=ids["a"], event=StepEvent.ENQUEUE))  # our own
    third = repo.load_graph(ids["task"])
    assert third.step_by_uuid()[ids["a"]].state is StepState.ENQUEUED
    assert repo.load_graph(ids["task"]) is third


def test_create_task_stores_task_steps_edges_and_first_transitions(repo: Repository) -> None:
    ids = diamond(repo)
    graph = repo.load_graph(ids["task"])
    assert graph.task.state is TaskState.PENDING
    assert graph.task.input == {"order_id": 7}
    assert [step.name for step in graph.steps] == ["a", "b", "c", "d"]
    assert all(step.state is StepState.PENDING and step.attempts == 0 for step in graph.steps)
    by_uuid = graph.step_by_uuid()
    assert sorted(
        (by_uuid[e.from_step_uuid].name, by_uuid[e.to_step_uuid].name) for e in graph.edges
    ) == [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]
    assert repo.load_template_snapshot(ids["task"]) == {"name": "process_order", "steps": []}
    counts = repo.table_counts()
    assert counts["task_transitions"] == 1
    assert counts["step_transitions"] == 4


def test_identical_snapshots_are_stored_once(repo: Repository) -> None:
    repo.create_task(new_task(), [new_step("a")], [])
    repo.create_task(new_task(), [new_step("a")], [])
    repo.create_task(new_task(snapshot={"other": True}), [new_step("a")], [])
    assert repo.table_counts()["template_snapshots"] == 2


def test_a_failed_create_leaves_nothing_behind(repo: Repository) -> None:
    before = repo.table_counts()
    with pytest.raises(NotFoundError, match="missing_step"):
        repo.create_task(new_task(), [new_step("a")], [("missing_step", "a")])
    assert repo.table_counts() == before


def test_add_steps_links_new_steps_to_existing_ones(repo: Repository) -> None:
    ids = diamond(repo)
    added = repo.add_steps(
        ids["task"],
        [new_step("branch_1"), new_step("branch_2")],
        [("a", "branch_1"), ("branch_1", "branch_2")],
    )
    assert [step.name for step in added] == ["branch_1", "branch_2"]
    assert [step.position for step in added] == [4, 5]
    graph = repo.load_graph(ids["task"])
    parents = graph.parents()
    assert parents[added[0].uuid] == [ids["a"]]
    assert parents[added[1].uuid] == [added[0].uuid]


# --- transitions ------------------------------------------------------------------------------


def test_a_successful_attempt_records_every_transition_and_its_result(repo: Repository) -> None:
    ids = diamond(repo)
    repo.apply(
        [
            StepChange(ids["a"], StepEvent.ENQUEUE, StepState.PENDING),
            StepChange(ids["a"], StepEvent.START, StepState.ENQUEUED),
        ]
    )
    running = repo.get_step(ids["a"])
    assert running is not None
    assert (running.state, running.attempts) == (StepState.IN_PROGRESS, 1)
    assert running.started_at is not None
    repo.apply(
        [
            StepChange(ids["a"], StepEvent.ENQUEUE_FOR_ORCHESTRATION, StepState.IN_PROGRESS),
            StepChange(
                ids["a"],
                StepEvent.COMPLETE,
                StepState.ENQUEUED_FOR_ORCHESTRATION,
                outcome=AttemptOutcome(success=True, result={"total": 42}),
            ),
        ]
    )
    done = repo.get_step(ids["a"])
    assert done is not None
    assert (done.state, done.result, done.error) == (StepState.COMPLETE, {"total": 42}, None)
    assert done.completed_at is not None
    trail = repo.load_transitions(ids["task"], step_uuid=ids["a"])
    assert [(t.from_state, t.to_state, t.event, t.attempt) for t in trail] == [
        (None, "pending", "create", 0),
        ("pending", "enqueued", "enqueue", 0),
        ("enqueued", "in_progress", "start", 1),
        ("in_progress", "enqueued_for_orchestration", "enqueue_for_orchestration", 1),
        ("enqueued_for_orchestration", "complete", "complete", 1),
    ]
    attempts = repo.load_attempts(ids["a"])
    assert [(a.attempt, a.success, a.result) for a in attempts] == [(1, True, {"total": 42})]


def test_a_failed_attempt_waiting_for_retry_keeps_the_error_and_schedule(repo: Repository) -> None:
    ids = diamond(repo)
    error = {
        "message": "card declined",
        "error_type": "payment",
        "error_code": "E42",
        "retryable": True,
    }
    run_to(repo, ids["a"], "enqueue", "start", "enqueue_as_error_for_orchestration")
    repo.transition_step(
        StepChange(
            ids["a"],
            StepEvent.WAIT_FOR_RETRY,
            StepState.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION,
            outcome=AttemptOutcome(success=False, error=error),
            next_retry_at="2030-01-01T00:00:01.000Z",
            backoff_ms=1000,
        )
    )
    step = repo.get_step(ids["a"])
    assert step is not None
    assert (step.state, step.error, step.next_retry_at, step.backoff_ms) == (
        StepState.WAITING_FOR_RETRY,
        error,
        "2030-01-01T00:00:01.000Z",
        1000,
    )
    assert [(a.attempt, a.success, a.error) for a in repo.load_attempts(ids["a"])] == [
        (1, False, error)
    ]
    run_to(repo, ids["a"], "retry", "enqueue", "start")
    again = repo.get_step(ids["a"])
    assert again is not None
    assert (again.attempts, again.next_retry_at, again.backoff_ms) == (2, None, None)


def test_reset_for_retry_zeroes_attempts_and_clears_the_checkpoint(repo: Repository) -> None:
    ids = diamond(repo)
    run_to(repo, ids["a"], "enqueue", "start")
    repo.save_checkpoint(ids["a"], {"cursor": 10})
    run_to(repo, ids["a"], "enqueue_as_error_for_orchestration", "fail")
    failed = repo.get_step(ids["a"])
    assert failed is not None
    assert (failed.state, failed.checkpoint) == (StepState.ERROR, {"cursor": 10})
    repo.transition_step(
        StepChange(ids["a"], StepEvent.RESET_FOR_RETRY, metadata={"reason": "fixed"})
    )
    reset = repo.get_step(ids["a"])
    assert reset is not None
    assert (reset.state, reset.attempts, reset.checkpoint, reset.completed_at) == (
        StepState.PENDING,
        0,
        None,
        None,
    )
    last = repo.load_transitions(ids["task"], step_uuid=ids["a"])[-1]
    assert (last.event, last.metadata) == ("reset_for_retry", {"reason": "fixed"})


def test_a_stale_expected_state_is_a_conflict_and_changes_nothing(repo: Repository) -> None:
    ids = diamond(repo)
    run_to(repo, ids["a"], "enqueue")
    before = repo.table_counts()
    with pytest.raises(TransitionConflictError, match="another process"):
        repo.transition_step(StepChange(ids["a"], StepEvent.ENQUEUE, StepState.PENDING))
    assert repo.table_counts() == before


def test_apply_is_all_or_nothing(repo: Repository) -> None:
    ids = diamond(repo)
    before = repo.table_counts()
    with pytest.raises(InvalidTransitionError):
        repo.apply(
            [
                StepChange(ids["a"], StepEvent.ENQUEUE, StepState.PENDING),
                StepChange(ids["b"], StepEvent.COMPLETE, StepState.PENDING),
            ]
        )
    assert repo.table_counts() == before
    step = repo.get_step(ids["a"])
    assert step is not None
    assert step.state is StepState.PENDING


def test_task_transitions_are_checked_and_recorded(repo: Repository) -> None:
    ids = diamond(repo)
    repo.apply(
        task_changes=[
            TaskChange(ids["task"], TaskEvent.START, TaskState.PENDING),
            TaskChange(ids["task"], TaskEvent.READY_STEPS_FOUND, TaskState.INITIALIZING),
        ]
    )
    task = repo.get_task(ids["task"])
    assert task is not None
    assert task.state is TaskState.ENQUEUING_STEPS
    with pytest.raises(InvalidTransitionError):
        repo.transition_task(TaskChange(ids["task"], TaskEvent.ALL_STEPS_SUCCESSFUL))
    trail = [t for t in repo.load_transitions(ids["task"]) if t.step_uuid is None]
    assert [(t.from_state, t.to_state) for t in trail] == [
        (None, "pending"),
        ("pending", "initializing"),
        ("initializing", "enqueuing_steps"),
    ]


def test_finishing_a_task_sets_completed_at_and_reset_clears_it(repo: Repository) -> None:
    ids = diamond(repo)
    for event in (
        "start",
        "ready_steps_found",
        "steps_enqueued",
        "step_completed",
        "permanent_failure",
        "give_up",
    ):
        repo.transition_task(TaskChange(ids["task"], event))
    failed = repo.get_task(ids["task"])
    assert failed is not None
    assert (failed.state, failed.completed_at is not None) == (TaskState.ERROR, True)
    repo.transition_task(TaskChange(ids["task"], TaskEvent.RESET, TaskState.ERROR))
    reopened = repo.get_task(ids["task"])
    assert reopened is not None
    assert (reopened.state, reopened.completed_at) == (TaskState.PENDING, None)


# --- reading ----------------------------------------------------------------------------------


def test_tasks_are_found_by_unique_prefix(repo: Repository) -> None:
    first = repo.create_task(new_task(uuid="aaaa1111-0000-4000-8000-000000000001"), [], [])
    repo.create_task(new_task(uuid="aaaa2222-0000-4000-8000-000000000002"), [], [])
    assert repo.resolve_task_uuid("AAAA1") == first.uuid
    assert repo.resolve_task_uuid(first.uuid) == first.uuid
    with pytest.raises(UsageError, match="ambiguous") as caught:
        repo.resolve_task_uuid("aaaa")
    assert "aaaa1111-0000-4000-8000-000000000001" in caught.value.message
    assert "aaaa2222-0000-4000-8000-000000000002" in caught.value.message
    with pytest.raises(NotFoundError):
        repo.resolve_task_uuid("bbbb")
    with pytest.raises(NotFoundError):
        repo.resolve_task_uuid("not-hex!")


def test_list_tasks_filters_newest_first_with_step_counts(repo: Repository) -> None:
    first = repo.create_task(new_task(), [new_step("a"), new_step("b")], [])
    second = repo.create_task(new_task(namespace="billing"), [new_step("a")], [])
    run_to(repo, repo.load_steps(first.uuid)[0].uuid, "enqueue")
    listed = repo.list_tasks()
    assert [s.task.uuid for s in listed] == [second.uuid, first.uuid]
    assert listed[1].step_counts == {"enqueued": 1, "pending": 1}
    assert [s.task.uuid for s in repo.list_tasks(namespace="billing")] == [second.uuid]
    assert repo.list_tasks(state="complete") == []
    assert repo.count_tasks(namespace="shop") == 1


def test_a_read_only_repository_cannot_write(db_path: Path) -> None:
    with open_for_writing(db_path) as repo:
        ids = diamond(repo)
    reader = open_for_reading(db_path)
    assert reader is not None
    with reader, pytest.raises(StoreUnusableError):
        reader.transition_step(StepChange(ids["a"], StepEvent.ENQUEUE))


def test_a_store_path_under_a_file_is_refused_cleanly(tmp_path: Path) -> None:
    (tmp_path / "plain-file").write_text("x")
    with pytest.raises(StoreUnusableError, match="cannot create or open the store"):
        open_for_writing(tmp_path / "plain-file" / "tasker.db")


def test_a_duplicate_step_name_is_refused_and_rolled_back(repo: Repository) -> None:
    ids = diamond(repo)
    before = repo.table_counts()
    with pytest.raises(TaskerCtlError, match="refused a change"):
        repo.add_steps(ids["task"], [new_step("fresh"), new_step("a")], [])
    assert repo.table_counts() == before
    assert not repo.conn.in_transaction


def test_the_store_clock_is_iso_utc_with_milliseconds_and_moves_with_time() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    stamps = [utc_now() for _ in range(2000)]
    after = datetime.now(UTC) + timedelta(milliseconds=1)

    pattern = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert all(re.fullmatch(pattern, stamp) for stamp in stamps)
    assert stamps == sorted(stamps)  # never goes back, across a second boundary too
    assert before <= parse_timestamp(stamps[0]) <= parse_timestamp(stamps[-1]) <= after
