"""Decision, batch and checkpoint result builders of tasker-ctl's SDK (reference §5.7, §6)."""

from __future__ import annotations

import uuid
from types import MappingProxyType
from typing import Any

import pytest

from tasker_ctl.sdk.batch_processing import Batchable, BatchAggregationScenario
from tasker_ctl.sdk.models import TaskSequenceStepWrapper
from tasker_ctl.sdk.step_handler import StepHandler
from tasker_ctl.sdk.step_handler.mixins import DecisionMixin
from tasker_ctl.sdk.types import FfiStepEvent, StepContext, StepHandlerResult


class Router(DecisionMixin, StepHandler):
    handler_name = "router"
    handler_version = "1.2.0"

    def call(self, context: StepContext) -> StepHandlerResult:
        return self.decision_success(["a"])


class Batcher(Batchable, StepHandler):
    handler_name = "batcher"

    def call(self, context: StepContext) -> StepHandlerResult:
        return self.success()


def worker_context(inputs: dict[str, Any], checkpoint: dict[str, Any] | None = None) -> Any:
    event = FfiStepEvent(
        event_id="e",
        task_uuid=str(uuid.uuid4()),
        step_uuid=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        task_sequence_step={"workflow_step": {"inputs": inputs, "checkpoint": checkpoint}},
    )
    return StepContext.from_ffi_event(event, "w")


def test_decision_results() -> None:
    router = Router()

    routed = router.route_to_steps(["b", "c"], routing_context={"amount": 10})
    skipped = router.skip_branches("nothing to do")
    failed = router.decision_failure("no tier")

    assert routed.result == {
        "decision_point_outcome": {"type": "create_steps", "step_names": ["b", "c"]},
        "routing_context": {"amount": 10},
    }
    assert routed.metadata == {"decision_handler": "router", "decision_version": "1.2.0"}
    assert skipped.result == {
        "decision_point_outcome": {"type": "no_branches"},
        "reason": "nothing to do",
    }
    assert (failed.error_type, failed.retryable) == ("decision_error", False)


def test_analyzer_success_creates_numbered_batches() -> None:
    batcher = Batcher()

    result = batcher.batch_analyzer_success(
        batcher.create_batch_outcome(total_items=450, batch_size=200),
        worker_template_name="process_batch",
    )

    assert result.metadata == {"batch_analyzer": True}
    assert result.result == {
        "batch_processing_outcome": {
            "type": "create_batches",
            "worker_template_name": "process_batch",
            "worker_count": 3,
            "cursor_configs": [
                {"batch_id": "001", "start_cursor": 0, "end_cursor": 200, "batch_size": 200},
                {"batch_id": "002", "start_cursor": 200, "end_cursor": 400, "batch_size": 200},
                {"batch_id": "003", "start_cursor": 400, "end_cursor": 450, "batch_size": 50},
            ],
            "total_items": 450,
        },
        "worker_count": 3,
        "total_items": 450,
    }


def test_empty_analysis_means_no_batches() -> None:
    result = Batcher().batch_analyzer_success(cursor_configs=[], total_items=0)

    assert result.result == {
        "batch_processing_outcome": {"type": "no_batches"},
        "reason": "empty_dataset",
    }
    assert result.metadata == {"batch_analyzer": True, "no_batches": True}


def test_cursor_helpers() -> None:
    batcher = Batcher()

    configs = batcher.create_cursor_configs(1000, 3)
    capped = batcher.create_cursor_ranges(1000, 100, max_batches=4)

    assert [(c.batch_id, c.cursor_start, c.cursor_end) for c in configs] == [
        ("001", 0, 334),
        ("002", 334, 668),
        ("003", 668, 1000),
    ]
    assert [(c.start_cursor, c.end_cursor) for c in capped] == [
        (0, 250),
        (250, 500),
        (500, 750),
        (750, 1000),
    ]
    with pytest.raises(ValueError, match="worker_count"):
        batcher.create_cursor_configs(10, 0)


def test_worker_context_and_no_op() -> None:
    batcher = Batcher()
    inputs = {
        "cursor": {"batch_id": "002", "start_cursor": 200, "end_cursor": 400, "batch_size": 200},
        "batch_metadata": {"cursor_field": "id", "failure_strategy": "fail_fast"},
        "is_no_op": False,
    }
    no_op_inputs = {**inputs, "cursor": {**inputs["cursor"], "batch_id": "000"}, "is_no_op": True}

    batch = batcher.get_batch_context(
        worker_context(inputs, {"cursor": 250, "items_processed": 50})
    )
    no_op = batcher.handle_no_op_worker(worker_context(no_op_inputs))

    assert batch is not None
    assert (batch.batch_id, batch.start_cursor, batch.end_cursor) == ("002", 200, 400)
    assert batch.batch_metadata == {"cursor_field": "id", "failure_strategy": "fail_fast"}
    assert (batch.has_checkpoint(), batch.checkpoint_cursor, batch.checkpoint_items_processed) == (
        True,
        250,
        50,
    )
    assert batcher.get_batch_context(worker_context({})) is None
    assert batcher.handle_no_op_worker(worker_context(inputs)) is None
    assert no_op is not None
    assert no_op.result is not None
    assert (no_op.result["batch_id"], no_op.result["no_op"]) == ("000", True)


def test_worker_success_and_checkpoint_yield() -> None:
    batcher = Batcher()

    done = batcher.batch_worker_success(items_processed=10, items_failed=1, last_cursor=10)
    yielded = batcher.checkpoint_yield(cursor=5, items_processed=5, accumulated_results={"s": 3})

    assert done.result == {
        "items_processed": 10,
        "items_succeeded": 10,
        "items_failed": 1,
        "items_skipped": 0,
        "last_cursor": 10,
        "batch_metadata": {},
    }
    assert done.metadata == {"batch_worker": True}
    assert yielded.is_success
    assert yielded.result == {
        "type": "checkpoint_yield",
        "cursor": 5,
        "items_processed": 5,
        "accumulated_results": {"s": 3},
    }
    assert yielded.metadata == {"checkpoint_yield": True, "batch_worker": True}


def test_aggregation() -> None:
    deps = {
        "analyze": {"result": {"batch_processing_outcome": {"type": "create_batches"}}},
        "work_001": {"result": {"items_processed": 4, "items_succeeded": 3, "errors": [{"i": 1}]}},
        "work_002": {"result": {"items_processed": 4, "items_succeeded": 4}},
    }
    scenario = BatchAggregationScenario.detect(deps, "analyze", "work_")
    no_batches = BatchAggregationScenario.detect(
        {"analyze": {"result": {"batch_processing_outcome": {"type": "no_batches"}}}},
        "analyze",
        "work_",
    )

    totals = Batchable.aggregate_worker_results(list(scenario.batch_results.values()))

    assert (scenario.worker_count, no_batches.no_batches()) == (2, True)
    assert (totals["total_processed"], totals["total_succeeded"]) == (8, 7)
    assert totals["success_rate"] == 7 / 8
    assert totals["error_count"] == 1
    assert Batcher().aggregate_batch_worker_results(no_batches, {"total": 0}).result == {
        "worker_count": 0,
        "scenario": "no_batches",
        "total": 0,
    }
    with pytest.raises(ValueError, match="No batch workers found"):
        BatchAggregationScenario.detect({"analyze": {"result": {}}}, "analyze", "work_")


def test_aggregation_reads_any_mapping_of_dependency_results() -> None:
    """The engine hands handlers a lazy Mapping, not a dict; tasker-py reads it like a dict."""
    deps = {
        "analyze": {"result": {"batch_processing_outcome": {"type": "create_batches"}}},
        "work_001": {"result": {"items_processed": 4}},
    }
    lazy = MappingProxyType(deps)

    scenario = BatchAggregationScenario.detect(lazy, "analyze", "work_")
    wrapper = TaskSequenceStepWrapper.from_dict({"dependency_results": lazy})

    assert scenario.batch_results == {"work_001": {"items_processed": 4}}
    assert wrapper.get_dependency_result("work_001") == {"items_processed": 4}
