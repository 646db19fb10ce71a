"""A run's transactions: transitions made together share one commit, and nothing acts before it.

Each SQLite commit costs about as much as a step's own work, so steps started together or
finished together are recorded together. Events and hand-offs to workers are queued and happen
only after the commit: nothing acts on a transition that is not stored, and a rollback (Ctrl-C
mid-way) leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tasker_ctl.engine.events import Event, EventBus
from tasker_ctl.store.repository import Repository


class Commits:
    """One write transaction at a time, with the actions waiting for it to commit."""

    def __init__(self, repository: Repository, bus: EventBus) -> None:
        self._repository = repository
        self._bus = bus
        self._after_commit: list[Callable[[], None]] | None = None

    @contextmanager
    def one_transaction(self) -> Iterator[None]:
        """Transitions made inside share one commit; what acts on them waits for it (nested:
        the outer transaction's)."""
        if self._after_commit is not None:
            yield
            return
        self._after_commit = []
        try:
            with self._repository.write():
                yield
            actions = self._after_commit
        finally:
            self._after_commit = None
        for action in actions:
            action()

    def after(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the current transaction commits (at once outside one)."""
        if self._after_commit is None:
            action()
        else:
            self._after_commit.append(action)

    def emit(self, event: Event) -> None:
        """Tell the observers ``event`` once what it reports is committed."""
        self.after(lambda: self._bus.emit(event))
