"""Errors that reach the user: each carries its exit code and, where one helps, a hint.

The core raises these; the CLI has exactly one boundary that prints ``error: …`` (and ``hint: …``)
to stderr and exits with ``exit_code``. Standard library only, so every layer may import it.

The exit codes are defined in one place, the README's "Exit codes" table; the constants below
name them.
"""

from __future__ import annotations

from collections.abc import Iterable

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_DATA = 65
EXIT_NOT_FOUND = 66
EXIT_SERVER_UNAVAILABLE = 69
EXIT_STORE_UNUSABLE = 74
EXIT_BUSY = 75  # the store's lock, a task held by a live run, a server's 409
EXIT_SERVER_PROTOCOL = 76
EXIT_PERMISSION = 77
EXIT_HANDLERS_UNLOADABLE = 78
EXIT_INTERRUPTED = 130


ERROR_CODES = {
    EXIT_FAILURE: "failed",
    EXIT_USAGE: "usage",
    EXIT_DATA: "invalid_data",
    EXIT_NOT_FOUND: "not_found",
    EXIT_SERVER_UNAVAILABLE: "server_unavailable",
    EXIT_STORE_UNUSABLE: "store_unusable",
    EXIT_BUSY: "busy",
    EXIT_SERVER_PROTOCOL: "server_protocol",
    EXIT_PERMISSION: "permission_denied",
    EXIT_HANDLERS_UNLOADABLE: "handlers_unloadable",
    EXIT_INTERRUPTED: "interrupted",
}
"""The ``code`` of an error under ``--format json``: one word per exit code of the README table."""


def error_code(exit_code: int) -> str:
    """The word for an exit code (``not_found`` for 66), ``failed`` for one outside the table."""
    return ERROR_CODES.get(exit_code, "failed")


class TaskerCtlError(Exception):
    """Base of every error meant for the user: a one-line message, a hint, an exit code."""

    exit_code: int = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class UsageError(TaskerCtlError):
    """The command line itself is wrong (a missing path, a malformed ``--param``)."""

    exit_code = EXIT_USAGE


class InvalidDataError(TaskerCtlError):
    """Data given to a command does not pass its checks (task input, a template, JSON)."""

    exit_code = EXIT_DATA


class NotFoundError(TaskerCtlError):
    """A named thing (task, step, template, plugin) does not exist."""

    exit_code = EXIT_NOT_FOUND


class StoreBusyError(TaskerCtlError):
    """Another process held the store's write lock for longer than the busy timeout."""

    exit_code = EXIT_BUSY


class StoreUnusableError(TaskerCtlError):
    """The store file is corrupt, not a tasker-ctl store, or of a newer schema."""

    exit_code = EXIT_STORE_UNUSABLE


def closest(word: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """Return the candidate most similar to ``word``, or None when nothing is close enough."""
    import difflib  # only when there is a name to correct: start-up stays light

    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A hint suffix such as `` (did you mean 'dependencies'?)``, or an empty string."""
    match = closest(word, candidates)
    return f" (did you mean '{match}'?)" if match else ""


class RunBusyError(TaskerCtlError):
    """Another live process runs the task (it holds the task's run lease)."""

    exit_code = EXIT_BUSY


class LeaseLostError(TaskerCtlError):
    """This run no longer holds its task's lease: another run took it over."""

    exit_code = EXIT_BUSY


class RunInterruptedError(TaskerCtlError):
    """An operator command changed the task from another process while this run held it.

    ``notice`` is what the command recorded: ``action``, ``by``, ``reason``, ``at``, ``pid``.
    """

    def __init__(self, notice: dict[str, object]) -> None:
        self.notice = notice
        action = str(notice.get("action") or "an operator command")
        by = notice.get("by")
        reason = notice.get("reason")
        who = f" by {by}" if by else ""
        why = f" ({reason})" if reason else ""
        command = action.replace("_", "-")
        super().__init__(
            f"`task {command}`{who} changed the task from another process{why} while this run "
            "held it; the run stopped scheduling and recorded the steps it had running",
            exit_code=EXIT_FAILURE if action == "cancel" else EXIT_BUSY,
        )

    @property
    def action(self) -> str:
        """The operator command (``cancel``, ``reset_step``, …)."""
        return str(self.notice.get("action") or "")
