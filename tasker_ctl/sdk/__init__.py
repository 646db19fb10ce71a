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
