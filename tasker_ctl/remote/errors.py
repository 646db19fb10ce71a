"""The errors a Tasker server's answers turn into, each with its exit code from the README."""

from __future__ import annotations

from tasker_ctl.errors import (
    EXIT_BUSY,
    EXIT_PERMISSION,
    EXIT_SERVER_PROTOCOL,
    EXIT_SERVER_UNAVAILABLE,
    TaskerCtlError,
)


class ServerUnavailableError(TaskerCtlError):
    """Connection refused, a timeout, or a 5xx answer (exit 69)."""

    exit_code = EXIT_SERVER_UNAVAILABLE


class ServerPermissionError(TaskerCtlError):
    """401 or 403: the credentials are missing, wrong, or lack the operation's permission (77)."""

    exit_code = EXIT_PERMISSION


class ServerConflictError(TaskerCtlError):
    """409: the server refuses because of the current state (a duplicate identity) (75)."""

    exit_code = EXIT_BUSY


class ServerProtocolError(TaskerCtlError):
    """The answer is not one the API contract allows (76)."""

    exit_code = EXIT_SERVER_PROTOCOL
