"""The dependency results a handler is handed: every ancestor's result, looked up lazily."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from tasker_ctl.engine.isolation import FrozenJson

if TYPE_CHECKING:
    from tasker_ctl.engine.steps import RunGraph


class AncestorResults(Mapping[str, tuple[str, Any]]):
    """Every ancestor's ``(step uuid, result)``, found the first time a handler looks.

    Tasker hands each step the results of all its transitive ancestors. Computing that set for
    every step of a deep, wide DAG up front costs far more than the run; most handlers read one
    or two parents, and many none.
    """

    def __init__(self, step_uuid: str, graph: RunGraph) -> None:
        self._step_uuid = step_uuid
        self._graph = graph
        self._found: dict[str, str] | None = None

    def _ancestors(self) -> dict[str, str]:
        if self._found is None:
            steps, parents = self._graph.steps, self._graph.parents
            found: dict[str, str] = {}
            frontier = list(parents[self._step_uuid])
            seen: set[str] = set()
            while frontier:
                parent = frontier.pop()
                if parent not in seen:
                    seen.add(parent)
                    found[steps[parent].record.name] = parent
                    frontier.extend(parents[parent])
            self._found = found
        return self._found

    def __getitem__(self, name: str) -> tuple[str, Any]:
        step_uuid = self._ancestors()[name]
        step = self._graph.steps[step_uuid]
        if step.frozen_result is None:
            step.frozen_result = FrozenJson(step.result)
        return step_uuid, step.frozen_result.thaw()

    def __iter__(self) -> Iterator[str]:
        return iter(self._ancestors())

    def __len__(self) -> int:
        return len(self._ancestors())
