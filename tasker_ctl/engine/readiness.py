"""Which steps may run: each step's count of unsatisfied parents, and the queues of ready steps.

Readiness is counted per step rather than by sorting the graph once, so steps created while the
task runs (decision branches, batch workers) join like any other. A step waiting for its retry
waits in a heap ordered by the moment it falls due, on the run's clock.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterable, Sequence

from tasker_ctl.engine.paths import RESTING_STEP_STATES
from tasker_ctl.engine.steps import Invokers, RunGraph
from tasker_ctl.engine.timestamps import seconds_until
from tasker_ctl.states import StepState
from tasker_ctl.store.records import StepRecord


class Readiness:
    """The steps ready to run now (``runnable``) and those waiting for a retry (``retries``)."""

    def __init__(self, graph: RunGraph, invokers: Invokers, clock: Callable[[], float]) -> None:
        self._graph = graph
        self._invokers = invokers
        self._clock = clock
        self.waiting_on: dict[str, int] = {}
        self.runnable: deque[str] = deque()
        self.retries: list[tuple[float, str]] = []

    def build(self) -> None:
        """Count each step's unsatisfied parents and queue the steps that wait for none."""
        graph = self._graph
        graph.link_children()
        self.waiting_on = {
            step_uuid: self._unsatisfied(parents) for step_uuid, parents in graph.parents.items()
        }
        for step in graph.steps.values():
            self._invokers.attach(step)
        for step_uuid, waiting in self.waiting_on.items():
            if not waiting:
                self.release(step_uuid)

    def _unsatisfied(self, parents: Iterable[str]) -> int:
        return sum(1 for p in parents if not self._graph.satisfied(p))

    def release(self, step_uuid: str) -> None:
        """A step whose parents are all satisfied: run it now, or when its retry falls due."""
        step = self._graph.steps[step_uuid]
        if step.state == StepState.WAITING_FOR_RETRY:
            due = self._clock() + seconds_until(step.record.next_retry_at)
            heapq.heappush(self.retries, (due, step_uuid))
        elif step.state not in RESTING_STEP_STATES:
            self.runnable.append(step_uuid)

    def retry_at(self, due: float, step_uuid: str) -> None:
        """Run ``step_uuid`` again at ``due`` (on the run's clock)."""
        heapq.heappush(self.retries, (due, step_uuid))

    def on_satisfied(
        self,
        step_uuid: str,
        added: Sequence[StepRecord],
        edges: Iterable[tuple[str, str]] | None,
    ) -> None:
        """A step completed: link the steps it created, then release whatever now may run."""
        children = list(self._graph.children[step_uuid])
        if edges is not None:
            self._join(added, edges)
        for child in children:
            self.waiting_on[child] -= 1
            if self.waiting_on[child] == 0:
                self.release(child)
        for record in added:
            if self.waiting_on[record.uuid] == 0:
                self.release(record.uuid)

    def _join(self, added: Sequence[StepRecord], edges: Iterable[tuple[str, str]]) -> None:
        """Steps created mid-run join the graph; an existing step not yet released waits too."""
        graph = self._graph
        for record in added:
            step = graph.add(record)
            graph.children[record.uuid] = []
            self.waiting_on[record.uuid] = 0
            self._invokers.attach(step)
        new = {record.uuid for record in added}
        for source_name, target_name in edges:
            source, target = graph.uuids[source_name], graph.uuids[target_name]
            graph.link(source, target)
            if not graph.satisfied(source) and (target in new or self.waiting_on[target] > 0):
                self.waiting_on[target] += 1

    def release_due_retries(self) -> None:
        """Queue the steps whose retry has fallen due."""
        now = self._clock()
        while self.retries and self.retries[0][0] <= now:
            self.runnable.append(heapq.heappop(self.retries)[1])

    def next_retry(self) -> float | None:
        """The moment the next retry falls due (None: none waits)."""
        return self.retries[0][0] if self.retries else None
