"""A run's transactions: transitions made together share one commit, and nothing acts before it.

Each SQLite commit costs about as much as a step's own work, so steps started together or
finished together are recorded together. Events and hand-offs to workers are queued and happen
only after the commit: nothing acts on a transition that is not stored, and a rollback (Ctrl-C
mid-way) leaves nothing behind. Hand-offs go first, so workers run handlers while the observers
are told (a live view, JSON lines) rather than after.
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
        self._hand_offs: list[Callable[[], None]] | None = None
        self._events: list[Event] = []

    @contextmanager
    def one_transaction(self) -> Iterator[None]:
        """Transitions made inside share one commit; what acts on them waits for it (nested:
        the outer transaction's)."""
        if self._hand_offs is not None:
            yield
            return
        self._hand_offs = []
        self._events = []
        try:
            with self._repository.write():
                yield
            hand_offs, events = self._hand_offs, self._events
        finally:
            self._hand_offs = None
            self._events = []
        with self._bus.batch():  # other threads' events (handler output) wait for these
            for hand_off in hand_offs:
                hand_off()
            for event in events:
                self._bus.emit(event)

    def hand_off(self, action: Callable[[], None]) -> None:
        """Run ``action`` (give a worker its job) once the current transaction commits, before
        the observers hear of it (at once outside a transaction)."""
        if self._hand_offs is None:
            action()
        else:
            self._hand_offs.append(action)

    def emit(self, event: Event) -> None:
        """Tell the observers ``event`` once what it reports is committed."""
        if self._hand_offs is None:
            self._bus.emit(event)
        else:
            self._events.append(event)
