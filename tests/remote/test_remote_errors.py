"""Each way a server answer goes wrong becomes one error with its exit code, through the library
(the CLI's own tests run the same cases through ``tasker-ctl``)."""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ECOMMERCE, ORDER_INPUT, TEMPLATES
from fake_tasker_server import FakeTasker, Injected

from tasker_ctl.errors import (
    EXIT_BUSY,
    EXIT_FAILURE,
    EXIT_NOT_FOUND,
    EXIT_PERMISSION,
    EXIT_SERVER_PROTOCOL,
    EXIT_SERVER_UNAVAILABLE,
    EXIT_USAGE,
    TaskerCtlError,
)
from tasker_ctl.remote.client import ServerClient
from tasker_ctl.remote.profiles import Auth, Profile, display_url
from tasker_ctl.remote.tasks import RemoteTasks
from tasker_ctl.tasks.create import CreateRequest

MISSING = "00000000-0000-4000-8000-000000000000"


def _create(remote: RemoteTasks, **options: object) -> str:
    request = CreateRequest(
        namespace=ECOMMERCE[0],
        name=ECOMMERCE[1],
        input=ORDER_INPUT,
        search_path=[TEMPLATES],
        db_path=Path("unused.db"),
        **options,  # type: ignore[arg-type]
    )
    return remote.create_task(request).task_uuid


def _error(call: object) -> TaskerCtlError:
    with pytest.raises(TaskerCtlError) as caught:
        call()  # type: ignore[operator]
    return caught.value


def test_a_missing_task_is_not_found(remote: RemoteTasks) -> None:
    error = _error(lambda: remote.task_status(None, MISSING))
    assert error.exit_code == EXIT_NOT_FOUND
    assert MISSING in error.message and "task list" in (error.hint or "")


def test_a_prefix_is_refused_saying_the_server_needs_a_full_uuid(
    fake: FakeTasker, remote: RemoteTasks
) -> None:
    error = _error(lambda: remote.task_status(None, "0190f3f4"))
    assert error.exit_code == EXIT_USAGE
    assert "full task UUID" in error.message
    assert fake.seen == []


def test_wrong_credentials_name_the_operations_permission(profile: Profile) -> None:
    bad = replace(profile, auth=Auth("ApiKey", "wrong-key"))
    remote = RemoteTasks(ServerClient(bad), search_path=[TEMPLATES])
    error = _error(lambda: remote.task_status(None, MISSING))
    assert error.exit_code == EXIT_PERMISSION
    assert "tasks:read" in error.message
    assert "wrong-key" not in error.message + (error.hint or "")


def test_a_forbidden_operation_names_its_permission(fake: FakeTasker, remote: RemoteTasks) -> None:
    task = _create(remote)
    fake.forbidden.add("tasks:cancel")
    error = _error(lambda: remote.cancel_task(None, task))
    assert error.exit_code == EXIT_PERMISSION
    assert "tasks:cancel" in error.message and "403" in error.message


def test_a_duplicate_idempotency_key_is_a_conflict(remote: RemoteTasks) -> None:
    _create(remote, idempotency_key="order-1")
    error = _error(lambda: _create(remote, idempotency_key="order-1"))
    assert error.exit_code == EXIT_BUSY
    assert "409" in error.message


def test_a_refused_cancel_is_a_failed_action(fake: FakeTasker, remote: RemoteTasks) -> None:
    task = _create(remote)
    remote.cancel_task(None, task)
    error = _error(lambda: remote.cancel_task(None, task))
    assert error.exit_code == EXIT_FAILURE
    assert "Cannot cancel" in error.message


def test_reads_are_retried_on_503_up_to_max_retries(fake: FakeTasker, remote: RemoteTasks) -> None:
    task = _create(remote)
    fake.inject("get_task", Injected(503, "ServiceUnavailable"), Injected(502, "Internal"))
    assert remote.task_status(None, task).task_uuid == task
    assert len(fake.calls("get_task")) == 3


def test_a_read_that_keeps_failing_is_unavailable(fake: FakeTasker, remote: RemoteTasks) -> None:
    fake.inject("get_task", *[Injected(503, "ServiceUnavailable")] * 3)
    error = _error(lambda: remote.task_status(None, MISSING))
    assert error.exit_code == EXIT_SERVER_UNAVAILABLE
    assert len(fake.calls("get_task")) == 3  # 1 + max_retries


def test_a_create_without_idempotency_key_is_never_retried(
    fake: FakeTasker, remote: RemoteTasks
) -> None:
    fake.inject("create_task", Injected(503, "ServiceUnavailable"))
    error = _error(lambda: _create(remote))
    assert error.exit_code == EXIT_SERVER_UNAVAILABLE
    assert len(fake.calls("create_task")) == 1


def test_a_create_with_an_idempotency_key_is_retried(fake: FakeTasker, remote: RemoteTasks) -> None:
    fake.inject("create_task", Injected(503, "ServiceUnavailable"))
    task = _create(remote, idempotency_key="order-7")
    assert task in fake.tasks
    assert len(fake.calls("create_task")) == 2


def test_an_operator_action_is_never_retried(fake: FakeTasker, remote: RemoteTasks) -> None:
    task = _create(remote)
    fake.inject("resolve_step_manually", Injected(500, "Internal"))
    error = _error(lambda: remote.resolve_step(None, task, "validate_cart", reason="x"))
    assert error.exit_code == EXIT_SERVER_UNAVAILABLE
    assert len(fake.calls("resolve_step_manually")) == 1


def test_an_answer_that_breaks_the_contract_is_a_protocol_error(
    fake: FakeTasker, remote: RemoteTasks
) -> None:
    task = _create(remote)
    fake.inject("get_task", Injected(200, {"task_uuid": task}))
    error = _error(lambda: remote.task_status(None, task))
    assert error.exit_code == EXIT_SERVER_PROTOCOL
    assert "breaks its schema" in error.message


def test_an_undeclared_status_or_a_body_that_is_not_json_is_a_protocol_error(
    fake: FakeTasker, remote: RemoteTasks
) -> None:
    fake.inject("get_task", Injected(418, "teapot"), Injected(200, raw=b"<html>"))
    assert _error(lambda: remote.task_status(None, MISSING)).exit_code == EXIT_SERVER_PROTOCOL
    error = _error(lambda: remote.task_status(None, MISSING))
    assert error.exit_code == EXIT_SERVER_PROTOCOL and "not JSON" in error.message


def test_connection_refused_is_unavailable(profile: Profile) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = replace(profile, base_url=f"http://127.0.0.1:{port}", max_retries=0)
    error = _error(lambda: RemoteTasks(ServerClient(closed)).task_status(None, MISSING))
    assert error.exit_code == EXIT_SERVER_UNAVAILABLE
    assert "connection refused" in error.message and "profile check" in (error.hint or "")


def test_a_timeout_is_unavailable(fake: FakeTasker, profile: Profile) -> None:
    fake.inject("get_task", Injected(200, {}, delay=0.5))
    slow = replace(profile, timeout_ms=100, max_retries=0)
    error = _error(lambda: RemoteTasks(ServerClient(slow)).task_status(None, MISSING))
    assert error.exit_code == EXIT_SERVER_UNAVAILABLE
    assert "within 100 ms" in error.message


def test_a_url_with_a_password_is_shown_without_it() -> None:
    assert (
        display_url("https://ann:s3cret@tasker.example.com/") == "https://****@tasker.example.com/"
    )
