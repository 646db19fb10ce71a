"""``Batchable``: builders for batch analyzers, batch workers, aggregators and checkpoints.

Result shapes follow reference §5.7 and §6.3/§6.4 so the engine can read them: an analyzer's
``batch_processing_outcome`` (``create_batches`` with cursor configs ``001``, ``002``, ... or
``no_batches``), a worker's tallies, and a checkpoint yield flagged in its metadata.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from pydantic import ValidationError

from tasker_ctl.sdk.models import DependencyResultsWrapper
from tasker_ctl.sdk.types import (
    BatchAnalyzerOutcome,
    BatchWorkerContext,
    BatchWorkerOutcome,
    CursorConfig,
    RustBatchWorkerInputs,
    RustCursorConfig,
    StepContext,
    StepHandlerResult,
)
from tasker_ctl.sdk.types import create_batches as create_batches_outcome
from tasker_ctl.sdk.types import no_batches as create_no_batches_outcome

MAX_AGGREGATED_ERRORS = 100


def batch_id_for(index: int) -> str:
    """The id of the ``index``-th batch (0-based): ``001``, ``002``, ..."""
    return f"{index + 1:03d}"


@dataclass
class BatchAggregationScenario:
    """What a convergence step aggregates: no batches at all, or the workers' results."""

    is_no_batches: bool
    batchable_result: dict[str, Any]
    batch_results: dict[str, dict[str, Any]]
    worker_count: int

    @classmethod
    def detect(
        cls,
        dependency_results: Mapping[str, Any],
        batchable_step_name: str,
        batch_worker_prefix: str,
    ) -> BatchAggregationScenario:
        """Read the analyzer's outcome and the workers' results; ValueError when inconsistent."""
        deps = DependencyResultsWrapper.from_dict(dependency_results)
        analyzer = deps.get_results(batchable_step_name)
        if analyzer is None:
            raise ValueError(f"Missing batchable step dependency: {batchable_step_name}")
        analyzer = analyzer if isinstance(analyzer, dict) else {}
        outcome = analyzer.get("batch_processing_outcome")
        if isinstance(outcome, dict) and outcome.get("type") == "no_batches":
            return cls(True, analyzer, {}, 0)
        workers: dict[str, dict[str, Any]] = {}
        for name in deps:
            if name.startswith(batch_worker_prefix):
                result = deps.get_results(name)
                workers[name] = result if isinstance(result, dict) else {}
        if not workers:
            raise ValueError(
                f"No batch workers found with prefix '{batch_worker_prefix}' and batchable step "
                f"'{batchable_step_name}' did not return NoBatches outcome. "
                "This indicates a workflow configuration error."
            )
        return cls(False, analyzer, workers, len(workers))

    def no_batches(self) -> bool:
        """Whether the analyzer created no batches."""
        return self.is_no_batches


class BatchWorkerConfig:
    """One worker's share of ``create_cursor_configs``: an id and a cursor range."""

    def __init__(
        self,
        batch_id: str,
        cursor_start: int,
        cursor_end: int,
        row_count: int,
        worker_index: int,
        total_workers: int,
    ) -> None:
        self.batch_id = batch_id
        self.cursor_start = cursor_start
        self.cursor_end = cursor_end
        self.row_count = row_count
        self.worker_index = worker_index
        self.total_workers = total_workers

    def to_dict(self) -> dict[str, Any]:
        """The configuration as plain data."""
        return dict(vars(self))


def _success(result: dict[str, Any], metadata: dict[str, Any] | None) -> StepHandlerResult:
    return StepHandlerResult.success(result, metadata or {})


class Batchable:
    """Use as ``class Analyzer(Batchable, StepHandler)`` (or ``StepHandler, Batchable``)."""

    # -- analyzer side ---------------------------------------------------------------------

    def create_cursor_config(
        self, start: int, end: int, step_size: int = 1, metadata: dict[str, Any] | None = None
    ) -> CursorConfig:
        """One cursor range."""
        return CursorConfig(
            start_cursor=start, end_cursor=end, step_size=step_size, metadata=metadata or {}
        )

    def create_cursor_ranges(
        self,
        total_items: int,
        batch_size: int,
        step_size: int = 1,
        max_batches: int | None = None,
    ) -> list[CursorConfig]:
        """Consecutive ``batch_size`` ranges covering ``total_items``; at most ``max_batches``."""
        if total_items == 0:
            return []
        if batch_size <= 0:
            raise ValueError("batch_size must be > 0")
        if max_batches and max_batches > 0 and -(-total_items // batch_size) > max_batches:
            batch_size = -(-total_items // max_batches)
        return [
            CursorConfig(
                start_cursor=start,
                end_cursor=min(start + batch_size, total_items),
                step_size=step_size,
            )
            for start in range(0, total_items, batch_size)
        ]

    def create_cursor_configs(self, total_items: int, worker_count: int) -> list[BatchWorkerConfig]:
        """Split ``total_items`` into ``worker_count`` near-equal ranges (ceiling division)."""
        if worker_count <= 0:
            raise ValueError("worker_count must be > 0")
        per_worker = -(-total_items // worker_count) if total_items else 0
        configs: list[BatchWorkerConfig] = []
        for index in range(worker_count):
            start = index * per_worker
            if start >= total_items:
                break
            end = min(start + per_worker, total_items)
            configs.append(
                BatchWorkerConfig(batch_id_for(index), start, end, end - start, index, worker_count)
            )
        return configs

    def create_batch_outcome(
        self,
        total_items: int,
        batch_size: int,
        step_size: int = 1,
        batch_metadata: dict[str, Any] | None = None,
    ) -> BatchAnalyzerOutcome:
        """An analyzer outcome with uniform batches."""
        return BatchAnalyzerOutcome(
            cursor_configs=self.create_cursor_ranges(total_items, batch_size, step_size),
            total_items=total_items,
            batch_metadata=batch_metadata or {},
        )

    def create_batch_outcome_from_ranges(
        self,
        ranges: list[tuple[int, int]],
        step_size: int = 1,
        total_items: int | None = None,
        batch_metadata: dict[str, Any] | None = None,
    ) -> BatchAnalyzerOutcome:
        """An analyzer outcome with explicit ``(start, end)`` ranges."""
        return BatchAnalyzerOutcome.from_ranges(ranges, step_size, total_items, batch_metadata)

    def batch_analyzer_success(
        self,
        outcome: BatchAnalyzerOutcome | None = None,
        metadata: dict[str, Any] | None = None,
        worker_template_name: str = "batch_worker",
        cursor_configs: list[CursorConfig] | None = None,
        total_items: int | None = None,
        batch_metadata: dict[str, Any] | None = None,
    ) -> StepHandlerResult:
        """The analyzer's result: ``create_batches`` for the configs, ``no_batches`` for none."""
        if cursor_configs is not None:
            configs, total, extra = cursor_configs, total_items or 0, batch_metadata or {}
        elif outcome is not None:
            configs, total = outcome.cursor_configs, outcome.total_items or 0
            extra = outcome.batch_metadata
        else:
            return self.no_batches_outcome(reason="no_cursor_configs_provided")
        if not configs:
            return self.no_batches_outcome(
                reason=extra.get("reason", "empty_dataset"), metadata=extra
            )
        result: dict[str, Any] = {
            "batch_processing_outcome": {
                "type": "create_batches",
                "worker_template_name": worker_template_name,
                "worker_count": len(configs),
                "cursor_configs": [
                    {
                        "batch_id": batch_id_for(index),
                        "start_cursor": config.start_cursor,
                        "end_cursor": config.end_cursor,
                        "batch_size": config.end_cursor - config.start_cursor,
                    }
                    for index, config in enumerate(configs)
                ],
                "total_items": total,
            },
            "worker_count": len(configs),
            "total_items": total,
        }
        if extra:
            result["batch_metadata"] = extra
        combined = metadata if metadata is not None else {}
        combined["batch_analyzer"] = True
        return _success(result, combined)

    def no_batches_outcome(
        self, reason: str, metadata: dict[str, Any] | None = None
    ) -> StepHandlerResult:
        """The analyzer found nothing to batch; the engine creates the ``_000`` no-op worker."""
        result: dict[str, Any] = {"batch_processing_outcome": {"type": "no_batches"}}
        result["reason"] = reason
        result.update(metadata or {})
        return _success(result, {"batch_analyzer": True, "no_batches": True})

    # -- worker side -----------------------------------------------------------------------

    def get_batch_worker_inputs(self, context: StepContext) -> RustBatchWorkerInputs | None:
        """The worker's ``workflow_step.inputs`` (cursor, batch_metadata, is_no_op), if any."""
        if not context.step_inputs:
            return None
        try:
            return RustBatchWorkerInputs.model_validate(context.step_inputs)
        except ValidationError:
            return None

    def get_batch_context(self, context: StepContext) -> BatchWorkerContext | None:
        """The batch this worker owns; None when the step has no batch inputs."""
        return BatchWorkerContext.from_step_context(context)

    def create_batch_context(
        self,
        cursor_config: CursorConfig,
        batch_index: int,
        total_batches: int,
        batch_metadata: dict[str, Any] | None = None,
    ) -> BatchWorkerContext:
        """A batch context built by hand (tests, programmatic use)."""
        return BatchWorkerContext(
            batch_id=str(uuid4()),
            cursor_config=cursor_config,
            batch_index=batch_index,
            total_batches=total_batches,
            batch_metadata=batch_metadata or {},
        )

    def handle_no_op_worker(self, context: StepContext) -> StepHandlerResult | None:
        """A success result for the no-op placeholder worker; None for a real batch."""
        inputs = self.get_batch_worker_inputs(context)
        if inputs is None or not inputs.is_no_op:
            return None
        return StepHandlerResult.success(
            {
                "batch_id": inputs.cursor.batch_id,
                "no_op": True,
                "processed_count": 0,
                "message": "No batches to process",
                "processed_at": datetime.now(UTC).isoformat(),
            }
        )

    def create_worker_outcome(
        self,
        items_processed: int,
        items_succeeded: int = 0,
        items_failed: int = 0,
        items_skipped: int = 0,
        results: list[dict[str, Any]] | None = None,
        errors: list[dict[str, Any]] | None = None,
        last_cursor: int | None = None,
        batch_metadata: dict[str, Any] | None = None,
    ) -> BatchWorkerOutcome:
        """A worker outcome; ``items_succeeded`` defaults to everything processed."""
        return BatchWorkerOutcome(
            items_processed=items_processed,
            items_succeeded=items_succeeded or items_processed,
            items_failed=items_failed,
            items_skipped=items_skipped,
            results=results or [],
            errors=errors or [],
            last_cursor=last_cursor,
            batch_metadata=batch_metadata or {},
        )

    def _worker_result(self, outcome: BatchWorkerOutcome) -> dict[str, Any]:
        result: dict[str, Any] = {
            "items_processed": outcome.items_processed,
            "items_succeeded": outcome.items_succeeded,
            "items_failed": outcome.items_failed,
            "items_skipped": outcome.items_skipped,
            "last_cursor": outcome.last_cursor,
            "batch_metadata": outcome.batch_metadata,
        }
        if outcome.results:
            result["results"] = outcome.results
        if outcome.errors:
            result["errors"] = outcome.errors
        return result

    def batch_worker_success(
        self,
        outcome: BatchWorkerOutcome | None = None,
        metadata: dict[str, Any] | None = None,
        items_processed: int | None = None,
        items_succeeded: int | None = None,
        items_failed: int = 0,
        items_skipped: int = 0,
        results: list[dict[str, Any]] | None = None,
        errors: list[dict[str, Any]] | None = None,
        last_cursor: int | None = None,
        batch_metadata: dict[str, Any] | None = None,
    ) -> StepHandlerResult:
        """The worker's result, from an outcome or from keyword arguments."""
        if items_processed is not None:
            outcome = BatchWorkerOutcome(
                items_processed=items_processed,
                items_succeeded=items_processed if items_succeeded is None else items_succeeded,
                items_failed=items_failed,
                items_skipped=items_skipped,
                results=results or [],
                errors=errors or [],
                last_cursor=last_cursor,
                batch_metadata=batch_metadata or {},
            )
        if outcome is None:
            return StepHandlerResult.failure(
                message="batch_worker_success requires either outcome or items_processed",
                error_type="invalid_args",
                retryable=False,
            )
        combined = metadata if metadata is not None else {}
        combined["batch_worker"] = True
        return _success(self._worker_result(outcome), combined)

    def batch_worker_partial_failure(
        self,
        outcome: BatchWorkerOutcome,
        message: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> StepHandlerResult:
        """A successful worker result that records item failures."""
        result = self._worker_result(outcome)
        result["partial_failure"] = True
        if message:
            result["partial_failure_message"] = message
        combined = metadata if metadata is not None else {}
        combined["batch_worker"] = True
        combined["had_failures"] = True
        return _success(result, combined)

    def checkpoint_yield(
        self,
        cursor: Any,
        items_processed: int,
        accumulated_results: dict[str, Any] | None = None,
    ) -> StepHandlerResult:
        """Save progress and ask to be called again from ``cursor`` (reference §6.4)."""
        result: dict[str, Any] = {
            "type": "checkpoint_yield",
            "cursor": cursor,
            "items_processed": items_processed,
        }
        if accumulated_results is not None:
            result["accumulated_results"] = accumulated_results
        return _success(result, {"checkpoint_yield": True, "batch_worker": True})

    # -- aggregator side -------------------------------------------------------------------

    def detect_aggregation_scenario(
        self,
        dependency_results: Mapping[str, Any],
        batchable_step_name: str,
        batch_worker_prefix: str,
    ) -> BatchAggregationScenario:
        """See ``BatchAggregationScenario.detect``."""
        return BatchAggregationScenario.detect(
            dependency_results, batchable_step_name, batch_worker_prefix
        )

    def no_batches_aggregation_result(
        self, zero_metrics: dict[str, Any] | None = None
    ) -> StepHandlerResult:
        """The aggregator's result when no batches ran."""
        return _success({"worker_count": 0, "scenario": "no_batches", **(zero_metrics or {})}, None)

    def aggregate_batch_worker_results(
        self,
        scenario: BatchAggregationScenario,
        zero_metrics: dict[str, Any] | None = None,
        aggregation_fn: Callable[[dict[str, dict[str, Any]]], dict[str, Any]] | None = None,
    ) -> StepHandlerResult:
        """The aggregator's result for either scenario; ``aggregation_fn`` folds the workers."""
        if scenario.is_no_batches:
            return self.no_batches_aggregation_result(zero_metrics)
        aggregated = (
            aggregation_fn(scenario.batch_results)
            if aggregation_fn is not None
            else {"batch_results": scenario.batch_results}
        )
        result = {**aggregated, "worker_count": scenario.worker_count, "scenario": "with_batches"}
        return _success(result, None)

    @staticmethod
    def aggregate_worker_results(worker_results: list[dict[str, Any] | None]) -> dict[str, Any]:
        """Totals over worker results, with ``success_rate`` and at most 100 errors."""
        totals = dict.fromkeys(("processed", "succeeded", "failed", "skipped"), 0)
        errors: list[dict[str, Any]] = []
        for result in worker_results:
            if result is None:
                continue
            for key in totals:
                totals[key] += result.get(f"items_{key}", 0)
            errors.extend(result.get("errors") or [])
        processed = totals["processed"]
        return {
            **{f"total_{key}": value for key, value in totals.items()},
            "batch_count": len(worker_results),
            "success_rate": totals["succeeded"] / processed if processed > 0 else 0.0,
            "errors": errors[:MAX_AGGREGATED_ERRORS],
            "error_count": len(errors),
        }


__all__ = [
    "BatchAggregationScenario",
    "BatchWorkerConfig",
    "Batchable",
    "RustCursorConfig",
    "batch_id_for",
    "create_batches_outcome",
    "create_no_batches_outcome",
]
