"""Keeping a long-lived store small: ``task delete`` and ``task prune``.

A task goes with everything recorded about it: steps, edges, the audit trail, attempt results,
captured output and its run lease (and its template snapshot once no task uses it). A task that
a live run holds is never deleted: ``task delete`` refuses (exit 75), ``task prune`` keeps it and
says so. Everything happens in one write transaction, so a failure deletes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tasker_ctl.errors import RunBusyError, UsageError, did_you_mean
from tasker_ctl.states import TASK_TERMINAL, TaskState
from tasker_ctl.store import Repository, open_for_writing
from tasker_ctl.store.connection import format_timestamp
from tasker_ctl.store.records import JsonObject
from tasker_ctl.tasks.reads import no_store

PRUNED_BY_DEFAULT = tuple(state for state in TaskState if state in TASK_TERMINAL)
"""The states ``task prune`` deletes without ``--status``, in the order it lists them: tasks that
will never run again."""

_AGE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(text: str) -> timedelta:
    """``30d`` (also ``s``, ``m``, ``h``, ``w``) as a duration."""
    match = _AGE.match(text)
    if match is None:
        raise UsageError(
            f"--older-than '{text}' is not a duration",
            hint="give a number and a unit: 45m, 12h, 30d or 2w",
        )
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


@dataclass(frozen=True)
class DeletedTask:
    """A task that was (or, in a dry run, would be) deleted."""

    task_uuid: str
    namespace: str
    name: str
    version: str
    state: str
    created_at: str

    def to_json(self) -> JsonObject:
        """One task of the JSON of ``task delete`` and ``task prune``."""
        return {
            "task_uuid": self.task_uuid,
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "status": self.state,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class PruneResult:
    """What ``task prune`` deleted, and the tasks it kept because a live run holds them."""

    deleted: tuple[DeletedTask, ...]
    kept_running: tuple[str, ...]
    cutoff: str
    statuses: tuple[str, ...]
    dry_run: bool

    def to_json(self) -> JsonObject:
        """``{"deleted": [...], "kept_running": [...], "created_before", "statuses", …}``."""
        return {
            "deleted": [task.to_json() for task in self.deleted],
            "kept_running": list(self.kept_running),
            "created_before": self.cutoff,
            "statuses": list(self.statuses),
            "dry_run": self.dry_run,
        }


def _live_holder(repository: Repository, task_uuid: str, now: datetime | None) -> str | None:
    """Who runs the task now (``process 12 since …``), or None when no live run holds it."""
    from tasker_ctl.engine.lease import describe_holder, holder_alive

    lease = repository.get_lease(task_uuid)
    if lease is not None and holder_alive(lease, now):
        return describe_holder(lease)
    return None


def delete_task(db_path: Path, task_reference: str, *, now: datetime | None = None) -> DeletedTask:
    """Delete one task with everything recorded about it; refused while a live run holds it."""
    if not db_path.is_file():
        raise no_store(db_path, task_reference)
    with open_for_writing(db_path) as repository, repository.write():
        task_uuid = repository.resolve_task_uuid(task_reference)
        holder = _live_holder(repository, task_uuid, now)
        if holder is not None:
            raise RunBusyError(
                f"task {task_uuid} is being run by {holder}; it was not deleted",
                hint=f"stop the run with `tasker-ctl task cancel {task_uuid}`, or wait for it "
                "to finish, then delete the task",
            )
        task = repository.get_task(task_uuid)
        assert task is not None  # resolved inside this transaction
        repository.delete_tasks([task_uuid])
    return DeletedTask(
        task.uuid, task.namespace, task.name, task.version, task.state, task.created_at
    )


def prune_tasks(
    db_path: Path,
    older_than: timedelta,
    statuses: Sequence[str] = (),
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PruneResult:
    """Delete the tasks created more than ``older_than`` ago in one of ``statuses`` (default:
    :data:`PRUNED_BY_DEFAULT`), except those a live run holds; ``dry_run`` deletes nothing."""
    chosen = tuple(_state(status) for status in statuses) or tuple(PRUNED_BY_DEFAULT)
    moment = now or datetime.now(UTC)
    cutoff = format_timestamp(moment - older_than)
    if not db_path.is_file():
        raise no_store(db_path)
    deleted: list[DeletedTask] = []
    kept: list[str] = []
    with open_for_writing(db_path) as repository, repository.write():
        for task in repository.tasks_created_before(cutoff, chosen):
            if _live_holder(repository, task.uuid, now) is not None:
                kept.append(task.uuid)
                continue
            deleted.append(
                DeletedTask(
                    task.uuid, task.namespace, task.name, task.version, task.state, task.created_at
                )
            )
        if deleted and not dry_run:
            repository.delete_tasks([task.task_uuid for task in deleted])
    return PruneResult(tuple(deleted), tuple(kept), cutoff, chosen, dry_run)


def _state(status: str) -> str:
    if status not in set(TaskState):
        raise UsageError(
            f"unknown task status '{status}'{did_you_mean(status, list(TaskState))}",
            hint="statuses: " + ", ".join(TaskState),
        )
    return str(TaskState(status))
