"""With tasker-py installed: tasker-ctl's SDK builds the same results as the real one.

Skipped unless tasker-py is importable; CI runs the suite a second time with it installed.
"""

from __future__ import annotations

import importlib.machinery
import os
import uuid
from typing import Any

import pytest

if importlib.machinery.PathFinder.find_spec("tasker_core") is None:
    pytest.skip("tasker-py is not installed", allow_module_level=True)

os.environ.setdefault("RUST_LOG", "warn")

import tasker_core
from tasker_core.batch_processing import Batchable as RealBatchable
from tasker_core.step_handler.mixins import DecisionMixin as RealDecisionMixin

from tasker_ctl import sdk
from tasker_ctl.handlers.payload import HandlerDefinition, build_context, build_payload
from tasker_ctl.sdk.batch_processing import Batchable
from tasker_ctl.sdk.step_handler.mixins import DecisionMixin


def _pair(mixin: type, real_mixin: type) -> tuple[Any, Any]:
    class Ours(mixin, sdk.StepHandler):  # type: ignore[misc, valid-type]
        handler_name = "h"

        def call(self, context: Any) -> Any:
            return None

    class Theirs(real_mixin, tasker_core.StepHandler):  # type: ignore[misc, valid-type]
        handler_name = "h"

        def call(self, context: Any) -> Any:
            return None

    return Ours(), Theirs()


def dumped(result: Any) -> dict[str, Any]:
    data: dict[str, Any] = result.model_dump(by_alias=True)
    return data


@pytest.mark.parametrize(
    "build",
    [
        lambda h: h.decision_success(["a", "b"], routing_context={"k": 1}),
        lambda h: h.skip_branches("none", routing_context={"k": 2}),
        lambda h: h.decision_failure("bad"),
    ],
)
def test_decision_builders_match(build: Any) -> None:
    ours, theirs = _pair(DecisionMixin, RealDecisionMixin)

    assert dumped(build(ours)) == dumped(build(theirs))


@pytest.mark.parametrize(
    "build",
    [
        lambda h: h.batch_analyzer_success(
            h.create_batch_outcome(450, 200, batch_metadata={"m": 1}), worker_template_name="w"
        ),
        lambda h: h.batch_analyzer_success(h.create_batch_outcome(0, 200)),
        lambda h: h.batch_worker_success(items_processed=5, items_failed=1, errors=[{"i": 1}]),
        lambda h: h.checkpoint_yield(7, 7, {"sum": 3}),
        lambda h: h.no_batches_aggregation_result({"total": 0}),
    ],
)
def test_batch_builders_match(build: Any) -> None:
    ours, theirs = _pair(Batchable, RealBatchable)

    assert dumped(build(ours)) == dumped(build(theirs))


def test_cursor_configs_match() -> None:
    ours, theirs = _pair(Batchable, RealBatchable)

    assert [c.to_dict() for c in ours.create_cursor_configs(1000, 3)] == [
        c.to_dict() for c in theirs.create_cursor_configs(1000, 3)
    ]


def test_runner_builds_a_real_step_context() -> None:
    payload = build_payload(
        task_uuid=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        task_name="t",
        task_version="1.0.0",
        namespace="n",
        context={"a": 1},
        step_uuid=str(uuid.uuid4()),
        step_name="s_001",
        template_step_name="s",
        attempts=1,
        max_attempts=3,
        checkpoint={"cursor": 4, "items_processed": 4},
        dependency_results={"p": (str(uuid.uuid4()), {"x": 2})},
        handler=HandlerDefinition("h", initialization={"c": 3}),
    )

    context = build_context(payload, "h")

    assert type(context) is tasker_core.StepContext
    assert (context.get_input("a"), context.get_config("c")) == (1, 3)
    assert context.get_dependency_result("p") == {"x": 2}
    assert (context.retry_count, context.checkpoint_cursor) == (1, 4)
    assert context.task_sequence_step.workflow_step.name == "s_001"
