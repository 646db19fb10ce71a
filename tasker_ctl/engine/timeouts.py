"""Step timeouts: each running attempt's deadline, and failing the attempts that overran it.

A deadline pushed at dispatch is the earliest the attempt can overrun; the clock really starts
when a worker starts the handler (:meth:`WorkerPool.started_at`), so a deadline found early is
pushed back. A handler's thread cannot be stopped: the pool replaces it and ignores its result.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import TYPE_CHECKING

from tasker_ctl.engine.dispatch import end_flight
from tasker_ctl.engine.outcomes import record
from tasker_ctl.engine.workers import WorkerPool
from tasker_ctl.handlers.outcome import StepOutcome

if TYPE_CHECKING:
    from tasker_ctl.engine.run import Run


class Deadlines:
    """A heap of ``(moment, step uuid, token)``: when each running attempt overruns."""

    def __init__(self) -> None:
        self.heap: list[tuple[float, str, int]] = []

    def add(self, moment: float, step_uuid: str, token: int) -> None:
        """The attempt ``token`` of ``step_uuid`` overruns at ``moment`` (the run's clock)."""
        heapq.heappush(self.heap, (moment, step_uuid, token))

    def next(self, in_flight: Mapping[str, int]) -> float | None:
        """The next moment a running attempt overruns (None: no limit)."""
        heap = self.heap
        while heap and in_flight.get(heap[0][1]) != heap[0][2]:
            heapq.heappop(heap)  # that attempt already finished
        return heap[0][0] if heap else None


def expire_timeouts(run: Run, pool: WorkerPool) -> None:
    """Fail the attempts whose handler has run past its timeout."""
    now = run.options.clock()
    heap = run.deadlines.heap
    while heap and heap[0][0] <= now:
        _, step_uuid, token = heapq.heappop(heap)
        if run.in_flight.get(step_uuid) == token:
            seconds = run.graph.steps[step_uuid].record.timeout_seconds or 0
            started = pool.started_at(step_uuid, token)
            if started is None or started + seconds > now:
                later = now + seconds if started is None else started + seconds
                heapq.heappush(heap, (later, step_uuid, token))
                continue
            # The thread cannot be stopped: a new one takes its place; its result is ignored.
            pool.abandon(step_uuid, token)
            end_flight(run, step_uuid)
            record(run, step_uuid, StepOutcome.timed_out(seconds))
