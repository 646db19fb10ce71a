"""Value types of the handler API: the step context, the handler result and their enums.

Mirrors ``tasker_core.types`` for the parts handlers use, so code written against tasker-py runs
unchanged when tasker-py is not installed. Field names, defaults and result shapes follow tasker-py
0.1.8; the implementation is tasker-ctl's own.

Every model is declared with ``defer_build=True``: pydantic builds a model's validator when it is
first used rather than when the class is defined, so a run whose handlers never touch the batch
or decision types does not pay for building them (about 1 ms each) at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, SkipValidation

from tasker_ctl.sdk.models import TaskSequenceStepWrapper


class ErrorType(str, Enum):  # noqa: UP042 - str() as in tasker-py
    """Standard error categories; a failure may also carry any other string."""

    PERMANENT_ERROR = "permanent_error"
    RETRYABLE_ERROR = "retryable_error"
    VALIDATION_ERROR = "validation_error"
    TIMEOUT = "timeout"
    HANDLER_ERROR = "handler_error"

    @classmethod
    def is_standard(cls, error_type: str) -> bool:
        """Whether ``error_type`` is one of the standard values."""
        return error_type in {member.value for member in cls}

    @classmethod
    def is_typically_retryable(cls, error_type: str) -> bool:
        """Whether failures of this type are usually worth retrying."""
        return error_type in (cls.RETRYABLE_ERROR.value, cls.TIMEOUT.value)


class ResultStatus(str, Enum):  # noqa: UP042 - str() as in tasker-py
    """Status of a step execution as the worker reports it."""

    SUCCESS = "completed"
    FAILURE = "error"
    RETRYABLE_ERROR = "retryable_error"
    PERMANENT_ERROR = "permanent_error"


class DecisionType(str, Enum):  # noqa: UP042 - str() as in tasker-py
    """What a decision step asks for: create branch steps, or none."""

    CREATE_STEPS = "create_steps"
    NO_BRANCHES = "no_branches"


class FailureStrategy(str, Enum):  # noqa: UP042 - str() as in tasker-py
    """How batch workers treat item failures."""

    CONTINUE_ON_FAILURE = "continue_on_failure"
    FAIL_FAST = "fail_fast"
    ISOLATE = "isolate"


class FfiStepEvent(BaseModel):
    """One step dispatch: identifiers plus the task-sequence-step payload."""

    model_config = ConfigDict(defer_build=True)

    event_id: str
    task_uuid: str
    step_uuid: str
    correlation_id: str
    task_correlation_id: str | None = None
    parent_correlation_id: str | None = None
    task_sequence_step: dict[str, Any] = Field(default_factory=dict)
    trace_id: str | None = None
    span_id: str | None = None


def _as_dict(value: Any) -> dict[str, Any]:
    """``value`` as a dict: a dict as is, any other mapping copied (as pydantic does), else {}."""
    if isinstance(value, dict):
        return value
    return dict(value) if isinstance(value, Mapping) else {}


@lru_cache(maxsize=64)
def _parsed_uuid(text: str) -> UUID:
    """``UUID(text)``, parsed once: every step of a task carries its task's and correlation
    ids (a UUID is immutable, so sharing one is safe)."""
    return UUID(text)


def _as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


class StepContext(BaseModel):
    """Everything a handler sees for one execution of one step."""

    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)

    event: FfiStepEvent
    task_uuid: UUID
    step_uuid: UUID
    correlation_id: UUID
    handler_name: str
    input_data: dict[str, Any] = Field(default_factory=dict)
    # Kept as given: the engine passes a lazy mapping of every ancestor's result.
    dependency_results: Annotated[Mapping[str, Any], SkipValidation] = Field(default_factory=dict)
    step_config: dict[str, Any] = Field(default_factory=dict)
    step_inputs: dict[str, Any] = Field(default_factory=dict)
    retry_count: int = 0
    max_retries: int = 3

    @classmethod
    def from_ffi_event(cls, event: FfiStepEvent, handler_name: str) -> StepContext:
        """Build the context from an event's task-sequence-step payload (reference §5.2).

        Every field is converted here (the identifiers parsed as UUIDs, which raises on a bad
        one), so the model is constructed without validating again: building pydantic's
        validator for this class alone costs ~10 ms, at the first step of every run.
        """
        payload = event.task_sequence_step
        task = _as_dict(payload.get("task"))
        inner_task = _as_dict(task.get("task", task))
        handler = _as_dict(_as_dict(payload.get("step_definition")).get("handler"))
        workflow_step = _as_dict(payload.get("workflow_step"))
        return cls.model_construct(
            event=event,
            task_uuid=_parsed_uuid(event.task_uuid),
            step_uuid=UUID(event.step_uuid),
            correlation_id=_parsed_uuid(event.correlation_id),
            handler_name=handler_name,
            input_data=_as_dict(inner_task.get("context")),
            dependency_results=_as_mapping(payload.get("dependency_results")),
            step_config=_as_dict(handler.get("initialization")),
            step_inputs=_as_dict(workflow_step.get("inputs")),
            retry_count=int(workflow_step.get("attempts") or 0),
            max_retries=int(workflow_step.get("max_attempts") or 3),
        )

    # -- task input and step configuration ---------------------------------------------------

    def get_input(self, key: str) -> Any:
        """A task input value, or None."""
        return self.input_data.get(key)

    def get_input_or(self, key: str, default: Any = None) -> Any:
        """A task input value; ``default`` when it is missing or None."""
        value = self.input_data.get(key)
        return default if value is None else value

    def get_config(self, key: str) -> Any:
        """A value from the step's ``handler.initialization``, or None."""
        return self.step_config.get(key)

    # -- dependency results ----------------------------------------------------------------

    def get_dependency_result(self, step_name: str) -> Any:
        """An ancestor's output, unwrapped from its ``{"result": ...}`` envelope; None if absent."""
        stored = self.dependency_results.get(step_name)
        if isinstance(stored, dict) and "result" in stored:
            return stored["result"]
        return stored

    def get_dependency_field(self, step_name: str, *path: str) -> Any:
        """A nested field of an ancestor's output; None as soon as a level is missing."""
        value = self.get_dependency_result(step_name)
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    def get_dependency_result_keys(self) -> list[str]:
        """Names of every ancestor whose result is available."""
        return list(self.dependency_results)

    def get_all_dependency_results(self, prefix: str) -> list[Any]:
        """Unwrapped outputs of every ancestor whose name starts with ``prefix``."""
        return [
            value
            for name in self.dependency_results
            if name.startswith(prefix) and (value := self.get_dependency_result(name)) is not None
        ]

    # -- retries ---------------------------------------------------------------------------

    def is_retry(self) -> bool:
        """Whether an earlier attempt of this step already ran."""
        return self.retry_count > 0

    def is_last_retry(self) -> bool:
        """Whether this is the last attempt the retry policy allows."""
        return self.retry_count >= self.max_retries - 1

    # -- checkpoints (reference §6.4) ------------------------------------------------------

    @property
    def checkpoint(self) -> dict[str, Any] | None:
        """The checkpoint saved by an earlier yield of this step, if any."""
        workflow_step = _as_dict(self.event.task_sequence_step.get("workflow_step"))
        saved = workflow_step.get("checkpoint")
        return saved if isinstance(saved, dict) else None

    @property
    def checkpoint_cursor(self) -> Any:
        """Where the last checkpoint left off, or None."""
        saved = self.checkpoint
        return saved.get("cursor") if saved else None

    @property
    def checkpoint_items_processed(self) -> int:
        """Items processed up to the last checkpoint (0 without one)."""
        saved = self.checkpoint
        return int(saved.get("items_processed", 0)) if saved else 0

    @property
    def accumulated_results(self) -> dict[str, Any] | None:
        """Partial aggregates carried across checkpoint yields, or None."""
        saved = self.checkpoint
        return saved.get("accumulated_results") if saved else None

    def has_checkpoint(self) -> bool:
        """Whether a checkpoint cursor exists to resume from."""
        return self.checkpoint_cursor is not None

    @property
    def task_sequence_step(self) -> TaskSequenceStepWrapper:
        """The raw payload with attribute access (``.workflow_step.name`` and so on)."""
        return TaskSequenceStepWrapper.from_dict(self.event.task_sequence_step)


class StepHandlerResult(BaseModel):
    """What a handler returns: success with a result dict, or failure with an error.

    The flag is ``is_success`` (serialised as ``success``): ``success`` itself is the
    constructor classmethod, so ``result.success is True`` is always false.
    """

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    is_success: bool = Field(validation_alias="success", serialization_alias="success")
    result: dict[str, Any] | None = None
    error_message: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    retryable: bool = True
    metadata: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def success(
        cls, result: dict[str, Any], metadata: dict[str, Any] | None = None
    ) -> StepHandlerResult:
        """A successful result carrying ``result``."""
        return cls(is_success=True, result=result, metadata=metadata or {})

    @classmethod
    def failure(
        cls,
        message: str,
        error_type: str | ErrorType = ErrorType.HANDLER_ERROR,
        retryable: bool = True,
        metadata: dict[str, Any] | None = None,
        error_code: str | None = None,
    ) -> StepHandlerResult:
        """A failed result; enum error types are stored as their string value."""
        return cls(
            is_success=False,
            error_message=message,
            error_type=error_type.value if isinstance(error_type, ErrorType) else error_type,
            error_code=error_code,
            retryable=retryable,
            metadata=metadata or {},
        )

    def is_success_result(self) -> bool:
        """Whether the handler succeeded."""
        return self.is_success

    def is_failure_result(self) -> bool:
        """Whether the handler failed."""
        return not self.is_success


class DecisionPointOutcome(BaseModel):
    """Which branches a decision step asks the engine to create."""

    model_config = ConfigDict(defer_build=True)

    decision_type: DecisionType
    next_step_names: list[str] = Field(default_factory=list)
    dynamic_steps: list[dict[str, Any]] | None = None
    reason: str | None = None
    routing_context: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def create_steps(
        cls,
        step_names: list[str],
        dynamic_steps: list[dict[str, Any]] | None = None,
        routing_context: dict[str, Any] | None = None,
    ) -> DecisionPointOutcome:
        """An outcome that creates the named branch steps."""
        return cls(
            decision_type=DecisionType.CREATE_STEPS,
            next_step_names=step_names,
            dynamic_steps=dynamic_steps,
            routing_context=routing_context or {},
        )

    @classmethod
    def no_branches(
        cls, reason: str, routing_context: dict[str, Any] | None = None
    ) -> DecisionPointOutcome:
        """An outcome that creates no branch at all."""
        return cls(
            decision_type=DecisionType.NO_BRANCHES,
            reason=reason,
            routing_context=routing_context or {},
        )


class CursorConfig(BaseModel):
    """A batch's cursor range: ``start_cursor`` inclusive, ``end_cursor`` exclusive."""

    model_config = ConfigDict(defer_build=True)

    start_cursor: int
    end_cursor: int
    step_size: int = 1
    metadata: dict[str, Any] = Field(default_factory=dict)


class BatchAnalyzerOutcome(BaseModel):
    """The cursor ranges an analyzer proposes, before they become worker steps."""

    model_config = ConfigDict(defer_build=True)

    cursor_configs: list[CursorConfig] = Field(default_factory=list)
    total_items: int | None = None
    batch_metadata: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_ranges(
        cls,
        ranges: list[tuple[int, int]],
        step_size: int = 1,
        total_items: int | None = None,
        batch_metadata: dict[str, Any] | None = None,
    ) -> BatchAnalyzerOutcome:
        """An outcome with one cursor config per ``(start, end)`` pair."""
        return cls(
            cursor_configs=[
                CursorConfig(start_cursor=start, end_cursor=end, step_size=step_size)
                for start, end in ranges
            ],
            total_items=total_items,
            batch_metadata=batch_metadata or {},
        )


class BatchWorkerContext(BaseModel):
    """What a batch worker needs: its batch id, cursor range, metadata and checkpoint."""

    model_config = ConfigDict(defer_build=True)

    batch_id: str
    cursor_config: CursorConfig
    batch_index: int = 0
    total_batches: int = 1
    batch_metadata: dict[str, Any] = Field(default_factory=dict)
    checkpoint: dict[str, Any] = Field(default_factory=dict)

    @property
    def start_cursor(self) -> int:
        """First cursor of the batch (inclusive)."""
        return self.cursor_config.start_cursor

    @property
    def end_cursor(self) -> int:
        """End of the batch (exclusive)."""
        return self.cursor_config.end_cursor

    @property
    def step_size(self) -> int:
        """Cursor increment per item."""
        return self.cursor_config.step_size

    @property
    def checkpoint_cursor(self) -> Any:
        """Where the last checkpoint left off, or None."""
        return self.checkpoint.get("cursor")

    @property
    def accumulated_results(self) -> dict[str, Any] | None:
        """Partial aggregates from the last checkpoint, or None."""
        return self.checkpoint.get("accumulated_results")

    @property
    def checkpoint_items_processed(self) -> int:
        """Items processed up to the last checkpoint (0 without one)."""
        return int(self.checkpoint.get("items_processed", 0))

    def has_checkpoint(self) -> bool:
        """Whether a checkpoint cursor exists to resume from."""
        return self.checkpoint.get("cursor") is not None

    @classmethod
    def from_step_context(cls, context: StepContext) -> BatchWorkerContext | None:
        """The batch this worker step owns, from ``workflow_step.inputs``; None without one."""
        checkpoint = context.checkpoint or {}
        inputs = context.step_inputs
        if inputs and "cursor" in inputs:
            cursor = _as_dict(inputs.get("cursor"))
            return cls(
                batch_id=str(cursor.get("batch_id", "")),
                cursor_config=CursorConfig(
                    start_cursor=cursor.get("start_cursor", 0),
                    end_cursor=cursor.get("end_cursor", 0),
                    step_size=cursor.get("step_size", cursor.get("batch_size", 1)),
                    metadata=_as_dict(cursor.get("metadata")),
                ),
                batch_metadata=_as_dict(inputs.get("batch_metadata")),
                checkpoint=checkpoint,
            )
        legacy = context.step_config.get("batch_context") or context.input_data.get("batch_context")
        if not isinstance(legacy, dict):
            return None
        cursor = _as_dict(legacy.get("cursor_config"))
        return cls(
            batch_id=str(legacy.get("batch_id", "")),
            cursor_config=CursorConfig(
                start_cursor=cursor.get("start_cursor", 0),
                end_cursor=cursor.get("end_cursor", 0),
                step_size=cursor.get("step_size", 1),
                metadata=_as_dict(cursor.get("metadata")),
            ),
            batch_index=legacy.get("batch_index", 0),
            total_batches=legacy.get("total_batches", 1),
            batch_metadata=_as_dict(legacy.get("batch_metadata")),
            checkpoint=checkpoint,
        )


class BatchWorkerOutcome(BaseModel):
    """A batch worker's tally for its cursor range."""

    model_config = ConfigDict(defer_build=True)

    items_processed: int = 0
    items_succeeded: int = 0
    items_failed: int = 0
    items_skipped: int = 0
    results: list[dict[str, Any]] = Field(default_factory=list)
    errors: list[dict[str, Any]] = Field(default_factory=list)
    last_cursor: int | None = None
    batch_metadata: dict[str, Any] = Field(default_factory=dict)


class RustCursorConfig(BaseModel):
    """A batch worker's cursor as the engine stores it in ``workflow_step.inputs.cursor``."""

    model_config = ConfigDict(defer_build=True)

    batch_id: str
    start_cursor: Any
    end_cursor: Any
    batch_size: int


class BatchMetadata(BaseModel):
    """``workflow_step.inputs.batch_metadata`` of a batch worker."""

    model_config = ConfigDict(defer_build=True)

    cursor_field: str | None = None
    failure_strategy: FailureStrategy = FailureStrategy.FAIL_FAST


class RustBatchWorkerInputs(BaseModel):
    """A batch worker's ``workflow_step.inputs``: cursor, batch metadata, no-op flag."""

    model_config = ConfigDict(defer_build=True)

    cursor: RustCursorConfig
    batch_metadata: BatchMetadata = Field(default_factory=BatchMetadata)
    is_no_op: bool = False


class LogContext(BaseModel):
    """Correlation fields for the ``log_*`` functions."""

    model_config = ConfigDict(defer_build=True)

    correlation_id: str | None = None
    task_uuid: str | None = None
    step_uuid: str | None = None
    namespace: str | None = None
    operation: str | None = None


class NoBatchesOutcome(BaseModel):
    """An analyzer's decision to create no batch workers: ``{"type": "no_batches"}``."""

    model_config = ConfigDict(defer_build=True)

    type: str = "no_batches"


class CreateBatchesOutcome(BaseModel):
    """An analyzer's decision to create ``worker_count`` workers from ``worker_template_name``,
    one per cursor config."""

    model_config = ConfigDict(defer_build=True)

    type: str = "create_batches"
    worker_template_name: str
    worker_count: int
    cursor_configs: list[RustCursorConfig]
    total_items: int


BatchProcessingOutcome = NoBatchesOutcome | CreateBatchesOutcome


def no_batches() -> NoBatchesOutcome:
    """The outcome that creates no batch workers."""
    return NoBatchesOutcome()


def create_batches(
    worker_template_name: str,
    worker_count: int,
    cursor_configs: list[RustCursorConfig],
    total_items: int,
) -> CreateBatchesOutcome:
    """The outcome that creates workers; ``ValueError`` unless there is one config per worker."""
    if len(cursor_configs) != worker_count:
        raise ValueError(
            f"cursor_configs length ({len(cursor_configs)}) must equal worker_count "
            f"({worker_count})"
        )
    return CreateBatchesOutcome(
        worker_template_name=worker_template_name,
        worker_count=worker_count,
        cursor_configs=cursor_configs,
        total_items=total_items,
    )


class BatchAggregationResult(BaseModel):
    """Totals over the results of a batch's workers (``aggregate_batch_results``)."""

    model_config = ConfigDict(defer_build=True)

    total_processed: int
    total_succeeded: int
    total_failed: int
    total_skipped: int
    batch_count: int
    success_rate: float
    errors: list[dict[str, Any]] = Field(default_factory=list)
    error_count: int


def aggregate_batch_results(
    worker_results: list[dict[str, Any] | None], max_errors: int = 100
) -> BatchAggregationResult:
    """Sum the workers' ``items_processed``/``items_succeeded``/``items_failed``/
    ``items_skipped`` (missing results skipped), keep the first ``max_errors`` errors and count
    them all; ``success_rate`` is succeeded over processed (0.0 when nothing was processed)."""
    present = [result for result in worker_results if result is not None]

    def total(key: str) -> int:
        return sum(int(result.get(key, 0)) for result in present)

    errors = [
        error
        for result in present
        if isinstance(result.get("errors"), list)
        for error in result["errors"]
    ]
    processed, succeeded = total("items_processed"), total("items_succeeded")
    return BatchAggregationResult(
        total_processed=processed,
        total_succeeded=succeeded,
        total_failed=total("items_failed"),
        total_skipped=total("items_skipped"),
        batch_count=len(present),
        success_rate=succeeded / processed if processed > 0 else 0.0,
        errors=errors[:max_errors],
        error_count=len(errors),
    )


__all__ = [
    "BatchAggregationResult",
    "BatchAnalyzerOutcome",
    "BatchMetadata",
    "BatchProcessingOutcome",
    "BatchWorkerContext",
    "BatchWorkerOutcome",
    "CreateBatchesOutcome",
    "CursorConfig",
    "DecisionPointOutcome",
    "DecisionType",
    "ErrorType",
    "FailureStrategy",
    "FfiStepEvent",
    "LogContext",
    "NoBatchesOutcome",
    "ResultStatus",
    "RustBatchWorkerInputs",
    "RustCursorConfig",
    "StepContext",
    "StepHandlerResult",
    "aggregate_batch_results",
    "create_batches",
    "no_batches",
]
