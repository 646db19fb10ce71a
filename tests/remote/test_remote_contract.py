"""The task operations against a fake Tasker server that checks every request and answer
against the OpenAPI document (see ``tests/fixtures/fake_tasker_server.py``)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from conftest import ECOMMERCE, ORDER_INPUT, TEMPLATES
from fake_tasker_server import API_KEY, FakeTasker

from tasker_ctl.errors import EXIT_DATA, EXIT_USAGE, TaskerCtlError
from tasker_ctl.remote import contract
from tasker_ctl.remote.client import ServerClient
from tasker_ctl.remote.profiles import Profile
from tasker_ctl.remote.tasks import RemoteTasks
from tasker_ctl.remote.templates import list_templates, promote_check, template_detail
from tasker_ctl.tasks.create import CreateRequest
from tasker_ctl.tasks.inputs import InputValidationError


def _request(**changes: object) -> CreateRequest:
    fields: dict[str, object] = {
        "namespace": ECOMMERCE[0],
        "name": ECOMMERCE[1],
        "input": ORDER_INPUT,
        "search_path": [TEMPLATES],
        "db_path": Path("unused.db"),
    }
    fields.update(changes)
    return CreateRequest(**fields)  # type: ignore[arg-type]


def test_the_fake_refuses_requests_the_contract_does_not_allow(fake: FakeTasker) -> None:
    headers = {"X-API-Key": API_KEY}
    assert httpx.post(f"{fake.base_url}/v1/tasks", json={"name": "x"}, headers=headers).is_error
    assert httpx.get(f"{fake.base_url}/v1/tasks", params={"page": "one"}, headers=headers).is_error
    assert httpx.get(f"{fake.base_url}/v1/tasks").is_error  # no credentials at all
    assert httpx.delete(f"{fake.base_url}/v1/templates", headers=headers).is_error
    assert [v.split(":")[0] for v in fake.violations] == [
        "create_task",
        "list_tasks",
        "list_tasks",
        "DELETE /v1/templates",
    ]
    fake.violations.clear()  # seen; the fixture checks that nothing else broke the contract


def test_create_sends_the_documented_defaults_and_returns_the_created_view(
    fake: FakeTasker, remote: RemoteTasks
) -> None:
    created = remote.create_task(_request())
    (call,) = fake.calls("create_task")
    body = call.body
    assert body["version"] == "1.0.0"  # the local template's version
    assert body["source_system"] == "tasker-ctl"
    assert body["reason"] == "created with tasker-ctl"
    assert body["tags"] == []
    assert body["initiator"]  # the local user
    assert uuid.UUID(body["correlation_id"])
    assert "idempotency_key" not in body
    assert body["priority"] == 5  # as upstream's `task create` sends without --priority
    assert body["context"] == ORDER_INPUT
    assert created.task_uuid in fake.tasks
    assert [name for name, _ in created.steps] == [
        "validate_cart",
        "process_payment",
        "update_inventory",
        "create_order",
        "send_confirmation",
    ]
    assert created.template_path.endswith(
        "/v1/templates/ecommerce/ecommerce_order_processing/1.0.0"
    )


def test_create_passes_priority_key_tags_initiator_reason_and_correlation_id(
    fake: FakeTasker, remote: RemoteTasks
) -> None:
    correlation = str(uuid.uuid4())
    remote.create_task(
        _request(
            initiator="ops@example.com",
            reason="replay",
            correlation_id=correlation,
            priority=9,
            idempotency_key="order-42",
            tags=("replay", "urgent"),
        )
    )
    body = fake.calls("create_task")[0].body
    assert (body["initiator"], body["reason"], body["correlation_id"]) == (
        "ops@example.com",
        "replay",
        correlation,
    )
    assert (body["priority"], body["idempotency_key"], body["tags"]) == (
        9,
        "order-42",
        ["replay", "urgent"],
    )


def test_create_checks_the_input_locally_before_sending_anything(
    fake: FakeTasker, remote: RemoteTasks
) -> None:
    with pytest.raises(InputValidationError) as caught:
        remote.create_task(_request(input={"customer_info": {}}))
    assert caught.value.exit_code == EXIT_DATA
    assert fake.calls("create_task") == []


def test_create_of_a_template_only_the_server_has_takes_its_highest_version(
    fake: FakeTasker, remote: RemoteTasks
) -> None:
    fake.add_template("billing", "invoice", "1.2.0", [("bill", [])])
    fake.add_template("billing", "invoice", "1.10.0", [("bill", [])])
    created = remote.create_task(_request(namespace="billing", name="invoice", input={}))
    assert created.version == "1.10.0"


def test_status_steps_and_step_read_the_task_with_the_local_template_edges(
    fake: FakeTasker, remote: RemoteTasks
) -> None:
    created = remote.create_task(_request())
    fake.set_step(created.task_uuid, "validate_cart", "complete")
    view = remote.task_status(None, created.task_uuid)
    assert (view.task_uuid, view.status, view.total_steps) == (created.task_uuid, "pending", 5)
    assert view.completed_steps == 1
    assert ("validate_cart", "process_payment") in view.edges
    assert view.steps[0].result == {"ok": "validate_cart"}
    assert view.steps[1].handler_callable  # from the local template
    step = remote.task_step(None, created.task_uuid, "process_payment")
    assert step.dependencies == ("validate_cart",) and step.dependencies_satisfied
    assert remote.task_steps(None, created.task_uuid).steps == view.steps


def test_a_failed_step_shows_its_error(fake: FakeTasker, remote: RemoteTasks) -> None:
    created = remote.create_task(_request())
    fake.set_step(created.task_uuid, "validate_cart", "error", error="card declined")
    step = remote.task_step(None, created.task_uuid, "validate_cart")
    assert step.state == "error"
    assert step.error is not None and step.error["message"] == "card declined"
    assert remote.task_status(None, created.task_uuid).status == "blocked_by_failures"


def test_list_pages_through_the_server_up_to_the_limit(
    fake: FakeTasker, remote: RemoteTasks
) -> None:
    made = [remote.create_task(_request()).task_uuid for _ in range(5)]
    listing = remote.list_tasks(None, limit=2)
    assert listing.total == 5
    assert [item.task_uuid for item in listing.items] == made[::-1][:2]
    second = remote.list_tasks(None, limit=2, page=2)
    assert [item.task_uuid for item in second.items] == made[::-1][2:4]
    assert remote.list_tasks(None, namespace="billing").total == 0
    assert all(call.query.get("per_page") == "2" for call in fake.calls("list_tasks")[:2])


def test_list_with_a_limit_above_the_page_size_fetches_several_pages(
    fake: FakeTasker, remote: RemoteTasks, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tasker_ctl.remote.tasks as remote_tasks

    monkeypatch.setattr(remote_tasks, "MAX_PER_PAGE", 2)
    made = [remote.create_task(_request()).task_uuid for _ in range(5)]
    listing = remote.list_tasks(None, limit=4)
    assert [item.task_uuid for item in listing.items] == made[::-1][:4]
    assert [call.query["page"] for call in fake.calls("list_tasks")] == ["1", "2"]


def test_operator_actions_go_through_the_manual_action_endpoint(
    fake: FakeTasker, remote: RemoteTasks
) -> None:
    task = remote.create_task(_request()).task_uuid
    fake.set_step(task, "validate_cart", "error", error="boom")
    reset = remote.reset_step(None, task, "validate_cart", reason="retry it", reset_by="ann")
    assert reset.steps[0][0::2] == ("validate_cart", "pending")
    assert reset.task_reopened and reset.actor == "ann"
    resolved = remote.resolve_step(None, task, "validate_cart", reason="by hand")
    assert resolved.steps[0][2] == "resolved_manually"
    completed = remote.complete_step(
        None, task, "process_payment", result={"paid": True}, reason="paid", metadata={"m": 1}
    )
    assert completed.steps[0][2] == "complete"
    actions = [call.body["action_type"] for call in fake.calls("resolve_step_manually")]
    assert actions == ["reset_for_retry", "resolve_manually", "complete_manually"]
    assert fake.calls("resolve_step_manually")[2].body["completion_data"] == {
        "result": {"paid": True},
        "metadata": {"m": 1},
    }
    assert remote.task_step(None, task, "process_payment").result == {"paid": True}


def test_audit_lists_a_steps_records_oldest_first(fake: FakeTasker, remote: RemoteTasks) -> None:
    task = remote.create_task(_request()).task_uuid
    fake.set_step(task, "validate_cart", "error", error="boom")
    remote.reset_step(None, task, "validate_cart")
    entries = remote.task_audit(None, task, "validate_cart")
    assert [(e.number, e.from_state, e.to_state, e.event) for e in entries] == [
        (1, "in_progress", "error", "fail"),
        (2, "error", "pending", "reset_for_retry"),
    ]
    assert entries[0].success is False and entries[0].step_name == "validate_cart"


def test_audit_of_a_whole_task_needs_a_step(remote: RemoteTasks) -> None:
    task = remote.create_task(_request()).task_uuid
    with pytest.raises(TaskerCtlError, match="needs a STEP") as caught:
        remote.task_audit(None, task)
    assert caught.value.exit_code == EXIT_USAGE


def test_cancel_reports_the_steps_it_cancelled(fake: FakeTasker, remote: RemoteTasks) -> None:
    task = remote.create_task(_request()).task_uuid
    fake.set_step(task, "validate_cart", "complete")
    result = remote.cancel_task(None, task, reason="not needed")
    assert result.task_status == "cancelled"
    assert [name for name, _, state in result.steps if state == "cancelled"] == [
        "process_payment",
        "update_inventory",
        "create_order",
        "send_confirmation",
    ]


def test_templates_list_show_and_the_drawing_snapshot(
    fake: FakeTasker, remote: RemoteTasks, profile: Profile
) -> None:
    client = remote.client
    listing = list_templates(client)
    assert [(t.namespace, t.name, t.version, t.step_count) for t in listing.templates] == [
        (*ECOMMERCE, 5)
    ]
    assert listing.namespaces == (("ecommerce", 1),)
    detail = template_detail(client, *ECOMMERCE)
    assert [s.name for s in detail.steps][:2] == ["validate_cart", "process_payment"]
    task = remote.create_task(_request()).task_uuid
    view, snapshot = remote.task_status_with_template(None, task)
    assert snapshot["name"] == "ecommerce_order_processing" and view.task_uuid == task


def test_promote_check_reports_registered_unregistered_and_differences(
    fake: FakeTasker, remote: RemoteTasks, tmp_path: Path
) -> None:
    template_file = TEMPLATES / "ecommerce_order_processing.yaml"
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        template_file.read_text().replace('version: "1.0.0"', 'version: "2.0.0"'),
    )
    fake.add_template("ecommerce", "ecommerce_order_processing", "2.0.0", [("validate_cart", [])])
    same, newer = promote_check(remote.client, [template_file, changed])
    assert same.registered and same.same
    assert same.not_compared == ("dependencies", "handlers")  # the detail has no configuration
    assert newer.registered and not newer.same
    assert "step 'process_payment' is not in the server's copy" in newer.differences
    unregistered = tmp_path / "unregistered.yaml"
    unregistered.write_text(template_file.read_text().replace("name: ecommerce_order", "name: x"))
    (report,) = promote_check(remote.client, [unregistered])
    assert not report.registered


def test_promote_check_compares_dependencies_and_handlers_when_the_server_sends_them(
    fake: FakeTasker, remote: RemoteTasks
) -> None:
    fake.templates.clear()
    steps = [("validate_cart", []), ("process_payment", [])]  # the server's copy: no dependency
    fake.add_template(*ECOMMERCE, steps, with_configuration=True, handler_prefix="old.")
    (report,) = promote_check(remote.client, [TEMPLATES / "ecommerce_order_processing.yaml"])
    assert "dependencies" in report.compared and report.not_compared == ()
    assert "step 'process_payment': depends on validate_cart here, nothing there" in (
        report.differences
    )
    assert any("handler" in difference for difference in report.differences)


def test_every_operation_the_client_uses_is_in_the_contract() -> None:
    used = {
        "list_tasks",
        "create_task",
        "get_task",
        "cancel_task",
        "list_task_steps",
        "resolve_step_manually",
        "get_step_audit",
        "list_templates",
        "get_template",
        "basic_health",
    }
    assert used <= set(contract.operations())
    assert contract.operation("cancel_task").permission == "tasks:cancel"


def test_a_client_of_a_grpc_profile_is_refused(profile: Profile) -> None:
    from dataclasses import replace

    with pytest.raises(TaskerCtlError, match="REST") as caught:
        ServerClient(replace(profile, transport="grpc"))
    assert caught.value.exit_code == EXIT_USAGE


def test_a_template_detail_with_a_null_configuration_is_read_as_upstream_sends_it(
    fake: FakeTasker, remote: RemoteTasks
) -> None:
    from fake_tasker_server import Injected

    detail = {"namespace": "ecommerce", "name": "x", "version": "1.0.0", "steps": []}
    fake.inject("get_template", Injected(200, {**detail, "configuration": None}))
    assert template_detail(remote.client, "ecommerce", "x", "1.0.0").configuration == {}
    fake.inject("get_template", Injected(200, {**detail, "configuration": "text"}))
    with pytest.raises(TaskerCtlError) as caught:
        template_detail(remote.client, "ecommerce", "x", "1.0.0")
    assert caught.value.exit_code == 76
