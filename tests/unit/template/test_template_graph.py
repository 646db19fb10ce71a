"""Graph helpers over ``step -> dependencies``: cycles, orders, levels, critical path."""

from __future__ import annotations

import itertools

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tasker_ctl.template import graph
from tasker_ctl.template.models import TaskTemplate

# The e-commerce diamond: validate -> (payment ‖ inventory) -> order -> confirm.
ECOMMERCE = {
    "validate_cart": (),
    "process_payment": ("validate_cart",),
    "update_inventory": ("validate_cart",),
    "create_order": ("process_payment", "update_inventory"),
    "send_confirmation": ("create_order",),
}


def test_cycle_path_reads_in_the_depends_on_direction() -> None:
    assert graph.find_cycles({"a": ["b"], "b": ["c"], "c": ["a"]}) == [["a", "b", "c", "a"]]


def test_cycle_path_starts_at_the_re_entered_step() -> None:
    # The search starts at "entry"; the cycle closes at b, so it is reported from b.
    dependencies = {"entry": ["b"], "b": ["c"], "c": ["b"]}

    assert graph.find_cycles(dependencies) == [["b", "c", "b"]]


def test_self_dependency_is_a_one_step_cycle() -> None:
    assert graph.find_cycles({"a": ["a"]}) == [["a", "a"]]


def test_each_distinct_cycle_is_reported_once_in_template_order() -> None:
    dependencies = {"x": ["y"], "y": ["x"], "a": ["b"], "b": ["a"], "ok": ["x"]}

    assert graph.find_cycles(dependencies) == [["x", "y", "x"], ["a", "b", "a"]]


def test_missing_dependencies_are_not_cycles() -> None:
    assert graph.find_cycles({"a": ["ghost"], "b": ["a"]}) == []
    assert graph.find_cycles(ECOMMERCE) == []


def test_ecommerce_shape() -> None:
    assert graph.roots(ECOMMERCE) == ["validate_cart"]
    assert graph.leaves(ECOMMERCE) == ["send_confirmation"]
    assert graph.execution_order(ECOMMERCE) == [
        "validate_cart",
        "process_payment",
        "update_inventory",
        "create_order",
        "send_confirmation",
    ]
    assert graph.parallel_levels(ECOMMERCE) == [
        ["validate_cart"],
        ["process_payment", "update_inventory"],
        ["create_order"],
        ["send_confirmation"],
    ]
    assert graph.critical_path(ECOMMERCE) == [
        "validate_cart",
        "process_payment",
        "create_order",
        "send_confirmation",
    ]


def test_dependents_map_keeps_template_order_and_skips_unknown_names() -> None:
    dependencies = {"a": [], "c": ["a"], "b": ["a", "ghost"]}

    assert graph.dependents_map(dependencies) == {"a": ["c", "b"], "c": [], "b": []}


def test_order_leaves_out_cycles_and_steps_blocked_by_missing_dependencies() -> None:
    dependencies = {"a": [], "b": ["a", "ghost"], "c": ["d"], "d": ["c"], "e": ["a"]}

    assert graph.execution_order(dependencies) == ["a", "e"]
    assert graph.parallel_levels(dependencies) == [["a"], ["e"]]


def test_critical_path_prefers_the_longest_chain() -> None:
    dependencies = {"a": [], "short": ["a"], "b": ["a"], "c": ["b"], "end": ["short", "c"]}

    assert graph.critical_path(dependencies) == ["a", "b", "c", "end"]
    assert graph.critical_path({}) == []


def test_descendants() -> None:
    assert graph.descendants(ECOMMERCE, ["process_payment"]) == {
        "create_order",
        "send_confirmation",
    }


def test_a_10000_step_chain_needs_no_recursion() -> None:
    size = 10_000
    chain = {f"s{i}": ([f"s{i - 1}"] if i else []) for i in range(size)}

    assert graph.find_cycles(chain) == []
    assert len(graph.parallel_levels(chain)) == size
    assert len(graph.critical_path(chain)) == size

    closed = {**chain, "s0": [f"s{size - 1}"]}
    (cycle,) = graph.find_cycles(closed)
    assert len(cycle) == size + 1
    assert cycle[:3] == ["s0", f"s{size - 1}", f"s{size - 2}"]


def test_initial_steps_exclude_dynamic_ones() -> None:
    text = """
    name: t
    namespace_name: tests
    version: 1.0.0
    steps:
      - {name: start, handler: {callable: h.S}}
      - {name: route, type: decision, handler: {callable: h.R}, dependencies: [start]}
      - {name: branch, handler: {callable: h.B}, dependencies: [route]}
      - {name: after_branch, handler: {callable: h.A}, dependencies: [branch]}
      - {name: split, type: batchable, handler: {callable: h.Sp}, dependencies: [start]}
      - {name: work, type: batch_worker, handler: {callable: h.W}, dependencies: [split]}
      - {name: join, type: deferred_convergence, handler: {callable: h.J}, dependencies: [work]}
    """
    template = TaskTemplate.model_validate(yaml.safe_load(text))

    assert graph.initial_step_names(template) == ["start", "route", "split"]


@st.composite
def dags(draw: st.DrawFn) -> dict[str, list[str]]:
    """Random DAGs: step i may depend only on steps before it, listed in shuffled order."""
    size = draw(st.integers(min_value=0, max_value=25))
    names = [f"s{i}" for i in range(size)]
    dependencies = {
        name: draw(st.lists(st.sampled_from(names[:i]), unique=True)) if i else []
        for i, name in enumerate(names)
    }
    order = draw(st.permutations(names))
    return {name: dependencies[name] for name in order}


@settings(max_examples=40, deadline=None)
@given(dags())
def test_orders_respect_every_dependency(dependencies: dict[str, list[str]]) -> None:
    order = graph.execution_order(dependencies)
    position = {name: i for i, name in enumerate(order)}
    level_of = {n: i for i, level in enumerate(graph.parallel_levels(dependencies)) for n in level}

    assert graph.find_cycles(dependencies) == []
    assert sorted(order) == sorted(dependencies)
    assert sorted(level_of) == sorted(dependencies)
    for name, parents in dependencies.items():
        for parent in parents:
            assert position[parent] < position[name]
            assert level_of[parent] < level_of[name]
    path = graph.critical_path(dependencies)
    assert len(path) == len(graph.parallel_levels(dependencies))
    for parent, child in itertools.pairwise(path):
        assert parent in dependencies[child]
