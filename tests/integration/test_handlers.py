"""Resolving ``handler.callable`` strings and running real handler modules on §5.3 payloads.

Runs against whichever ``tasker_core`` is active: tasker-ctl's own SDK in the project venv, the
real tasker-py when CI installs it. The seed handlers are the repository's own ``handlers/``
package (the seed code, unchanged); test-only handlers are in ``tests/fixtures/case_handlers``.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tasker_ctl.errors import NotFoundError
from tasker_ctl.handlers.invoke import ResolvedHandler, UnresolvedHandler
from tasker_ctl.handlers.outcome import StepOutcome
from tasker_ctl.handlers.payload import HandlerDefinition, build_payload
from tasker_ctl.handlers.registry import HandlerImportError, HandlerRegistry

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REPOSITORY = Path(__file__).resolve().parents[2]
SEED_CART = [
    {"sku": "WIDGET-A", "name": "Widget A", "quantity": 2, "unit_price": 29.99},
    {"sku": "GADGET-B", "name": "Gadget B", "quantity": 1, "unit_price": 49.99},
]
ECOMMERCE_STEPS = {
    "validate_cart": [],
    "process_payment": ["validate_cart"],
    "update_inventory": ["validate_cart"],
    "create_order": ["validate_cart", "process_payment", "update_inventory"],
    "send_confirmation": ["validate_cart", "process_payment", "update_inventory", "create_order"],
}


def _forget_modules(prefixes: tuple[str, ...]) -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in prefixes:
            del sys.modules[name]


@pytest.fixture
def isolated_imports(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Restore sys.path and forget the test handler packages afterwards."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    prefixes = ("handlers", "case_handlers", "proj_handlers", "broken_pkg")
    _forget_modules(prefixes)
    yield
    _forget_modules(prefixes)


@pytest.fixture
def registry(isolated_imports: None) -> HandlerRegistry:
    # The seed handlers are the repository's own handlers/ package; test-only cases live in
    # tests/fixtures/case_handlers (on the path through pytest's pythonpath setting).
    registry = HandlerRegistry(root=REPOSITORY)
    registry.discover("handlers")
    registry.discover("case_handlers")
    return registry


def payload_for(
    step: str,
    context: Mapping[str, Any],
    *,
    callable_name: str,
    results: Mapping[str, Any] | None = None,
    attempts: int = 0,
    max_attempts: int = 3,
    method: str | None = None,
    initialization: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Any] | None = None,
    checkpoint: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return build_payload(
        task_uuid=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        task_name="test_task",
        task_version="1.0.0",
        namespace="tests",
        context=context,
        step_uuid=str(uuid.uuid4()),
        step_name=step,
        template_step_name=step,
        attempts=attempts,
        max_attempts=max_attempts,
        inputs=inputs,
        checkpoint=checkpoint,
        dependency_results={
            name: (str(uuid.uuid4()), value) for name, value in (results or {}).items()
        },
        handler=HandlerDefinition(callable_name, method, None, initialization or {}),
    )


def run(
    registry: HandlerRegistry,
    callable_name: str,
    context: Mapping[str, Any] | None = None,
    **options: Any,
) -> StepOutcome:
    method = options.get("method")
    definition = HandlerDefinition(callable_name, method, None, options.get("initialization", {}))
    handler = registry.resolve(definition)
    return handler.invoke(
        payload_for("step", context or {}, callable_name=callable_name, **options)
    )


def run_ecommerce(registry: HandlerRegistry, context: Mapping[str, Any]) -> dict[str, StepOutcome]:
    """Every step in order, each seeing all its transitive ancestors' results (§5.3)."""
    results: dict[str, Any] = {}
    outcomes: dict[str, StepOutcome] = {}
    for step, ancestors in ECOMMERCE_STEPS.items():
        callable_name = f"handlers.ecommerce.{_class_name(step)}"
        handler = registry.resolve(HandlerDefinition(callable_name))
        payload = payload_for(
            step,
            context,
            callable_name=callable_name,
            results={name: results[name] for name in ancestors},
        )
        outcome = handler.invoke(payload)
        outcomes[step] = outcome
        if not outcome.success:
            break
        results[step] = outcome.result
    return outcomes


def _class_name(step: str) -> str:
    return "".join(part.title() for part in step.split("_")) + "Handler"


# -- the seed workflows -------------------------------------------------------------------------


def test_seed_checkout_runs_end_to_end_with_the_documented_totals(
    registry: HandlerRegistry,
) -> None:
    context = {"customer_email": "customer@example.com", "cart_items": SEED_CART}
    outcomes = run_ecommerce(registry, context)

    assert all(outcome.success for outcome in outcomes.values())
    cart = outcomes["validate_cart"].result
    assert cart is not None
    assert (cart["subtotal"], cart["tax"], cart["shipping"], cart["total"]) == (
        109.97,
        8.8,
        0.0,
        118.77,
    )
    order = outcomes["create_order"].result
    assert order is not None
    assert order["total"] == 118.77
    assert order["payment_id"] == "pay_abc123"
    assert order["inventory_log_id"] == "log_inv_001"
    confirmation = outcomes["send_confirmation"].result
    assert confirmation == {
        "email_sent": True,
        "recipient": "customer@example.com",
        "subject": "Order Confirmation - ORD-20260218-ABC",
        "status": "sent",
    }


def test_seed_cli_example_with_one_widget_line_adds_shipping(registry: HandlerRegistry) -> None:
    outcome = run(registry, "validate_cart", {"cart_items": SEED_CART[:1]})

    assert outcome.success
    assert outcome.result is not None
    assert (outcome.result["subtotal"], outcome.result["tax"], outcome.result["total"]) == (
        59.98,
        4.8,
        74.77,
    )
    assert outcome.result["shipping"] == 9.99


def test_declined_payment_is_a_permanent_failure_with_its_code(registry: HandlerRegistry) -> None:
    context = {"cart_items": SEED_CART, "payment_token": "tok_test_declined"}
    outcomes = run_ecommerce(registry, context)

    payment = outcomes["process_payment"]
    assert not payment.success
    assert payment.retryable is False
    assert payment.error_code == "PAYMENT_DECLINED"
    assert payment.error_type == "permanent_error"
    assert "create_order" not in outcomes


def test_gateway_error_is_retryable(registry: HandlerRegistry) -> None:
    context = {"cart_items": SEED_CART, "payment_token": "tok_test_gateway_error"}
    payment = run_ecommerce(registry, context)["process_payment"]

    assert not payment.success
    assert payment.retryable is True
    assert payment.error_code == "GATEWAY_ERROR"
    assert payment.error_type == "retryable_error"


def test_empty_cart_is_a_validation_failure(registry: HandlerRegistry) -> None:
    outcome = run(registry, "validate_cart", {"cart_items": []})

    assert (outcome.success, outcome.error_type, outcome.error_code, outcome.retryable) == (
        False,
        "validation_error",
        "EMPTY_CART",
        False,
    )


def test_order_workflow_bare_callables_resolve_by_registered_name(
    registry: HandlerRegistry,
) -> None:
    context = {
        "order_id": "ORD-12345",
        "customer_email": "customer@example.com",
        "items": [
            {"sku": "WIDGET-A", "price": 29.99, "quantity": 2},
            {"sku": "GADGET-B", "price": 49.99, "quantity": 1},
        ],
    }
    validate = run(registry, "ValidateOrderHandler", context)
    assert validate.success
    assert validate.result is not None
    reserve = run(
        registry,
        "ReserveInventoryHandler",
        context,
        results={"validate_order": validate.result},
    )
    charge = run(
        registry,
        "ChargePaymentHandler",
        context,
        results={"validate_order": validate.result, "reserve_inventory": reserve.result},
    )

    assert validate.result["total"] == pytest.approx(109.97)
    assert charge.success
    assert charge.result is not None
    assert charge.result["amount"] == validate.result["total"]


def test_order_without_order_id_raises_permanent_error_that_is_not_retried(
    registry: HandlerRegistry,
) -> None:
    outcome = run(registry, "ValidateOrderHandler", {"items": [{"price": 1, "quantity": 1}]})

    assert not outcome.success
    assert outcome.retryable is False
    assert outcome.error_type == "permanent_error"
    assert outcome.error_code == "MISSING_INPUT"
    assert outcome.error_message == "Missing order_id or items"
    assert outcome.metadata["exception_type"] == "PermanentError"
    assert "orders.py" in outcome.metadata["traceback"]


# -- discovery and resolution -------------------------------------------------------------------


def test_discovery_registers_classes_and_dsl_functions_by_name(registry: HandlerRegistry) -> None:
    names = registry.names()

    assert {"validate_cart", "ValidateOrderHandler", "dsl_total", "route_by_amount"} <= set(names)
    assert "plain_function" not in names
    assert registry.discovered_modules == ["handlers", "case_handlers"]


def test_import_paths_resolve_classes_functions_and_colon_attributes(
    registry: HandlerRegistry,
) -> None:
    for callable_name in (
        "case_handlers.cases.Refunds",
        "case_handlers.cases.plain_function",
        "case_handlers.cases:plain_function",
        "case_handlers.cases.dsl_total",
    ):
        assert isinstance(registry.resolve(HandlerDefinition(callable_name)), ResolvedHandler)


def test_unknown_callable_names_what_was_tried(registry: HandlerRegistry) -> None:
    handler = registry.resolve(HandlerDefinition("handlers.nowhere.Missing"))

    assert isinstance(handler, UnresolvedHandler)
    outcome = handler.invoke({})
    assert outcome.error_type == "handler_not_found"
    assert outcome.retryable is False
    message = outcome.error_message or ""
    assert "'handlers.nowhere.Missing'" in message
    assert "packages searched: handlers" in message
    assert "modules tried: handlers.nowhere, handlers (no attribute 'nowhere.Missing')" in message


def test_misspelt_registered_name_gets_a_suggestion(registry: HandlerRegistry) -> None:
    handler = registry.resolve(HandlerDefinition("validate_crat"))

    assert isinstance(handler, UnresolvedHandler)
    assert "validate_cart" in handler.message


def test_resolver_hint_restricts_resolution(registry: HandlerRegistry) -> None:
    by_name_only = registry.resolve(
        HandlerDefinition("handlers.ecommerce.ValidateCartHandler", resolver="explicit_mapping")
    )
    by_path_only = registry.resolve(HandlerDefinition("validate_cart", resolver="class_lookup"))
    unknown = registry.resolve(HandlerDefinition("validate_cart", resolver="magic"))

    assert not by_name_only.ok
    assert not by_path_only.ok
    assert isinstance(unknown, UnresolvedHandler)
    assert "unknown resolver 'magic'" in unknown.message


def test_missing_method_is_a_permanent_failure_naming_it(registry: HandlerRegistry) -> None:
    handler = registry.resolve(HandlerDefinition("refunds", method="reverse"))

    outcome = handler.invoke({})
    assert outcome.error_type == "method_not_found"
    assert outcome.retryable is False
    assert "'reverse'" in (outcome.error_message or "")


def test_method_dispatch_calls_the_named_method_with_step_config(
    registry: HandlerRegistry,
) -> None:
    outcome = run(registry, "refunds", method="refund", initialization={"limit": 5})

    assert outcome.result == {"via": "refund", "config": {"limit": 5}}


def test_missing_package_is_not_found(isolated_imports: None, tmp_path: Path) -> None:
    registry = HandlerRegistry(root=tmp_path)

    with pytest.raises(NotFoundError, match="handler module 'proj_handlers' not found"):
        registry.discover("proj_handlers")


def test_broken_submodule_is_reported_with_module_and_exception(
    isolated_imports: None, tmp_path: Path
) -> None:
    package = tmp_path / "broken_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "good.py").write_text("VALUE = 1\n")
    (package / "bad.py").write_text("raise RuntimeError('database URL missing')\n")
    registry = HandlerRegistry(root=tmp_path)

    with pytest.raises(HandlerImportError) as raised:
        registry.discover("broken_pkg")
    assert raised.value.message.startswith(
        "handler module 'broken_pkg.bad' failed to import: RuntimeError: database URL missing at "
    )
    assert raised.value.location is not None
    assert raised.value.location.endswith("bad.py:1")
    assert raised.value.exit_code == 78


def test_module_failing_to_import_fails_resolution_with_its_error(
    isolated_imports: None, tmp_path: Path
) -> None:
    (tmp_path / "proj_handlers.py").write_text("import no_such_dependency_xyz\n")
    registry = HandlerRegistry(root=tmp_path)

    handler = registry.resolve(HandlerDefinition("proj_handlers.Step"))

    assert isinstance(handler, UnresolvedHandler)
    assert "proj_handlers" in handler.message
    assert "ModuleNotFoundError" in handler.message
    assert "no_such_dependency_xyz" in handler.message


def test_two_classes_claiming_one_name_are_refused(isolated_imports: None, tmp_path: Path) -> None:
    package = tmp_path / "proj_handlers"
    package.mkdir()
    (package / "__init__.py").write_text("")
    source = (
        "from tasker_core import StepHandler\n"
        "class Same(StepHandler):\n"
        "    handler_name = 'same'\n"
        "    def call(self, context):\n"
        "        return {}\n"
    )
    (package / "a.py").write_text(source)
    (package / "b.py").write_text(source)
    registry = HandlerRegistry(root=tmp_path)

    with pytest.raises(Exception, match="handler name 'same' is defined twice"):
        registry.discover("proj_handlers")


def test_current_directory_is_importable(
    isolated_imports: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "proj_handlers.py").write_text(
        "def shout(context):\n    return {'word': context.get_input('word').upper()}\n"
    )
    monkeypatch.chdir(tmp_path)

    outcome = run(HandlerRegistry(), "proj_handlers.shout", {"word": "hi"})

    assert outcome.result == {"word": "HI"}


# -- running handlers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("callable_name", "context", "expected"),
    [
        ("async_doubler", {"n": 21}, {"doubled": 42}),
        ("case_handlers.cases.plain_function", {"name": "ada"}, {"greeting": "hello ada"}),
        ("case_handlers.cases.async_plain_function", {}, {"async": True}),
        ("case_handlers.cases.returns_list", {}, {"result": [1, 2, 3]}),
        ("returns_model", {}, {"total": 9.5, "issued": "2026-03-01"}),
    ],
)
def test_return_values_are_normalised(
    registry: HandlerRegistry, callable_name: str, context: dict[str, Any], expected: Any
) -> None:
    outcome = run(registry, callable_name, context)

    assert outcome.success, outcome.error_message
    assert outcome.result == expected


def test_constructor_with_config_gets_initialization(registry: HandlerRegistry) -> None:
    outcome = run(registry, "configured", initialization={"threshold": 7})

    assert outcome.result == {"threshold": 7}


@pytest.mark.parametrize(
    ("callable_name", "error_type", "retryable", "error_code"),
    [
        ("declines", "permanent_error", False, "DECLINED"),
        ("flaky", "retryable_error", True, None),
        ("buggy", "handler_error", True, None),
        ("foreign_permanent", "handler_error", False, None),
        ("gateway_timeout", "timeout", True, "GW_TIMEOUT"),
        ("case_handlers.cases.raises_retryable", "retryable_error", True, None),
    ],
)
def test_failures_map_to_type_retryability_and_code(
    registry: HandlerRegistry,
    callable_name: str,
    error_type: str,
    retryable: bool,
    error_code: str | None,
) -> None:
    outcome = run(registry, callable_name)

    assert not outcome.success
    assert (outcome.error_type, outcome.retryable, outcome.error_code) == (
        error_type,
        retryable,
        error_code,
    )


def test_exception_metadata_is_kept(registry: HandlerRegistry) -> None:
    declined = run(registry, "declines")
    flaky = run(registry, "flaky")
    buggy = run(registry, "buggy")

    assert declined.metadata["card"] == "visa"
    assert flaky.metadata["retry_after"] == 5
    assert buggy.metadata["exception_type"] == "KeyError"
    assert "KeyError" in buggy.metadata["traceback"]


def test_dsl_permanent_error_keeps_its_code(registry: HandlerRegistry) -> None:
    outcome = run(registry, "dsl_permanent")

    assert (outcome.error_type, outcome.retryable, outcome.error_code) == (
        "permanent_error",
        False,
        "NOPE",
    )


def test_non_json_result_fails_permanently_naming_the_field(registry: HandlerRegistry) -> None:
    outcome = run(registry, "returns_datetime")

    assert not outcome.success
    assert outcome.error_type == "result_not_serializable"
    assert outcome.retryable is False
    assert "result['at']: datetime" in (outcome.error_message or "")


def test_dsl_injects_transitive_dependency_and_input(registry: HandlerRegistry) -> None:
    outcome = run(
        registry,
        "dsl_total",
        {"currency": "EUR"},
        results={"validate_cart": {"total": 118.77}},
    )

    assert outcome.result == {"total": 118.77, "currency": "EUR"}


def test_step_name_and_retry_state_come_from_the_payload(registry: HandlerRegistry) -> None:
    outcome = run(registry, "reads_step_name", attempts=2, max_attempts=3)

    assert outcome.result == {"step": "step", "retry": True, "last": True}


def test_decision_handler_outcomes(registry: HandlerRegistry) -> None:
    big = run(registry, "route_by_amount", {"amount": 5000})
    nothing = run(registry, "route_by_amount", {"amount": 0})

    assert big.result == {
        "decision_point_outcome": {
            "type": "create_steps",
            "step_names": ["manager_approval", "finance_review"],
        },
        "routing_context": {"amount": 5000},
    }
    assert big.metadata["decision_handler"] == "route_by_amount"
    assert nothing.result == {
        "decision_point_outcome": {"type": "no_branches"},
        "reason": "nothing to approve",
    }


def test_batch_analyzer_and_worker(registry: HandlerRegistry) -> None:
    analysis = run(registry, "analyze_rows", {"rows": 400})
    assert analysis.result is not None
    outcome = analysis.result["batch_processing_outcome"]
    worker_inputs = {
        "cursor": outcome["cursor_configs"][1],
        "batch_metadata": {"cursor_field": "id", "failure_strategy": "fail_fast"},
        "is_no_op": False,
    }
    worker = run(registry, "process_rows", inputs=worker_inputs)

    assert outcome["worker_template_name"] == "process_rows"
    assert [c["batch_id"] for c in outcome["cursor_configs"]] == ["001", "002"]
    assert worker.result == {"batch_id": "002", "items_processed": 200}


def test_checkpoint_yields_carry_progress_until_the_step_completes(
    registry: HandlerRegistry,
) -> None:
    checkpoint: dict[str, Any] | None = None
    yields = 0
    while True:
        outcome = run(registry, "counts_with_checkpoints", {"total": 5}, checkpoint=checkpoint)
        if outcome.checkpoint is None:
            break
        yields += 1
        checkpoint = outcome.checkpoint.to_dict()

    assert yields == 2
    assert outcome.is_checkpoint_yield is False
    assert outcome.result is not None
    assert outcome.result["items_processed"] == 5
    assert outcome.result["last_cursor"] == 5


def test_concurrent_invocations_from_worker_threads(registry: HandlerRegistry) -> None:
    doubler = registry.resolve(HandlerDefinition("async_doubler"))
    payloads = [payload_for("s", {"n": n}, callable_name="async_doubler") for n in range(40)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(doubler.invoke, payloads))

    assert [o.result for o in outcomes] == [{"doubled": n * 2} for n in range(40)]
