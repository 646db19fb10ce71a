"""The dependency results a handler is handed: every ancestor's result, looked up lazily."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from tasker_ctl.engine.isolation import FrozenJson

if TYPE_CHECKING:
    from tasker_ctl.engine.steps import RunGraph


class AncestorResults(Mapping[str, tuple[str, Any]]):
    """Every ancestor's ``(step uuid, result)``, each found when a handler asks for it.

    Tasker hands each step the results of all its transitive ancestors. In a deep, wide DAG a
    step has thousands of them, and most handlers read one or two parents: looking one up by
    name costs the part of the graph between the two steps (a parent: nothing), and only
    listing them all (iterating, ``len``) walks every ancestor, once.
    """

    def __init__(self, step_uuid: str, graph: RunGraph) -> None:
        self._step_uuid = step_uuid
        self._graph = graph
        self._all: dict[str, str] | None = None

    def _every_ancestor(self) -> dict[str, str]:
        if self._all is None:
            self._all = self._graph.ancestors(self._step_uuid)
        return self._all

    def _uuid_of(self, name: str) -> str:
        if self._all is not None:
            return self._all[name]
        graph = self._graph
        ancestor = graph.uuids.get(name)
        if ancestor is None or not graph.is_ancestor(ancestor, self._step_uuid):
            raise KeyError(name)
        return ancestor

    def __getitem__(self, name: str) -> tuple[str, Any]:
        step_uuid = self._uuid_of(name)
        step = self._graph.steps[step_uuid]
        if step.frozen_result is None:
            step.frozen_result = FrozenJson(step.result)
        return step_uuid, step.frozen_result.thaw()

    def __contains__(self, name: object) -> bool:
        try:
            self._uuid_of(str(name))
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._every_ancestor())

    def __len__(self) -> int:
        return len(self._every_ancestor())
