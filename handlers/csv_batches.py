"""CSV inventory in batches: an analyzer splits the rows, workers sum them, a step aggregates.

Reference §6.3 and §12.1 (``batch_processing_py``): the analyzer counts the rows and returns one
cursor range per ``batch_size`` rows (``Batchable.batch_analyzer_success``); the engine creates a
worker ``process_csv_batch_001`` … per range, or the no-op ``process_csv_batch_000`` for an empty
file; the convergence step folds the workers' results. Relative CSV paths are read from the
current directory. A ``fail_batches`` input (batch ids) makes those workers fail permanently,
to show the batch's ``failure_strategy``.
"""

from __future__ import annotations

import csv
from itertools import islice
from pathlib import Path
from typing import Any

from tasker_core import StepContext, StepHandler, StepHandlerResult
from tasker_core.batch_processing import Batchable
from tasker_core.errors import PermanentError

WORKER_PREFIX = "process_csv_batch_"


def _rows(path: str) -> csv.DictReader[str]:
    return csv.DictReader(Path(path).open(encoding="utf-8", newline=""))


class AnalyzeCsvHandler(Batchable, StepHandler):
    """Counts the data rows and plans batches of ``batch_size`` (step configuration)."""

    handler_name = "csv_batches.analyze_csv"

    def call(self, context: StepContext) -> StepHandlerResult:
        path = context.get_input("csv_file_path")
        if not path or not Path(path).is_file():
            raise PermanentError(message=f"CSV file not found: {path!r}")
        total = sum(1 for _ in _rows(path))
        config = context.step_config or {}
        ranges = self.create_cursor_ranges(total, int(config.get("batch_size", 200)))
        return self.batch_analyzer_success(
            cursor_configs=ranges,
            total_items=total,
            worker_template_name=config.get("worker_template_name", "process_csv_batch"),
            batch_metadata={"csv_file_path": path},
        )


class ProcessCsvBatchHandler(Batchable, StepHandler):
    """Reads rows ``[start_cursor, end_cursor)`` and totals their inventory value."""

    handler_name = "csv_batches.process_csv_batch"

    def call(self, context: StepContext) -> StepHandlerResult:
        no_op = self.handle_no_op_worker(context)
        if no_op is not None:
            return no_op
        batch = self.get_batch_context(context)
        if batch is None:
            raise PermanentError(message="batch worker started without batch inputs")
        if batch.batch_id in (context.get_input("fail_batches") or []):
            raise PermanentError(message=f"batch {batch.batch_id} refused (fail_batches)")
        start, end = int(batch.start_cursor), int(batch.end_cursor)
        value = 0.0
        count = 0
        for row in islice(_rows(context.get_input("csv_file_path")), start, end):
            value += float(row["price"]) * int(row["quantity"])
            count += 1
        return self.batch_worker_success(
            items_processed=count,
            items_succeeded=count,
            last_cursor=end,
            batch_metadata={"batch_id": batch.batch_id, "inventory_value": round(value, 2)},
        )


class AggregateCsvResultsHandler(Batchable, StepHandler):
    """Converges: totals the workers (or reports that there were no batches)."""

    handler_name = "csv_batches.aggregate_csv_results"

    def call(self, context: StepContext) -> StepHandlerResult:
        scenario = self.detect_aggregation_scenario(
            dict(context.dependency_results), "analyze_csv", WORKER_PREFIX
        )

        def fold(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
            totals = self.aggregate_worker_results(list(results.values()))
            value = sum(
                (r.get("batch_metadata") or {}).get("inventory_value", 0.0)
                for r in results.values()
            )
            return {
                **totals,
                "inventory_value": round(value, 2),
                "failed_batches": sorted(n for n, r in results.items() if r.get("batch_failed")),
            }

        return self.aggregate_batch_worker_results(
            scenario,
            zero_metrics={"total_processed": 0, "inventory_value": 0.0},
            aggregation_fn=fold,
        )
