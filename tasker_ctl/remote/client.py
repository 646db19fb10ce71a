"""The HTTP client of a Tasker orchestration server: one call per API operation.

httpx with the profile's timeout and retry count. Only what is safe to send twice is retried:
reads (GET), and a task creation that carries an idempotency key; a connection failure, a timeout
or a 502/503/504 is retried after a short exponential backoff (or the server's ``Retry-After``).

Every answer is mapped to a result or to one ``TaskerCtlError`` with its exit code: connection
refused, timeouts and 5xx to 69, 401/403 to 77 (naming the permission the contract lists for the
operation), 404 to 66, 409 to 75, and any answer the contract does not allow to 76. A credential
is never part of a message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tasker_ctl.errors import (
    EXIT_DATA,
    EXIT_FAILURE,
    EXIT_USAGE,
    NotFoundError,
    TaskerCtlError,
    UsageError,
)
from tasker_ctl.remote import contract
from tasker_ctl.remote.errors import (
    ServerConflictError,
    ServerPermissionError,
    ServerProtocolError,
    ServerUnavailableError,
)
from tasker_ctl.remote.profiles import display_url

if TYPE_CHECKING:
    import httpx

    from tasker_ctl.remote.profiles import Profile

USER_AGENT = "tasker-ctl"
RETRYABLE_STATUSES = frozenset({502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 30.0
# What a 400 means differs by operation: a bad argument, bad data, or an action the state refuses.
_BAD_REQUEST_EXIT = {
    "create_task": EXIT_DATA,
    "cancel_task": EXIT_FAILURE,
    "resolve_step_manually": EXIT_FAILURE,
}


class ServerClient:
    """Calls the operations of one profile's orchestration server."""

    def __init__(
        self,
        profile: Profile,
        *,
        sleep: Callable[[float], None] = time.sleep,
        backoff_seconds: float = 0.25,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if profile.transport != "rest":
            raise UsageError(
                f"profile '{profile.name}' uses the {profile.transport} transport; "
                "tasker-ctl speaks only Tasker's REST API",
                hint='use a profile with transport = "rest" and the REST endpoint, '
                f"in {profile.where}",
            )
        import httpx

        self.profile = profile
        self._sleep = sleep
        self._backoff = backoff_seconds
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if profile.auth is not None:
            headers.update(profile.auth.headers())
        self._http = httpx.Client(
            base_url=profile.base_url,
            timeout=profile.timeout_ms / 1000,
            headers=headers,
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> ServerClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def label(self) -> str:
        """``the Tasker server at URL (profile 'name')``, for messages."""
        url = display_url(self.profile.base_url)
        return f"the Tasker server at {url} (profile '{self.profile.name}')"

    def call(
        self,
        operation_id: str,
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        not_found: TaskerCtlError | None = None,
    ) -> Any:
        """Send one operation and return its decoded JSON answer (a status the contract declares).

        ``not_found`` is raised on a 404 (a generic ``NotFoundError`` otherwise).
        """
        op = contract.operation(operation_id)
        url = op.url_path(**(path or {}))
        params = {k: v for k, v in (query or {}).items() if v is not None}
        safe = op.method == "GET" or (
            operation_id == "create_task" and isinstance(body, dict) and body.get("idempotency_key")
        )
        attempts = 1 + (self.profile.max_retries if safe else 0)
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = self._http.request(op.method, url, params=params, json=body)
            except Exception as exc:
                failure = self._transport_failure(exc, op)
                if failure is None:
                    raise
                if last:
                    raise failure from None
                self._sleep(self._delay(attempt, None))
                continue
            if response.status_code in RETRYABLE_STATUSES and not last:
                self._sleep(self._delay(attempt, response.headers.get("Retry-After")))
                continue
            return self._answer(op, response, not_found)
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None and retry_after.strip().isdigit():
            return min(float(retry_after), MAX_RETRY_AFTER_SECONDS)
        return float(self._backoff * 2 ** (attempt - 1))

    def _transport_failure(self, exc: Exception, op: contract.Operation) -> TaskerCtlError | None:
        import httpx

        where = self.profile.where
        if isinstance(exc, httpx.TimeoutException):
            return ServerUnavailableError(
                f"{self.label} did not answer {op.method} {op.path} within "
                f"{self.profile.timeout_ms} ms",
                hint=f"try again later, or raise orchestration.timeout_ms in {where}",
            )
        if isinstance(exc, httpx.TransportError):
            reason = "connection refused" if isinstance(exc, httpx.ConnectError) else "no answer"
            return ServerUnavailableError(
                f"cannot reach {self.label}: {reason}",
                hint=f"check that the server runs and orchestration.base_url in {where}; "
                f"`tasker-ctl profile check {self.profile.name}` probes it",
            )
        return None

    def _answer(
        self, op: contract.Operation, response: httpx.Response, not_found: TaskerCtlError | None
    ) -> Any:
        status = response.status_code
        body = _json_or_none(response)
        if 200 <= status < 300:
            if not op.declares(status):
                raise self._protocol(op, f"status {status}, which the contract does not declare")
            if body is _NOT_JSON:
                raise self._protocol(op, "a body that is not JSON")
            body = contract.tolerated(op.operation_id, body)
            problems = contract.response_problems(op.operation_id, status, body)
            if problems:
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                raise self._protocol(op, f"a body that breaks its schema: {problems[0]}{more}")
            return body
        message = api_error_message(body)
        detail = f": {message}" if message else ""
        if status in (401, 403):
            raise self._permission(op, status)
        if status == 404:
            raise not_found or NotFoundError(
                f"{self.label} has nothing at {op.method} {response.request.url.path}{detail}"
            )
        if status == 409:
            raise ServerConflictError(
                f"{self.label} refused {op.method} {op.path} with 409 Conflict{detail}",
                hint="it already holds what this would create (the same idempotency key or "
                "task identity), or the resource is changing: look it up, or try again later",
            )
        if status >= 500:
            raise ServerUnavailableError(
                f"{self.label} failed with {status} {response.reason_phrase} on "
                f"{op.method} {op.path}{detail}",
                hint="try again later; the server's logs say more",
            )
        if status == 400:
            raise TaskerCtlError(
                f"{self.label} refused {op.method} {op.path}{detail or ' (400 Bad Request)'}",
                exit_code=_BAD_REQUEST_EXIT.get(op.operation_id, EXIT_USAGE),
            )
        raise self._protocol(op, f"status {status}, which the contract does not declare")

    def _permission(self, op: contract.Operation, status: int) -> ServerPermissionError:
        permission = op.permission or "(none listed)"
        auth = self.profile.auth
        if status == 401:
            configured = (
                f"its credentials ({auth.describe()}) were refused"
                if auth is not None
                else "it has no credentials"
            )
            return ServerPermissionError(
                f"{self.label} requires authentication for {op.operation_id} "
                f"(permission {permission}): {configured}",
                hint=f"set orchestration.auth in {self.profile.where}, or TASKER_API_KEY / "
                "TASKER_AUTH_TOKEN, with a key or token that grants " + permission,
            )
        return ServerPermissionError(
            f"{self.label} denied {op.operation_id}: it needs permission {permission} "
            "(403 Forbidden)",
            hint=f"use a key or token that grants {permission}",
        )

    def _protocol(self, op: contract.Operation, what: str) -> ServerProtocolError:
        return ServerProtocolError(
            f"{self.label} answered {op.method} {op.path} with {what}",
            hint=f"the server may not speak the API this tasker-ctl knows "
            f"(Tasker orchestration API {contract.api_version()})",
        )


_NOT_JSON = object()


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return _NOT_JSON


def api_error_message(body: Any) -> str | None:
    """The message of an ``ApiError`` body (``{"NotFound": {"message": …}}``, ``"Forbidden"``)."""
    if isinstance(body, str):
        return body
    if isinstance(body, dict) and len(body) == 1:
        ((kind, detail),) = body.items()
        if isinstance(detail, dict):
            text = detail.get("message") or detail.get("reason") or detail.get("operation")
            return f"{kind}: {text}" if text else str(kind)
    return None
