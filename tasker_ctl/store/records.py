"""Typed rows read from the store, and the typed values written to it.

Rows are named tuples (immutable, and about seven times cheaper to define at import than frozen
dataclasses, which matters for a command's start-up) built only by
``tasker_ctl.store.repository``; JSON columns arrive already decoded. The two values with a
generated UUID (:class:`NewTask`, :class:`NewStep`) stay dataclasses for their default factory.
Timestamps stay ISO-8601 UTC strings with milliseconds (``…T12:00:00.123Z``);
:func:`tasker_ctl.store.connection.parse_timestamp` turns one into a ``datetime``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from tasker_ctl.ids import random_uuid
from tasker_ctl.states import StepState, TaskState

JsonObject = dict[str, Any]


# --- rows -------------------------------------------------------------------------------------


class TaskRecord(NamedTuple):
    """One task: what was asked for, from which template, and where it stands."""

    uuid: str
    namespace: str
    name: str
    version: str
    template_id: int
    template_path: str | None
    state: TaskState
    input: Any
    initiator: str | None
    reason: str | None
    source_system: str | None
    correlation_id: str | None
    environment: str | None
    created_at: str
    updated_at: str
    completed_at: str | None
    priority: int = 5
    description: str | None = None


class StepRecord(NamedTuple):
    """One step of a task, with its retry bookkeeping and last outcome."""

    uuid: str
    task_uuid: str
    position: int
    name: str
    template_step_name: str
    step_type: str
    handler: JsonObject
    retry: JsonObject
    timeout_seconds: int | None
    inputs: JsonObject | None
    checkpoint: JsonObject | None
    state: StepState
    attempts: int
    max_attempts: int
    retryable: bool
    next_retry_at: str | None
    backoff_ms: int | None
    created_at: str
    updated_at: str
    started_at: str | None
    completed_at: str | None
    result: Any
    error: JsonObject | None


class EdgeRecord(NamedTuple):
    """``to_step_uuid`` depends on ``from_step_uuid``."""

    from_step_uuid: str
    to_step_uuid: str


class TaskGraph(NamedTuple):
    """Everything a scheduler or a status view needs about one task, loaded in one go."""

    task: TaskRecord
    steps: tuple[StepRecord, ...]
    edges: tuple[EdgeRecord, ...]

    def step_by_uuid(self) -> dict[str, StepRecord]:
        """``step uuid -> step``."""
        return {step.uuid: step for step in self.steps}

    def parents(self) -> dict[str, list[str]]:
        """``step uuid -> uuids of the steps it depends on``, in creation order."""
        parents: dict[str, list[str]] = {step.uuid: [] for step in self.steps}
        for edge in self.edges:
            parents[edge.to_step_uuid].append(edge.from_step_uuid)
        return parents


class TaskSummary(NamedTuple):
    """A task with the count of its steps per state (for listings)."""

    task: TaskRecord
    step_counts: Mapping[str, int]


class TransitionRecord(NamedTuple):
    """One recorded state change of a task (``step_uuid`` None) or of a step."""

    id: int
    task_uuid: str
    step_uuid: str | None
    from_state: str | None
    to_state: str
    event: str
    attempt: int | None
    created_at: str
    metadata: JsonObject


class AttemptRecord(NamedTuple):
    """The result or error one attempt of a step produced."""

    id: int
    task_uuid: str
    step_uuid: str
    attempt: int
    success: bool
    result: Any
    error: JsonObject | None
    metadata: JsonObject | None
    created_at: str


class OutputRecord(NamedTuple):
    """One line a step attempt printed or logged (``stream``: stdout, stderr, log, note)."""

    id: int
    task_uuid: str
    step_uuid: str
    attempt: int
    stream: str
    text: str
    created_at: str


class NewOutput(NamedTuple):
    """A captured line to store."""

    step_uuid: str
    attempt: int
    stream: str
    text: str
    created_at: str


# --- values written ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NewTask:
    """A task to create; ``snapshot`` is the template exactly as it was validated."""

    namespace: str
    name: str
    version: str
    input: Any
    snapshot: JsonObject
    template_path: str | None = None
    initiator: str | None = None
    reason: str | None = None
    source_system: str | None = None
    correlation_id: str | None = None
    environment: str | None = None
    priority: int = 5
    description: str | None = None
    uuid: str = field(default_factory=random_uuid)


@dataclass(frozen=True)
class NewStep:
    """A step to create, from its template definition (``inputs`` is for batch workers)."""

    name: str
    template_step_name: str
    step_type: str
    handler: JsonObject
    retry: JsonObject
    max_attempts: int
    retryable: bool
    timeout_seconds: int | None = None
    inputs: JsonObject | None = None
    uuid: str = field(default_factory=random_uuid)


class AttemptOutcome(NamedTuple):
    """What an attempt produced: a result on success, an error (and maybe a result) on failure.

    ``error`` holds ``message``, ``error_type``, ``error_code``, ``retryable`` and ``metadata``.
    """

    success: bool
    result: Any = None
    error: JsonObject | None = None
    metadata: JsonObject | None = None


class StepChange(NamedTuple):
    """One step transition to apply.

    ``expected_state`` is the state the caller believes the step is in; the update only happens
    if it still is (compare-and-set). When None, the store reads the current state inside the
    write transaction. ``next_retry_at``/``backoff_ms`` go with ``wait_for_retry``; ``outcome``
    is stored as the step's last result or error and as an attempt row.
    """

    step_uuid: str
    event: str
    expected_state: str | None = None
    outcome: AttemptOutcome | None = None
    next_retry_at: str | None = None
    backoff_ms: int | None = None
    metadata: JsonObject | None = None


class TaskChange(NamedTuple):
    """One task transition to apply (compare-and-set like :class:`StepChange`)."""

    task_uuid: str
    event: str
    expected_state: str | None = None
    metadata: JsonObject | None = None


# --- run leases -------------------------------------------------------------------------------


class LeaseHolder(NamedTuple):
    """Who runs a task: enough to tell later whether that process is still alive.

    ``process_start`` is the process's start time as the operating system counts it (so a
    reused pid is not mistaken for the holder); ``boot_id`` tells one boot of a host from the
    next. Either is None where the platform does not say.
    """

    pid: int
    host: str
    boot_id: str | None
    process_start: str | None


class LeaseRecord(NamedTuple):
    """A task's run lease as stored: its holder, since when, its last heartbeat.

    ``released_at`` is set when the run ended by itself (the row is kept to tell when the last
    run stopped); ``interrupt`` is what an operator command did to the task during the run.
    """

    task_uuid: str
    token: str
    holder: LeaseHolder
    acquired_at: str
    heartbeat_at: str
    heartbeat_seconds: float
    released_at: str | None
    interrupt: JsonObject | None
