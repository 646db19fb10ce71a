"""What a handler writes or logs, captured per step attempt while its thread runs it.

Handlers run in worker threads, so ``sys.stdout`` and ``sys.stderr`` become one process-wide
router that sends each write to the attempt the writing thread is running (a context variable
set around the handler call); writes from any other thread pass through unchanged. ``logging``
records made in a handler reach the same attempt: the root logger's stream handlers write through
the router, and when logging is not configured a handler of our own records them.

``breakpoint()`` (and ``pdb.set_trace()``) in a handler get a debugger on the real terminal; the
attempt's ``on_debugger`` callback is told when the debugger takes and gives back the terminal,
so a live display can step aside meanwhile.

Each attempt keeps at most :data:`OUTPUT_CAP_CHARS` characters; what is cut is counted and
reported in a closing ``note`` line.
"""

from __future__ import annotations

import contextvars
import io
import logging
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

OUTPUT_CAP_CHARS = 1_000_000
"""Characters of output kept per attempt (a chatty handler must not fill the store)."""
NOTE = "note"
LOG = "log"
_LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


@dataclass(frozen=True)
class OutputLine:
    """One captured line: which stream, the text (no newline) and when it was written."""

    stream: str
    text: str
    at: str


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AttemptCapture:
    """The lines one attempt produced, waiting to be taken (thread-safe)."""

    def __init__(
        self,
        cap: int = OUTPUT_CAP_CHARS,
        on_debugger: Callable[[bool], None] | None = None,
    ) -> None:
        self.cap = cap
        self.on_debugger = on_debugger
        self.closed = False
        self._lock = threading.Lock()
        self._pending: list[OutputLine] = []
        self._partial: dict[str, str] = {}
        self._kept = 0
        self._dropped_lines = 0
        self._dropped_chars = 0

    def write(self, stream: str, text: str) -> None:
        """Add ``text`` written to ``stream``; complete lines become :class:`OutputLine` s."""
        with self._lock:
            if self._dropped_chars:
                self._drop(text)
                return
            *lines, rest = (self._partial.get(stream, "") + text).split("\n")
            for line in lines:
                self._add(stream, line)
            if self._dropped_chars or len(rest) > self.cap - self._kept:
                self._drop(rest)  # its line is counted when its newline comes
                rest = ""
            self._partial[stream] = rest

    def add_line(self, stream: str, text: str) -> None:
        """Add whole lines (a log record) to ``stream``."""
        with self._lock:
            for line in text.split("\n"):
                self._add(stream, line)

    def replay(self, lines: Sequence[OutputLine]) -> None:
        """Add lines captured elsewhere (in a worker process, within its own cap), as they are."""
        with self._lock:
            self._pending.extend(lines)

    def close(self) -> None:
        """The attempt is over: keep unfinished lines, and say what the cap cut."""
        with self._lock:
            for stream, rest in self._partial.items():
                if rest:
                    self._add(stream, rest)
            self._partial.clear()
            if self._dropped_chars:
                self._pending.append(
                    OutputLine(
                        NOTE,
                        f"output cut: {self._dropped_lines:,} more lines "
                        f"({self._dropped_chars:,} characters) were not kept; "
                        f"the limit is {self.cap:,} characters per attempt",
                        _now_text(),
                    )
                )
                self._dropped_chars = self._dropped_lines = 0
            self.closed = True

    def take(self) -> list[OutputLine]:
        """The lines added since the last call."""
        with self._lock:
            lines, self._pending = self._pending, []
        return lines

    def _add(self, stream: str, line: str) -> None:
        size = len(line) + 1
        if self._dropped_chars or self._kept + size > self.cap:
            self._drop(line + "\n")
            return
        self._kept += size
        self._pending.append(OutputLine(stream, line.rstrip("\r"), _now_text()))

    def _drop(self, text: str) -> None:
        self._dropped_chars += len(text)
        self._dropped_lines += text.count("\n")


_current: contextvars.ContextVar[AttemptCapture | None] = contextvars.ContextVar(
    "tasker_ctl_attempt_capture", default=None
)


@contextmanager
def attempt(capture: AttemptCapture) -> Iterator[AttemptCapture]:
    """Send what this thread writes or logs to ``capture`` until the block ends."""
    token = _current.set(capture)
    try:
        yield capture
    finally:
        _current.reset(token)
        capture.close()


class _RoutingStream(io.TextIOBase):
    """Stands in for ``sys.stdout`` / ``sys.stderr``: a handler's writes go to its attempt."""

    def __init__(self, name: str, original: TextIO) -> None:
        self.name = name
        self.original = original

    def write(self, text: str) -> int:
        capture = _current.get()
        if capture is None:
            return self.original.write(text)
        capture.write(self.name, text)
        return len(text)

    def flush(self) -> None:
        if _current.get() is None:
            self.original.flush()

    def isatty(self) -> bool:
        return _current.get() is None and self.original.isatty()

    def fileno(self) -> int:
        return self.original.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.original, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.original, "errors", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


class _AttemptLogHandler(logging.Handler):
    """Records made in a handler go to its attempt; others, from WARNING, to the real stderr."""

    def __init__(self, fallback: TextIO) -> None:
        super().__init__(logging.NOTSET)
        self.fallback = fallback
        self.setFormatter(logging.Formatter(_LOG_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            capture = _current.get()
            if capture is not None:
                capture.add_line(LOG, text)
            elif record.levelno >= logging.WARNING:
                self.fallback.write(text + "\n")
        except Exception:
            self.handleError(record)


def _debugger_hook(original_stdout: TextIO) -> Callable[..., None]:
    """``breakpoint()``: pdb on the real terminal; the attempt is told while it has it."""

    def hook(*args: Any, **kwargs: Any) -> None:
        capture = _current.get()
        if capture is None:
            sys.__breakpointhook__(*args, **kwargs)
            return
        debugger = _terminal_debugger(capture, original_stdout)
        debugger.set_trace(sys._getframe(1))

    return hook


def _terminal_debugger(capture: AttemptCapture, original_stdout: TextIO) -> Any:
    import pdb

    class _StepDebugger(pdb.Pdb):
        def interaction(self, *args: Any, **kwargs: Any) -> None:
            if capture.on_debugger is not None:
                capture.on_debugger(True)
            try:
                super().interaction(*args, **kwargs)
            finally:
                if capture.on_debugger is not None:
                    capture.on_debugger(False)

    stdin = sys.__stdin__ if sys.__stdin__ is not None else sys.stdin
    return _StepDebugger(stdin=stdin, stdout=original_stdout)


class _Installation:
    """The process-wide routing, installed once however many runs share the process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
        self.saved: dict[str, Any] = {}

    def install(self) -> None:
        with self.lock:
            self.users += 1
            if self.users == 1:
                self._install()

    def uninstall(self) -> None:
        with self.lock:
            self.users -= 1
            if self.users == 0:
                self._uninstall()

    def _install(self) -> None:
        stdout, stderr = sys.stdout, sys.stderr
        router_out, router_err = _RoutingStream("stdout", stdout), _RoutingStream("stderr", stderr)
        root = logging.getLogger()
        redirected = []
        for handler in root.handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream in (stdout, stderr):
                target = router_out if handler.stream is stdout else router_err
                redirected.append((handler, handler.setStream(target)))
        own_handler = None
        level = root.level
        if not root.handlers:
            own_handler = _AttemptLogHandler(stderr)
            root.addHandler(own_handler)
            if root.level == logging.WARNING:
                root.setLevel(logging.INFO)
        self.saved = {
            "stdout": stdout,
            "stderr": stderr,
            "redirected": redirected,
            "own_handler": own_handler,
            "level": level,
            "breakpointhook": sys.breakpointhook,
            "set_trace": None,
        }
        sys.stdout, sys.stderr = router_out, router_err
        sys.breakpointhook = _debugger_hook(stdout)
        import pdb  # so that `pdb.set_trace()` in a handler finds the terminal too

        self.saved["set_trace"] = pdb.set_trace
        pdb.set_trace = _set_trace(stdout, pdb.set_trace)

    def _uninstall(self) -> None:
        saved = self.saved
        if isinstance(sys.stdout, _RoutingStream):
            sys.stdout = saved["stdout"]
        if isinstance(sys.stderr, _RoutingStream):
            sys.stderr = saved["stderr"]
        for handler, previous in saved["redirected"]:
            handler.setStream(previous)
        root = logging.getLogger()
        if saved["own_handler"] is not None:
            root.removeHandler(saved["own_handler"])
            root.setLevel(saved["level"])
        sys.breakpointhook = saved["breakpointhook"]
        pdb: Any = sys.modules.get("pdb")
        if pdb is not None and saved["set_trace"] is not None:
            pdb.set_trace = saved["set_trace"]
        self.saved = {}


def _set_trace(original_stdout: TextIO, fallback: Callable[..., None]) -> Callable[..., None]:
    def set_trace(*args: Any, **kwargs: Any) -> None:
        capture = _current.get()
        if capture is None:
            fallback(*args, **kwargs)
            return
        _terminal_debugger(capture, original_stdout).set_trace(sys._getframe(1))

    return set_trace


_INSTALLATION = _Installation()


@contextmanager
def routing() -> Iterator[None]:
    """Route handler output to attempts (see the module docstring) until the block ends."""
    _INSTALLATION.install()
    try:
        yield
    finally:
        _INSTALLATION.uninstall()


__all__ = [
    "LOG",
    "NOTE",
    "OUTPUT_CAP_CHARS",
    "AttemptCapture",
    "OutputLine",
    "attempt",
    "routing",
]
