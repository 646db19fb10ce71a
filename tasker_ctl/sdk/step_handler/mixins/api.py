"""``APIMixin`` and ``ApiResponse``: HTTP calls from a handler (``tasker_core...mixins.api``).

A handler class combines ``APIMixin`` with ``StepHandler`` and sets ``base_url`` (and optionally
``default_timeout``, ``default_headers``); ``get``/``post``/``put``/``patch``/``delete``/``request``
return an ``ApiResponse``, and ``api_success``/``api_failure``/``connection_error``/
``timeout_error`` build the step result, classifying HTTP failures by status code as tasker-py
0.1.8 does (the status lists, error types and messages are its facts).

httpx is imported on the first request, so handlers that never call out (and every tasker-ctl
command) do not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import httpx

    from tasker_ctl.sdk.types import StepHandlerResult

CLIENT_ERROR_CODES = range(400, 500)
SERVER_ERROR_CODES = range(500, 600)
# Failures a later attempt cannot fix.
NON_RETRYABLE_STATUS_CODES = {400, 401, 403, 404, 405, 406, 410, 422}
# Failures that are usually temporary.
RETRYABLE_STATUS_CODES = {408, 429, 500, 502, 503, 504}

# Status code -> (error_type, reason phrase) for the codes tasker-py names.
_KNOWN_STATUSES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Bad Request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not Found"),
    405: ("method_not_allowed", "Method Not Allowed"),
    408: ("request_timeout", "Request Timeout"),
    409: ("conflict", "Conflict"),
    410: ("gone", "Gone"),
    422: ("unprocessable_entity", "Unprocessable Entity"),
    429: ("rate_limited", "Too Many Requests"),
    500: ("internal_server_error", "Internal Server Error"),
    502: ("bad_gateway", "Bad Gateway"),
    503: ("service_unavailable", "Service Unavailable"),
    504: ("gateway_timeout", "Gateway Timeout"),
}
# Keys of an error body whose value explains the failure, in the order they are looked at.
_ERROR_BODY_KEYS = ("error", "message", "detail", "error_message", "msg")
_UNPARSEABLE_RETRY_AFTER_SECONDS = 60  # an HTTP-date Retry-After


class ApiResponse:
    """An HTTP response: ``status_code``, ``headers`` (a dict), ``body`` (JSON or text) and
    ``raw_response`` (the httpx response), with its classification."""

    def __init__(self, response: httpx.Response, body: dict[str, Any] | str | None = None) -> None:
        self.status_code: int = response.status_code
        self.headers: dict[str, str] = dict(response.headers)
        self.raw_response: httpx.Response = response
        self.body: Any = body if body is not None else _parsed_body(response)

    @property
    def ok(self) -> bool:
        """A 2xx status."""
        return 200 <= self.status_code < 300

    @property
    def is_client_error(self) -> bool:
        """A 4xx status."""
        return self.status_code in CLIENT_ERROR_CODES

    @property
    def is_server_error(self) -> bool:
        """A 5xx status."""
        return self.status_code in SERVER_ERROR_CODES

    @property
    def is_retryable(self) -> bool:
        """A status worth another attempt (408, 429, 500, 502, 503, 504)."""
        return self.status_code in RETRYABLE_STATUS_CODES

    @property
    def retry_after(self) -> int | None:
        """``Retry-After`` in seconds; 60 when it is a date; None without the header."""
        value = self.headers.get("retry-after")
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            return _UNPARSEABLE_RETRY_AFTER_SECONDS

    def to_dict(self) -> dict[str, Any]:
        """``status_code``, ``headers`` and ``body`` as a dict."""
        return {"status_code": self.status_code, "headers": self.headers, "body": self.body}


def _parsed_body(response: httpx.Response) -> Any:
    if "application/json" not in response.headers.get("content-type", ""):
        return response.text
    try:
        return response.json()
    except ValueError:
        return response.text


class APIMixin:
    """HTTP helpers for a ``StepHandler``: a lazily created httpx client on ``base_url``."""

    base_url: str = ""
    default_timeout: float = 30.0
    default_headers: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        super().__init__()
        self._client: httpx.Client | None = None

    @property
    def api_capabilities(self) -> list[str]:
        """The capabilities this mixin adds."""
        return ["http", "api"]

    @property
    def client(self) -> httpx.Client:
        """The httpx client (created on first use with base URL, timeout and headers)."""
        client: httpx.Client | None = getattr(self, "_client", None)
        if client is None:
            import httpx

            client = httpx.Client(
                base_url=self.base_url,
                timeout=self.default_timeout,
                headers=self.default_headers,
            )
            self._client = client
        return client

    def close(self) -> None:
        """Close the client, if one was created."""
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
            self._client = None

    def __del__(self) -> None:
        self.close()

    def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> ApiResponse:
        """GET ``path`` (relative to ``base_url``)."""
        return ApiResponse(self.client.get(path, params=params, headers=headers, **kwargs))

    def post(
        self,
        path: str,
        json: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> ApiResponse:
        """POST a JSON or form body."""
        return ApiResponse(self.client.post(path, json=json, data=data, headers=headers, **kwargs))

    def put(
        self,
        path: str,
        json: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> ApiResponse:
        """PUT a JSON or form body."""
        return ApiResponse(self.client.put(path, json=json, data=data, headers=headers, **kwargs))

    def patch(
        self,
        path: str,
        json: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> ApiResponse:
        """PATCH a JSON or form body."""
        return ApiResponse(self.client.patch(path, json=json, data=data, headers=headers, **kwargs))

    def delete(
        self, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> ApiResponse:
        """DELETE ``path``."""
        return ApiResponse(self.client.delete(path, headers=headers, **kwargs))

    def request(self, method: str, path: str, **kwargs: Any) -> ApiResponse:
        """Any method."""
        return ApiResponse(self.client.request(method, path, **kwargs))

    def api_success(
        self,
        response: ApiResponse,
        result: dict[str, Any] | None = None,
        include_response: bool = True,
    ) -> StepHandlerResult:
        """Success with ``result`` (default: the body, or ``{"data": body}`` when it is not an
        object), and the status code and headers as metadata unless ``include_response=False``."""
        if result is None:
            result = response.body if isinstance(response.body, dict) else {"data": response.body}
        metadata: dict[str, Any] = {}
        if include_response:
            metadata = {"status_code": response.status_code, "headers": response.headers}
        success: StepHandlerResult = self.success(result, metadata=metadata)  # type: ignore[attr-defined]
        return success

    def api_failure(self, response: ApiResponse, message: str | None = None) -> StepHandlerResult:
        """Failure classified by status code, retryable for 408/429/5xx gateways."""
        metadata: dict[str, Any] = {
            "status_code": response.status_code,
            "headers": response.headers,
        }
        if response.retry_after is not None:
            metadata["retry_after_seconds"] = response.retry_after
        if response.body:
            metadata["response_body"] = response.body
        failure: StepHandlerResult = self.failure(  # type: ignore[attr-defined]
            message=message if message is not None else self._format_error_message(response),
            error_type=self._classify_error(response),
            retryable=response.is_retryable,
            metadata=metadata,
        )
        return failure

    def _classify_error(self, response: ApiResponse) -> str:
        known = _KNOWN_STATUSES.get(response.status_code)
        if known is not None:
            return known[0]
        if response.status_code in CLIENT_ERROR_CODES:
            return "client_error"
        if response.status_code in SERVER_ERROR_CODES:
            return "server_error"
        return "http_error"

    def _format_error_message(self, response: ApiResponse) -> str:
        status = response.status_code
        if isinstance(response.body, dict):
            for key in _ERROR_BODY_KEYS:
                if key not in response.body:
                    continue
                detail = response.body[key]
                if isinstance(detail, str):
                    return f"HTTP {status}: {detail}"
                if isinstance(detail, dict) and "message" in detail:
                    return f"HTTP {status}: {detail['message']}"
        reason = _KNOWN_STATUSES.get(status, ("", "HTTP Error"))[1]
        return f"HTTP {status}: {reason}"

    def connection_error(self, error: Exception, context: str | None = None) -> StepHandlerResult:
        """A retryable ``connection_error`` failure for an exception raised by the request."""
        return self._exception_failure("Connection error", "connection_error", error, context)

    def timeout_error(self, error: Exception, context: str | None = None) -> StepHandlerResult:
        """A retryable ``timeout`` failure for a request that timed out."""
        return self._exception_failure("Request timeout", "timeout", error, context)

    def _exception_failure(
        self, label: str, error_type: str, error: Exception, context: str | None
    ) -> StepHandlerResult:
        where = f" while {context}" if context else ""
        failure: StepHandlerResult = self.failure(  # type: ignore[attr-defined]
            message=f"{label}{where}: {error}",
            error_type=error_type,
            retryable=True,
            metadata={"exception_type": type(error).__name__},
        )
        return failure


__all__ = ["APIMixin", "ApiResponse"]
