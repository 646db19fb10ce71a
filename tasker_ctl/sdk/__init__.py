"""tasker-ctl's own implementation of the ``tasker_core`` handler API (tasker-py).

Handlers import ``tasker_core``; when tasker-py is not installed, ``tasker_ctl.sdk.compat`` makes
that name resolve to this package (and ``tasker_core.<sub>`` to ``tasker_ctl.sdk.<sub>``), so the
same handler code runs either way. Only the surface handlers use is provided: handler classes,
mixins (HTTP included), the functional DSL, context and result types, batch outcomes, the error
classes and classifier, and the log functions. Worker, client, registry, domain-event and FFI
names are not: they need a Tasker server (``tests/unit/sdk/test_sdk_surface.py`` lists them).

As in tasker-py, the top-level ``TaskerError`` is the infrastructure error
(``tasker_core.exceptions``); handler errors derive from ``tasker_core.errors.TaskerError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasker_ctl.lazy_names import names_loaded_on_use

if TYPE_CHECKING:  # the names as the type checker sees them; at run time __getattr__ loads them
    from tasker_ctl.sdk.batch_processing import (
        Batchable,
        BatchAggregationScenario,
        BatchWorkerConfig,
    )
    from tasker_ctl.sdk.errors import (
        AuthenticationError,
        AuthorizationError,
        BusinessLogicError,
        ConfigurationError,
        NetworkError,
        NotFoundError,
        PermanentError,
        RateLimitError,
        ResourceContentionError,
        RetryableError,
        ServiceUnavailableError,
    )
    from tasker_ctl.sdk.errors import TimeoutError as StepTimeoutError
    from tasker_ctl.sdk.errors import ValidationError as StepValidationError
    from tasker_ctl.sdk.errors.error_classifier import (
        ErrorClassifier,
        get_classifier,
        is_permanent,
        is_retryable,
    )
    from tasker_ctl.sdk.exceptions import (
        ConversionError,
        FFIError,
        TaskerError,
        WorkerAlreadyRunningError,
        WorkerBootstrapError,
        WorkerNotInitializedError,
    )
    from tasker_ctl.sdk.logging import log_debug, log_error, log_info, log_trace, log_warn
    from tasker_ctl.sdk.models import (
        DependencyResultsWrapper,
        HandlerWrapper,
        StepDefinitionWrapper,
        TaskSequenceStepWrapper,
        TaskWrapper,
        WorkflowStepWrapper,
    )
    from tasker_ctl.sdk.step_handler import ApiHandler, ApiResponse, DecisionHandler, StepHandler
    from tasker_ctl.sdk.types import (
        BatchAnalyzerOutcome,
        BatchWorkerContext,
        BatchWorkerOutcome,
        CursorConfig,
        DecisionPointOutcome,
        DecisionType,
        ErrorType,
        FfiStepEvent,
        LogContext,
        ResultStatus,
        StepContext,
        StepHandlerResult,
    )

# Each name's module is imported when a handler first uses the name: a run of plain handlers
# does not import the batch-processing helpers, the HTTP mixin or the functional DSL.
_OWNERS = {
    "Batchable": "tasker_ctl.sdk.batch_processing",
    "BatchAggregationScenario": "tasker_ctl.sdk.batch_processing",
    "BatchWorkerConfig": "tasker_ctl.sdk.batch_processing",
    "AuthenticationError": "tasker_ctl.sdk.errors",
    "AuthorizationError": "tasker_ctl.sdk.errors",
    "BusinessLogicError": "tasker_ctl.sdk.errors",
    "ConfigurationError": "tasker_ctl.sdk.errors",
    "NetworkError": "tasker_ctl.sdk.errors",
    "NotFoundError": "tasker_ctl.sdk.errors",
    "PermanentError": "tasker_ctl.sdk.errors",
    "RateLimitError": "tasker_ctl.sdk.errors",
    "ResourceContentionError": "tasker_ctl.sdk.errors",
    "RetryableError": "tasker_ctl.sdk.errors",
    "ServiceUnavailableError": "tasker_ctl.sdk.errors",
    "StepTimeoutError": "tasker_ctl.sdk.errors:TimeoutError",
    "StepValidationError": "tasker_ctl.sdk.errors:ValidationError",
    "ErrorClassifier": "tasker_ctl.sdk.errors.error_classifier",
    "get_classifier": "tasker_ctl.sdk.errors.error_classifier",
    "is_permanent": "tasker_ctl.sdk.errors.error_classifier",
    "is_retryable": "tasker_ctl.sdk.errors.error_classifier",
    "ConversionError": "tasker_ctl.sdk.exceptions",
    "FFIError": "tasker_ctl.sdk.exceptions",
    "TaskerError": "tasker_ctl.sdk.exceptions",
    "WorkerAlreadyRunningError": "tasker_ctl.sdk.exceptions",
    "WorkerBootstrapError": "tasker_ctl.sdk.exceptions",
    "WorkerNotInitializedError": "tasker_ctl.sdk.exceptions",
    "log_debug": "tasker_ctl.sdk.logging",
    "log_error": "tasker_ctl.sdk.logging",
    "log_info": "tasker_ctl.sdk.logging",
    "log_trace": "tasker_ctl.sdk.logging",
    "log_warn": "tasker_ctl.sdk.logging",
    "DependencyResultsWrapper": "tasker_ctl.sdk.models",
    "HandlerWrapper": "tasker_ctl.sdk.models",
    "StepDefinitionWrapper": "tasker_ctl.sdk.models",
    "TaskSequenceStepWrapper": "tasker_ctl.sdk.models",
    "TaskWrapper": "tasker_ctl.sdk.models",
    "WorkflowStepWrapper": "tasker_ctl.sdk.models",
    "ApiHandler": "tasker_ctl.sdk.step_handler",
    "ApiResponse": "tasker_ctl.sdk.step_handler",
    "DecisionHandler": "tasker_ctl.sdk.step_handler",
    "StepHandler": "tasker_ctl.sdk.step_handler",
    "BatchAnalyzerOutcome": "tasker_ctl.sdk.types",
    "BatchWorkerContext": "tasker_ctl.sdk.types",
    "BatchWorkerOutcome": "tasker_ctl.sdk.types",
    "CursorConfig": "tasker_ctl.sdk.types",
    "DecisionPointOutcome": "tasker_ctl.sdk.types",
    "DecisionType": "tasker_ctl.sdk.types",
    "ErrorType": "tasker_ctl.sdk.types",
    "FfiStepEvent": "tasker_ctl.sdk.types",
    "LogContext": "tasker_ctl.sdk.types",
    "ResultStatus": "tasker_ctl.sdk.types",
    "StepContext": "tasker_ctl.sdk.types",
    "StepHandlerResult": "tasker_ctl.sdk.types",
}

if not TYPE_CHECKING:  # the type checker sees the imports above, so a wrong name is an error
    __getattr__ = names_loaded_on_use(__name__, _OWNERS, submodules=True)


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ApiHandler",
    "ApiResponse",
    "AuthenticationError",
    "AuthorizationError",
    "BatchAggregationScenario",
    "BatchAnalyzerOutcome",
    "BatchWorkerConfig",
    "BatchWorkerContext",
    "BatchWorkerOutcome",
    "Batchable",
    "BusinessLogicError",
    "ConfigurationError",
    "ConversionError",
    "CursorConfig",
    "DecisionHandler",
    "DecisionPointOutcome",
    "DecisionType",
    "DependencyResultsWrapper",
    "ErrorClassifier",
    "ErrorType",
    "FFIError",
    "FfiStepEvent",
    "HandlerWrapper",
    "LogContext",
    "NetworkError",
    "NotFoundError",
    "PermanentError",
    "RateLimitError",
    "ResourceContentionError",
    "ResultStatus",
    "RetryableError",
    "ServiceUnavailableError",
    "StepContext",
    "StepDefinitionWrapper",
    "StepHandler",
    "StepHandlerResult",
    "StepTimeoutError",
    "StepValidationError",
    "TaskSequenceStepWrapper",
    "TaskWrapper",
    "TaskerError",
    "WorkerAlreadyRunningError",
    "WorkerBootstrapError",
    "WorkerNotInitializedError",
    "WorkflowStepWrapper",
    "get_classifier",
    "is_permanent",
    "is_retryable",
    "log_debug",
    "log_error",
    "log_info",
    "log_trace",
    "log_warn",
]
