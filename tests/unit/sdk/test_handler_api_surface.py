"""The handler-facing API beyond handlers and the DSL: HTTP handlers against a real local server,
the error classifier, batch outcomes, the log functions, and the workflow-step view."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tasker_ctl.sdk import (
    ApiHandler,
    ErrorClassifier,
    LogContext,
    WorkflowStepWrapper,
    is_permanent,
    is_retryable,
    log_info,
    log_warn,
)
from tasker_ctl.sdk.errors import NetworkError, PermanentError, ValidationError
from tasker_ctl.sdk.step_handler import StepHandler
from tasker_ctl.sdk.step_handler.functional import api_handler, inputs
from tasker_ctl.sdk.step_handler.mixins import APIMixin, ApiResponse
from tasker_ctl.sdk.types import (
    FfiStepEvent,
    RustCursorConfig,
    StepContext,
    aggregate_batch_results,
    create_batches,
    no_batches,
)

# path -> (status, headers, body)
ROUTES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/users/1": (200, {"Content-Type": "application/json"}, b'{"id": 1, "name": "Ada"}'),
    "/text": (200, {"Content-Type": "text/plain"}, b"plain words"),
    "/missing": (404, {"Content-Type": "application/json"}, b'{"error": "no such user"}'),
    "/busy": (503, {"Retry-After": "7"}, b""),
    "/teapot": (418, {"Content-Type": "application/json"}, b'{"error": {"message": "short"}}'),
}


class _Routes(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        status, headers, body = ROUTES.get(self.path, (500, {}, b""))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Routes)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def context(input_data: dict[str, Any]) -> StepContext:
    event = FfiStepEvent(
        event_id="e",
        task_uuid=str(uuid.uuid4()),
        step_uuid=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        task_sequence_step={"task": {"task": {"context": input_data}}},
    )
    return StepContext.from_ffi_event(event, "t")


def users_handler(url: str) -> ApiHandler:
    class Users(ApiHandler):
        handler_name = "users"
        base_url = url

        def call(self, context: StepContext) -> Any:
            response = self.get(context.get_input("path"))
            return self.api_success(response) if response.ok else self.api_failure(response)

    return Users()


def test_a_json_answer_is_the_result(base_url: str) -> None:
    result = users_handler(base_url).call(context({"path": "/users/1"}))
    assert result.is_success
    assert result.result == {"id": 1, "name": "Ada"}
    assert result.metadata["status_code"] == 200


def test_a_text_answer_is_wrapped_as_data(base_url: str) -> None:
    result = users_handler(base_url).call(context({"path": "/text"}))
    assert result.result == {"data": "plain words"}


@pytest.mark.parametrize(
    ("path", "error_type", "retryable", "message"),
    [
        ("/missing", "not_found", False, "HTTP 404: no such user"),
        ("/busy", "service_unavailable", True, "HTTP 503: Service Unavailable"),
        ("/teapot", "client_error", False, "HTTP 418: short"),
    ],
)
def test_http_failures_are_classified_by_status(
    base_url: str, path: str, error_type: str, retryable: bool, message: str
) -> None:
    result = users_handler(base_url).call(context({"path": path}))
    assert not result.is_success
    assert (result.error_type, result.retryable, result.error_message) == (
        error_type,
        retryable,
        message,
    )


def test_retry_after_reaches_the_failure_metadata(base_url: str) -> None:
    result = users_handler(base_url).call(context({"path": "/busy"}))
    assert result.metadata["retry_after_seconds"] == 7


def test_a_refused_connection_is_a_retryable_failure() -> None:
    class Refused(APIMixin, StepHandler):
        base_url = "http://127.0.0.1:9"  # the discard port: nothing listens

        def call(self, context: StepContext) -> Any:
            try:
                return self.get("/")
            except httpx.TransportError as exc:
                return self.connection_error(exc, "fetching /")

    result = Refused().call(context({}))
    assert (result.error_type, result.retryable) == ("connection_error", True)
    assert result.error_message.startswith("Connection error while fetching /: ")


@api_handler("fetch_user", base_url="http://placeholder", timeout=5.0)
@inputs("path")
def fetch_user(path: str, api: Any) -> Any:
    response = api.get(path)
    return api.api_success(response) if response.ok else api.api_failure(response)


def test_api_handler_injects_the_api_object(base_url: str) -> None:
    handler_class = fetch_user._handler_class
    assert (handler_class.handler_name, handler_class.default_timeout) == ("fetch_user", 5.0)
    handler: Any = handler_class()
    handler.base_url = base_url
    result = handler.call(context({"path": "/users/1"}))
    assert result.result == {"id": 1, "name": "Ada"}


def test_api_response_reads_a_date_retry_after_as_sixty_seconds() -> None:
    response = ApiResponse(httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015"}))
    assert (response.retry_after, response.is_retryable, response.is_client_error) == (
        60,
        True,
        True,
    )


def test_httpx_is_imported_only_when_a_handler_calls_out() -> None:
    code = "import sys, tasker_ctl.sdk, tasker_ctl.cli; print('httpx' in sys.modules)"
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("error", "retryable", "rule"),
    [
        (NetworkError("down"), True, "explicit_attribute"),
        (ValidationError("bad"), False, "explicit_attribute"),
        (ValueError("bad"), False, "permanent_class"),
        (KeyError("k"), False, "permanent_class"),
        (ConnectionResetError(), True, "retryable_class"),
        (TimeoutError(), True, "retryable_class"),
        (RuntimeError("?"), True, "default"),
    ],
)
def test_the_error_classifier(error: BaseException, retryable: bool, rule: str) -> None:
    assert ErrorClassifier().classify(error) == {
        "error_type": type(error).__name__,
        "retryable": retryable,
        "classification": rule,
    }
    assert is_retryable(error) is retryable
    assert is_permanent(error) is not retryable


def test_an_unknown_error_follows_the_chosen_default() -> None:
    assert ErrorClassifier(default_retryable=False).retryable(RuntimeError()) is False
    assert ErrorClassifier().permanent(PermanentError("x")) is True


def test_batch_outcomes_and_their_aggregation() -> None:
    cursor = RustCursorConfig(batch_id="001", start_cursor=0, end_cursor=10, batch_size=10)
    assert create_batches("w", 1, [cursor], 10).model_dump()["type"] == "create_batches"
    assert no_batches().model_dump() == {"type": "no_batches"}
    with pytest.raises(ValueError, match="must equal worker_count"):
        create_batches("w", 2, [cursor], 10)
    summary = aggregate_batch_results(
        [
            {"items_processed": 10, "items_succeeded": 8, "items_failed": 2, "errors": [{"i": 1}]},
            None,
            {"items_processed": 10, "items_succeeded": 10, "errors": [{"i": 2}, {"i": 3}]},
        ],
        max_errors=2,
    )
    assert summary.model_dump() == {
        "total_processed": 20,
        "total_succeeded": 18,
        "total_failed": 2,
        "total_skipped": 0,
        "batch_count": 2,
        "success_rate": 0.9,
        "errors": [{"i": 1}, {"i": 2}],
        "error_count": 3,
    }


def test_log_functions_write_to_python_logging(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="tasker_core"):
        log_info("charged", {"amount": 5})
        log_warn("slow", LogContext(task_uuid="t-1"))
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "charged amount=5"),
        ("WARNING", "slow task_uuid=t-1"),
    ]


def test_the_workflow_step_view_has_tasker_pys_fields() -> None:
    step = WorkflowStepWrapper.from_dict(
        json.loads(
            '{"workflow_step_uuid": "s", "task_uuid": "t", "name": "n", "in_process": true,'
            ' "results": {"x": 1}, "backoff_request_seconds": 4, "max_attempts": 0}'
        )
    )
    assert (step.in_process, step.results, step.backoff_request_seconds) == (True, {"x": 1}, 4)
    assert (step.max_attempts, step.processed_at, step.named_step_uuid) == (0, None, None)
