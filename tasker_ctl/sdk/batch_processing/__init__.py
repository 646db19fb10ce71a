"""Batch processing helpers (``tasker_core.batch_processing``)."""

from __future__ import annotations

from tasker_ctl.sdk.batch_processing.batchable import (
    Batchable,
    BatchAggregationScenario,
    BatchWorkerConfig,
)

__all__ = ["BatchAggregationScenario", "BatchWorkerConfig", "Batchable"]
