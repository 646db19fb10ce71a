"""The Tasker task-template format as frozen pydantic models.

Field names, types, defaults and allowed values follow Tasker's serde model (reference §1).
Unknown keys are ignored here, as Tasker ignores them; the validator reports them separately.
Two things are stricter than Tasker, deliberately: a step that uses both keys of an alias pair
(``type``/``step_type``, ``dependencies``/``depends_on``) is rejected, and the step-type
spellings some documents use (``decision_point``, ``deferred``, ``convergence``) are rejected with
a suggestion instead of failing obscurely later.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from tasker_ctl.errors import closest
from tasker_ctl.retry import DEFAULT_BASE_MS, DEFAULT_CAP_MS

JsonObject = dict[str, Any]


# Error types raised by the models, which the validator turns into finding codes.
DUPLICATE_ALIAS_ERROR = "duplicate_alias_key"
INVALID_STEP_TYPE_ERROR = "invalid_step_type"


class StepType(StrEnum):
    """What the engine does with a step besides running its handler."""

    STANDARD = "standard"
    DECISION = "decision"
    DEFERRED_CONVERGENCE = "deferred_convergence"
    BATCHABLE = "batchable"
    BATCH_WORKER = "batch_worker"


# Spellings found in Tasker documents that the runtime rejects, and what they mean.
STEP_TYPE_MISSPELLINGS = {
    "decision_point": StepType.DECISION,
    "deferred": StepType.DEFERRED_CONVERGENCE,
    "convergence": StepType.DEFERRED_CONVERGENCE,
}


class Backoff(StrEnum):
    """How the delay between attempts grows (reference §4.4)."""

    NONE = "none"
    LINEAR = "linear"
    EXPONENTIAL = "exponential"
    FIBONACCI = "fibonacci"


class FailureStrategy(StrEnum):
    """What a failed batch worker means for its batch (reference §1.5, §6.3)."""

    CONTINUE_ON_FAILURE = "continue_on_failure"
    FAIL_FAST = "fail_fast"
    ISOLATE = "isolate"


class EventCondition(StrEnum):
    """When a declared domain event is published."""

    SUCCESS = "success"
    FAILURE = "failure"
    RETRYABLE_FAILURE = "retryable_failure"
    PERMANENT_FAILURE = "permanent_failure"
    ALWAYS = "always"


class DeliveryMode(StrEnum):
    """How a declared domain event is delivered."""

    DURABLE = "durable"
    FAST = "fast"
    BROADCAST = "broadcast"


class StalenessAction(StrEnum):
    """What happens to a task that exceeds its lifecycle limits."""

    DLQ = "dlq"
    ERROR = "error"
    NONE = "none"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


def _reject_both(data: Any, first: str, second: str) -> None:
    if isinstance(data, dict) and first in data and second in data:
        raise PydanticCustomError(
            DUPLICATE_ALIAS_ERROR,
            "both '{first}' and '{second}' are given; they are the same key, keep '{first}'",
            {"first": first, "second": second},
        )


class RetryPolicy(_Model):
    """``retry``: how often and how fast a failed step is tried again.

    When the block is absent the step gets :data:`DEFAULT_RETRY`; when it is present, each
    missing key takes its own default, which leaves the base and cap unset (null), as in Tasker.
    """

    retryable: bool = True
    max_attempts: int = Field(default=3, ge=0)
    backoff: Backoff = Backoff.EXPONENTIAL
    backoff_base_ms: int | None = Field(default=None, ge=0)
    max_backoff_ms: int | None = Field(default=None, ge=0)


DEFAULT_RETRY = RetryPolicy(backoff_base_ms=DEFAULT_BASE_MS, max_backoff_ms=DEFAULT_CAP_MS)


class HandlerDefinition(_Model):
    """``handler``: which code runs the step and with what configuration."""

    callable: str
    method: str | None = None
    resolver: str | None = None
    initialization: JsonObject = Field(default_factory=dict)


class BatchConfig(_Model):
    """``batch_config`` of a ``batch_worker`` step; all five keys are required."""

    batch_size: int = Field(ge=0)
    parallelism: int = Field(ge=0)
    cursor_field: str
    worker_template: str
    failure_strategy: FailureStrategy


class EventDeclaration(_Model):
    """One item of a step's ``publishes_events``."""

    name: str
    description: str
    condition: EventCondition = EventCondition.SUCCESS
    event_schema: JsonObject = Field(alias="schema")
    delivery_mode: DeliveryMode = DeliveryMode.DURABLE
    publisher: str | None = None


class StepDefinition(_Model):
    """One step of the DAG."""

    name: str
    description: str | None = None
    handler: HandlerDefinition
    step_type: StepType = Field(
        default=StepType.STANDARD,
        validation_alias=AliasChoices("type", "step_type"),
        serialization_alias="type",
    )
    dependencies: tuple[str, ...] = Field(
        default=(), validation_alias=AliasChoices("dependencies", "depends_on")
    )
    retry: RetryPolicy = DEFAULT_RETRY
    timeout_seconds: int | None = Field(default=None, ge=0)
    publishes_events: tuple[EventDeclaration, ...] = ()
    batch_config: BatchConfig | None = None
    result_schema: JsonObject | None = None
    system_dependency: str | None = None
    composition: Any = None

    @model_validator(mode="before")
    @classmethod
    def _one_key_per_alias_pair(cls, data: Any) -> Any:
        _reject_both(data, "type", "step_type")
        _reject_both(data, "dependencies", "depends_on")
        return data

    @field_validator("step_type", mode="before")
    @classmethod
    def _known_step_type(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in StepType.__members__.values():
            suggestion = STEP_TYPE_MISSPELLINGS.get(value) or closest(value, list(StepType))
            hint = f"; use '{suggestion}'" if suggestion else ""
            allowed = ", ".join(StepType)
            raise PydanticCustomError(
                INVALID_STEP_TYPE_ERROR,
                "unknown step type '{value}'{hint} (allowed: {allowed})",
                {"value": value, "hint": hint, "allowed": allowed},
            )
        return value


class TemplateMetadata(_Model):
    """``metadata``: descriptive fields; other keys are ignored."""

    author: str | None = None
    tags: tuple[str, ...] = ()
    documentation_url: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class SystemDependencies(_Model):
    """``system_dependencies``: informational."""

    primary: str = "default"
    secondary: tuple[str, ...] = ()


class DomainEvent(_Model):
    """One item of the top-level ``domain_events``."""

    name: str
    description: str | None = None
    event_schema: JsonObject | None = Field(default=None, alias="schema")


class HandlerOverride(_Model):
    """The part of ``handler`` an environment may override."""

    initialization: JsonObject = Field(default_factory=dict)


class StepOverride(_Model):
    """One item of ``environments.<env>.steps``; ``name: ALL`` matches every step."""

    name: str
    handler: HandlerOverride | None = None
    timeout_seconds: int | None = Field(default=None, ge=0)
    retry: RetryPolicy | None = None


class EnvironmentOverrides(_Model):
    """``environments.<env>``."""

    steps: tuple[StepOverride, ...] = ()


class Lifecycle(_Model):
    """``lifecycle``: staleness limits; parsed and otherwise ignored locally."""

    max_duration_minutes: int | None = Field(default=None, ge=0)
    max_waiting_for_dependencies_minutes: int | None = Field(default=None, ge=0)
    max_waiting_for_retry_minutes: int | None = Field(default=None, ge=0)
    max_steps_in_process_minutes: int | None = Field(default=None, ge=0)
    staleness_action: StalenessAction = StalenessAction.DLQ
    auto_fail_on_timeout: bool | None = None
    auto_dlq_on_timeout: bool | None = None


class TaskTemplate(_Model):
    """A whole task template: identity, input schema, steps, environments."""

    name: str
    namespace_name: str
    version: str
    description: str | None = None
    metadata: TemplateMetadata | None = None
    system_dependencies: SystemDependencies = SystemDependencies()
    domain_events: tuple[DomainEvent, ...] = ()
    input_schema: JsonObject | None = None
    steps: tuple[StepDefinition, ...] = ()
    environments: dict[str, EnvironmentOverrides] = Field(default_factory=dict)
    lifecycle: Lifecycle | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        # YAML reads `version: 1.0` as a float and `version: 1` as an int.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value

    @property
    def key(self) -> tuple[str, str, str]:
        """``(namespace, name, version)``: how tasks look a template up."""
        return (self.namespace_name, self.name, self.version)

    @cached_property
    def steps_by_name(self) -> dict[str, StepDefinition]:
        """``step name -> step`` (the first, should a name repeat), built once per template."""
        by_name: dict[str, StepDefinition] = {}
        for step in self.steps:
            by_name.setdefault(step.name, step)
        return by_name

    def step_named(self, name: str) -> StepDefinition:
        """The step called ``name``; ``KeyError`` when there is none."""
        try:
            return self.steps_by_name[name]
        except KeyError:
            raise KeyError(name) from None

    def with_environment(self, name: str) -> TaskTemplate:
        """This template with ``environments.<name>`` applied (reference §1.7); KeyError if absent.

        Overrides apply in list order, ``name: ALL`` to every step: ``handler.initialization``
        is merged in (its keys win), ``timeout_seconds`` replaces the step's, and ``retry``
        replaces the whole block (keys it leaves out take their per-key defaults).
        """
        steps = list(self.steps)
        for override in self.environments[name].steps:
            for index, step in enumerate(steps):
                if override.name not in ("ALL", step.name):
                    continue
                changes: dict[str, Any] = {}
                if override.handler is not None:
                    initialization = {
                        **step.handler.initialization,
                        **override.handler.initialization,
                    }
                    changes["handler"] = step.handler.model_copy(
                        update={"initialization": initialization}
                    )
                if override.timeout_seconds is not None:
                    changes["timeout_seconds"] = override.timeout_seconds
                if override.retry is not None:
                    changes["retry"] = override.retry
                steps[index] = step.model_copy(update=changes)
        # A new model rather than model_copy, which would carry over cached properties.
        fields = {key: getattr(self, key) for key in type(self).model_fields}
        return type(self).model_construct(**{**fields, "steps": tuple(steps)})

    def to_snapshot(self) -> JsonObject:
        """A JSON-ready copy that :meth:`from_snapshot` turns back into an equal template."""
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def from_snapshot(cls, data: JsonObject) -> TaskTemplate:
        """Rebuild a template from :meth:`to_snapshot` output."""
        return cls.model_validate(data)


def model_field_keys(model: type[BaseModel]) -> dict[str, str]:
    """Every key a model accepts (field names and aliases), mapped to the field it fills."""
    keys: dict[str, str] = {}
    for field_name, info in model.model_fields.items():
        keys[field_name] = field_name
        if info.alias:
            keys[info.alias] = field_name
        if isinstance(info.validation_alias, AliasChoices):
            for choice in info.validation_alias.choices:
                if isinstance(choice, str):
                    keys[choice] = field_name
    return keys
