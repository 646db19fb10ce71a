"""A batch worker that saves progress with checkpoint yields (reference §6.4, §12.1).

``analyze_items`` plans one batch over ``total_items``; ``checkpoint_yield_batch`` adds the item
numbers 1..N to a running total, ``items_per_checkpoint`` at a time, yielding a checkpoint after
each chunk (``Batchable.checkpoint_yield``), so the engine calls it again from the cursor it
saved. Test inputs: ``fail_after_items`` with ``fail_on_attempt`` raises a retryable error once
that many items are done on that attempt (the retry resumes from the last checkpoint);
``permanent_failure: true`` fails at once.
"""

from __future__ import annotations

from tasker_core import StepContext, StepHandler, StepHandlerResult
from tasker_core.batch_processing import Batchable
from tasker_core.errors import PermanentError, RetryableError

WORKER_PREFIX = "checkpoint_yield_batch_"


class AnalyzeItemsHandler(Batchable, StepHandler):
    """One batch over all the items, or none when there are none."""

    handler_name = "checkpoints.analyze_items"

    def call(self, context: StepContext) -> StepHandlerResult:
        total = int(context.get_input_or("total_items", 0))
        ranges = self.create_cursor_ranges(total, max(total, 1))
        return self.batch_analyzer_success(
            cursor_configs=ranges,
            total_items=total,
            worker_template_name="checkpoint_yield_batch",
        )


class CheckpointYieldBatchHandler(Batchable, StepHandler):
    """Sums item numbers a chunk per call, resuming from the saved checkpoint."""

    handler_name = "checkpoints.checkpoint_yield_batch"

    def call(self, context: StepContext) -> StepHandlerResult:
        no_op = self.handle_no_op_worker(context)
        if no_op is not None:
            return no_op
        if context.get_input("permanent_failure"):
            raise PermanentError(message="permanent failure requested by the input")
        batch = self.get_batch_context(context)
        if batch is None:
            raise PermanentError(message="batch worker started without batch inputs")
        per_checkpoint = int(context.get_input_or("items_per_checkpoint", 25))
        resumed = batch.has_checkpoint()
        cursor = int(batch.checkpoint_cursor) if resumed else int(batch.start_cursor)
        processed = batch.checkpoint_items_processed
        carried = batch.accumulated_results or {}
        running_total = int(carried.get("running_total", 0))
        resumed_from = list(carried.get("resumed_from", []))
        if resumed and context.retry_count > int(carried.get("attempt", 0)):
            resumed_from.append(cursor)  # a retry picked up where the failed attempt saved
        end = min(cursor + per_checkpoint, int(batch.end_cursor))
        fail_after = context.get_input("fail_after_items")
        fail_on_attempt = int(context.get_input_or("fail_on_attempt", 1))
        for item in range(cursor, end):
            failing_attempt = context.retry_count + 1 == fail_on_attempt
            if fail_after is not None and processed >= int(fail_after) and failing_attempt:
                raise RetryableError(message=f"injected failure after {processed} items")
            running_total += item + 1
            processed += 1
        carried = {
            "running_total": running_total,
            "resumed_from": resumed_from,
            "attempt": context.retry_count,
        }
        if end < int(batch.end_cursor):
            return self.checkpoint_yield(end, processed, accumulated_results=carried)
        return self.batch_worker_success(
            items_processed=processed,
            items_succeeded=processed,
            last_cursor=end,
            batch_metadata={"running_total": running_total, "resumed_from": resumed_from},
        )


class AggregateResultsHandler(Batchable, StepHandler):
    """Converges: the total processed and the running total of every worker."""

    handler_name = "checkpoints.aggregate_results"

    def call(self, context: StepContext) -> StepHandlerResult:
        scenario = self.detect_aggregation_scenario(
            dict(context.dependency_results), "analyze_items", WORKER_PREFIX
        )
        return self.aggregate_batch_worker_results(
            scenario,
            zero_metrics={"total_processed": 0, "running_total": 0},
            aggregation_fn=lambda results: {
                "total_processed": sum(r["items_processed"] for r in results.values()),
                "running_total": sum(
                    r["batch_metadata"]["running_total"] for r in results.values()
                ),
            },
        )
