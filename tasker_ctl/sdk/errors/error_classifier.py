"""``ErrorClassifier``: should an exception be retried? (``tasker_core.errors.error_classifier``)

The order of the checks and the two class lists are tasker-py 0.1.8's: an exception's own
``retryable`` attribute wins; then the permanent classes (the ``PermanentError`` family and
programming errors such as ``ValueError``); then the retryable ones (the ``RetryableError`` family
and I/O errors such as ``ConnectionError``); anything else gets the default (retry).
"""

from __future__ import annotations

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
    TimeoutError,
    ValidationError,
)


class ErrorClassifier:
    """Classifies exceptions; unknown ones are retryable unless ``default_retryable=False``."""

    PERMANENT_ERROR_CLASSES: tuple[type[BaseException], ...] = (
        PermanentError,
        ValidationError,
        NotFoundError,
        AuthenticationError,
        AuthorizationError,
        ConfigurationError,
        BusinessLogicError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        IndexError,
        AssertionError,
        SyntaxError,
        NameError,
        ImportError,
        NotImplementedError,
    )
    RETRYABLE_ERROR_CLASSES: tuple[type[BaseException], ...] = (
        RetryableError,
        TimeoutError,
        NetworkError,
        RateLimitError,
        ServiceUnavailableError,
        ResourceContentionError,
        ConnectionError,
        BrokenPipeError,
        BlockingIOError,
        InterruptedError,
        OSError,  # the built-in TimeoutError and IOError are OSErrors
    )

    def __init__(self, *, default_retryable: bool = True) -> None:
        self._default_retryable = default_retryable

    def retryable(self, exception: BaseException) -> bool:
        """Whether ``exception`` should lead to another attempt."""
        return bool(self.classify(exception)["retryable"])

    def permanent(self, exception: BaseException) -> bool:
        """The opposite of ``retryable``."""
        return not self.retryable(exception)

    def classify(self, exception: BaseException) -> dict[str, bool | str]:
        """``error_type`` (the class name), ``retryable`` and ``classification`` (which rule
        decided: ``explicit_attribute``, ``permanent_class``, ``retryable_class``, ``default``)."""
        if hasattr(exception, "retryable"):
            retryable, rule = bool(exception.retryable), "explicit_attribute"
        elif isinstance(exception, self.PERMANENT_ERROR_CLASSES):
            retryable, rule = False, "permanent_class"
        elif isinstance(exception, self.RETRYABLE_ERROR_CLASSES):
            retryable, rule = True, "retryable_class"
        else:
            retryable, rule = self._default_retryable, "default"
        return {
            "error_type": type(exception).__name__,
            "retryable": retryable,
            "classification": rule,
        }


_shared: list[ErrorClassifier] = []


def get_classifier() -> ErrorClassifier:
    """The shared default classifier."""
    if not _shared:
        _shared.append(ErrorClassifier())
    return _shared[0]


def is_retryable(exception: BaseException) -> bool:
    """``get_classifier().retryable(exception)``."""
    return get_classifier().retryable(exception)


def is_permanent(exception: BaseException) -> bool:
    """``get_classifier().permanent(exception)``."""
    return get_classifier().permanent(exception)


__all__ = ["ErrorClassifier", "get_classifier", "is_permanent", "is_retryable"]
