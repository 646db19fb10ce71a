"""The run graph's ancestor lookups: a bounded search by name agrees with the full walk.

Handlers are handed every transitive ancestor's result (Tasker's contract), looked up by name
without walking all ancestors (issue 13). On random DAGs, including edges added mid-run as
decision and batchable steps add them, the lookup must find exactly the ancestors.
"""

from __future__ import annotations

from dag_strategies import Dag, dags
from hypothesis import given, settings
from hypothesis import strategies as st

from tasker_ctl.engine.ancestors import AncestorResults
from tasker_ctl.engine.steps import RunGraph, RunStep
from tasker_ctl.states import StepState
from tasker_ctl.store.records import StepRecord


def _record(name: str) -> StepRecord:
    return StepRecord(
        uuid=f"uuid-{name}",
        task_uuid="task",
        position=0,
        name=name,
        template_step_name=name,
        step_type="standard",
        handler={"callable": "handlers.noop"},
        retry={},
        timeout_seconds=None,
        inputs=None,
        checkpoint=None,
        state=StepState.COMPLETE,
        attempts=1,
        max_attempts=1,
        retryable=True,
        next_retry_at=None,
        backoff_ms=None,
        created_at="",
        updated_at="",
        started_at=None,
        completed_at=None,
        result={"from": name},
        error=None,
    )


def _graph(dag: Dag) -> RunGraph:
    graph = RunGraph()
    graph.load(
        [_record(name) for name in dag],
        {f"uuid-{name}": [f"uuid-{parent}" for parent in parents] for name, parents in dag.items()},
    )
    graph.link_children()
    return graph


def _walked_ancestors(dag: Dag, name: str) -> set[str]:
    found: set[str] = set()
    frontier = list(dag[name])
    while frontier:
        parent = frontier.pop()
        if parent not in found:
            found.add(parent)
            frontier.extend(dag[parent])
    return found


@settings(max_examples=60, deadline=None)
@given(dag=dags(max_size=14), data=st.data())
def test_lookup_by_name_finds_exactly_the_ancestors(dag: Dag, data: st.DataObject) -> None:
    graph = _graph(dag)
    for name in dag:
        results = AncestorResults(f"uuid-{name}", graph)
        expected = _walked_ancestors(dag, name)
        assert {other for other in dag if other in results} == expected
        assert set(results) == expected  # listing them all agrees
        assert {other for other in dag if other in results} == expected  # and after listing

    # An edge added mid-run (a decision step's branch joining an existing step) is seen too.
    names = list(dag)
    if len(names) >= 2:
        parent_index = data.draw(st.integers(0, len(names) - 2))
        child_index = data.draw(st.integers(parent_index + 1, len(names) - 1))
        parent, child = names[parent_index], names[child_index]
        if parent not in dag[child]:
            graph.link(f"uuid-{parent}", f"uuid-{child}")
            dag[child].append(parent)
        for name in dag:
            results = AncestorResults(f"uuid-{name}", graph)
            assert {other for other in dag if other in results} == _walked_ancestors(dag, name)


def test_an_ancestor_result_is_handed_with_its_uuid_and_a_non_ancestor_is_missing() -> None:
    graph = _graph({"a": [], "b": ["a"], "c": ["b"], "side": []})
    results = AncestorResults("uuid-c", graph)

    assert results["a"] == ("uuid-a", {"from": "a"})  # a grandparent
    assert results.get("side") is None
    assert results.get("c") is None  # a step is not its own ancestor
    assert results.get("no_such_step") is None


def test_each_reader_gets_its_own_copy_of_a_result() -> None:
    graph = _graph({"a": [], "b": ["a"], "c": ["a"]})
    first = AncestorResults("uuid-b", graph)["a"][1]
    first["from"] = "changed by b"

    assert AncestorResults("uuid-c", graph)["a"][1] == {"from": "a"}


def test_depth_is_the_longest_path_from_a_root() -> None:
    graph = _graph({"a": [], "b": ["a"], "c": ["b"], "d": ["a", "c"]})

    assert [graph.depth(f"uuid-{n}") for n in "abcd"] == [0, 1, 2, 3]
    graph.steps["uuid-e"] = RunStep.from_record(_record("e"))
    graph.parents["uuid-e"] = []
    graph.link("uuid-d", "uuid-e")
    assert graph.depth("uuid-e") == 4
