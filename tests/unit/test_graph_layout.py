"""The terminal layout of a workflow DAG: exact pictures for known shapes, invariants for all."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasker_ctl.ui.graph_layout import DagLayout, layout_dag

ECOMMERCE_NODES = [
    "validate_cart",
    "process_payment",
    "update_inventory",
    "create_order",
    "send_confirmation",
]
ECOMMERCE_EDGES = [
    ("validate_cart", "process_payment"),
    ("validate_cart", "update_inventory"),
    ("process_payment", "create_order"),
    ("update_inventory", "create_order"),
    ("create_order", "send_confirmation"),
]

ECOMMERCE = """\
            ┌───────────────┐
            │ validate_cart │
            └───────┬───────┘
                    │
         ┌──────────┴───────────┐
         ▼                      ▼
┌─────────────────┐   ┌──────────────────┐
│ process_payment │   │ update_inventory │
└────────┬────────┘   └─────────┬────────┘
         │                      │
         └───────────┬──────────┘
                     ▼
             ┌──────────────┐
             │ create_order │
             └───────┬──────┘
                     │
                     ▼
           ┌───────────────────┐
           │ send_confirmation │
           └───────────────────┘"""

ORDER = """\
            ┌────────────────┐
            │ validate_order │
            └────────┬───────┘
                     │
          ┌──────────┴───────────┐
          ▼                      ▼
┌───────────────────┐   ┌─────────────────┐
│ reserve_inventory │   │ notify_customer │
└─────────┬─────────┘   └─────────────────┘
          │
          ▼
 ┌────────────────┐
 │ charge_payment │
 └────────────────┘"""

CHAIN = """\
  ┌───────┐
  │ fetch │
  └───┬───┘
      │
      ▼
┌───────────┐
│ transform │
└─────┬─────┘
      │
      ▼
  ┌──────┐
  │ load │
  └───┬──┘
      │
      ▼
 ┌────────┐
 │ report │
 └────────┘"""

FAN_OUT_FAN_IN = """\
              ┌───────┐
              │ split │
              └───┬───┘
                  │
     ┌────────────┼────────────┐
     ▼            ▼            ▼
┌────────┐   ┌────────┐   ┌────────┐
│ part_a │   │ part_b │   │ part_c │
└────┬───┘   └────┬───┘   └────┬───┘
     │            │            │
     └────────────┼────────────┘
                  ▼
              ┌───────┐
              │ merge │
              └───────┘"""

WIDE = """\
                                   ┌──────┐
                                   │ root │
                                   └───┬──┘
                                       │
      ┌───────────────┬────────────────┼──────────────┬─────────────────────┐
      ▼               ▼                ▼              ▼                     ▼
┌───────────┐   ┌───────────┐   ┌───────────┐   ┌───────────┐   ┌───────────────────────┐
│ child_001 │   │ child_002 │   │ child_003 │   │ child_004 │   │ … 196 more (parallel) │
└─────┬─────┘   └─────┬─────┘   └─────┬─────┘   └─────┬─────┘   └───────────┬───────────┘
      │               │               │               │                     │
      └───────────────┴───────────────┼───────────────┴─────────────────────┘
                                      ▼
                                   ┌──────┐
                                   │ join │
                                   └──────┘"""

LAYER_SKIP = """\
┌─────────┐
│ extract │
└────┬────┘
     │
     ├──────┐
     ▼      │
 ┌───────┐  │
 │ clean │  │
 └───┬───┘  │
     │      │
     ├──────┘
     ▼
┌─────────┐
│ publish │
└─────────┘"""

SKIP_AS_NOTES = """\
┌─────┐   ┌─────┐   ┌─────┐   ┌─────┐   ┌─────┐
│ r0  │   │ r1  │   │ r2  │   │ r3  │   │ r4  │
└──┬──┘   └──┬──┘   └──┬──┘   └──┬──┘   └──┬──┘
   │         │         │         │         │
   ▼         ▼         ▼         ▼         ▼
┌─────┐   ┌─────┐   ┌─────┐   ┌─────┐   ┌─────┐
│ m0  │   │ m1  │   │ m2  │   │ m3  │   │ m4  │
└──┬──┘   └──┬──┘   └──┬──┘   └──┬──┘   └──┬──┘
   │         │         │         │         │
   └─────────┴─────────┼─────────┴─────────┘
                       ▼
               ┌───────────────┐
               │     final     │
               │ ↳ also after: │
               │      r0       │
               │      r1       │
               │      r2       │
               │    +2 more    │
               └───────────────┘"""

TWO_ARROWS = """\
  ┌─────┐   ┌─────┐
  │  a  │   │  b  │
  └──┬──┘   └──┬──┘
     │         │
     ├───────┐ │
     ▼       ▼ ▼
┌─────┐   ┌─────┐
│  x  │   │  y  │
└─────┘   └─────┘"""


def chain(*names: str) -> list[tuple[str, str]]:
    return list(itertools.pairwise(names))


def wide_fan(width: int) -> tuple[list[str], list[tuple[str, str]]]:
    children = [f"child_{i:03d}" for i in range(1, width + 1)]
    edges = [("root", c) for c in children] + [(c, "join") for c in children]
    return ["root", *children, "join"], edges


def test_seed_ecommerce_dag_branches_side_by_side_and_converges() -> None:
    assert layout_dag(ECOMMERCE_NODES, ECOMMERCE_EDGES, max_width=100).text == ECOMMERCE


def test_seed_order_workflow_with_an_unbalanced_fan_out() -> None:
    nodes = ["validate_order", "reserve_inventory", "notify_customer", "charge_payment"]
    edges = [
        ("validate_order", "reserve_inventory"),
        ("validate_order", "notify_customer"),
        ("reserve_inventory", "charge_payment"),
    ]
    assert layout_dag(nodes, edges, max_width=100).text == ORDER


def test_linear_chain_is_one_straight_column() -> None:
    names = ("fetch", "transform", "load", "report")
    assert layout_dag(names, chain(*names), max_width=100).text == CHAIN


def test_three_way_fan_out_and_fan_in() -> None:
    nodes = ["split", "part_a", "part_b", "part_c", "merge"]
    edges = [("split", p) for p in nodes[1:4]] + [(p, "merge") for p in nodes[1:4]]
    assert layout_dag(nodes, edges, max_width=100).text == FAN_OUT_FAN_IN


def test_two_hundred_children_collapse_into_a_summary_within_the_width() -> None:
    nodes, edges = wide_fan(200)
    layout = layout_dag(nodes, edges, max_width=100)

    assert layout.text == WIDE
    summary = next(box for box in layout.boxes if box.summary)
    assert summary.nodes == tuple(nodes[5:201])


def test_an_edge_skipping_a_layer_runs_as_a_line_beside_the_middle_step() -> None:
    edges = [("extract", "clean"), ("clean", "publish"), ("extract", "publish")]
    assert layout_dag(["extract", "clean", "publish"], edges, max_width=100).text == LAYER_SKIP


def test_skipping_edges_become_notes_when_their_lines_do_not_fit() -> None:
    roots = [f"r{i}" for i in range(5)]
    middles = [f"m{i}" for i in range(5)]
    edges = [*zip(roots, middles, strict=True)]
    edges += [(m, "final") for m in middles] + [(r, "final") for r in roots]

    layout = layout_dag([*roots, *middles, "final"], edges, max_width=50)

    assert layout.text == SKIP_AS_NOTES


def test_a_child_reached_by_two_different_groups_gets_one_arrow_per_group() -> None:
    # a -> x, a -> y, b -> y: one shared line would wrongly suggest b -> x.
    layout = layout_dag(["a", "b", "x", "y"], [("a", "x"), ("a", "y"), ("b", "y")], max_width=60)
    assert layout.text == TWO_ARROWS


def test_labels_add_a_line_inside_the_box() -> None:
    layout = layout_dag(["load"], [], labels={"load": "✓ complete"}, max_width=40)
    assert layout.lines == (
        "┌────────────┐",
        "│    load    │",
        "│ ✓ complete │",
        "└────────────┘",
    )


def test_steps_without_edges_sit_side_by_side_in_template_order() -> None:
    layout = layout_dag(["b", "a"], [], max_width=40)
    assert layout.lines == ("┌─────┐   ┌─────┐", "│  b  │   │  a  │", "└─────┘   └─────┘")


def test_a_name_wider_than_the_screen_is_shortened_with_an_ellipsis() -> None:
    layout = layout_dag(["x" * 50], [], max_width=20)
    assert layout.lines[1] == "│ " + "x" * 15 + "… │"


def test_summary_label_comes_from_the_hidden_steps() -> None:
    nodes, edges = wide_fan(30)
    layout = layout_dag(nodes, edges, max_width=60, summarize=lambda hidden: f"{len(hidden)} ok")
    summary = next(box for box in layout.boxes if box.summary)
    assert f"{len(summary.nodes)} ok" in layout.lines[summary.top + 2]


def test_edge_order_does_not_change_the_picture() -> None:
    shuffled = list(reversed(ECOMMERCE_EDGES))
    assert layout_dag(ECOMMERCE_NODES, shuffled, max_width=100).text == ECOMMERCE


@pytest.mark.parametrize(
    ("nodes", "edges", "message"),
    [
        (["a", "b"], [("a", "b"), ("b", "a")], "cycle through: a, b"),
        (["a"], [("a", "a")], "cycle through: a"),
        (["a"], [("a", "ghost")], "unknown step 'ghost'"),
        (["a", "a"], [], "step 'a' is listed twice"),
    ],
)
def test_malformed_graphs_are_rejected(
    nodes: list[str], edges: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        layout_dag(nodes, edges)


def test_an_empty_graph_draws_nothing() -> None:
    assert layout_dag([], []) == DagLayout(lines=(), boxes=())


def test_too_narrow_a_width_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_width"):
        layout_dag(["a"], [], max_width=5)


def assert_well_formed(layout: DagLayout, nodes: list[str], max_width: int) -> None:
    assert layout.width <= max_width
    shown = [name for box in layout.boxes for name in box.nodes]
    assert sorted(shown) == sorted(nodes), "every step is in exactly one box"
    for box in layout.boxes:
        top = layout.lines[box.top][box.left : box.left + box.width]
        bottom = layout.lines[box.top + box.height - 1][box.left : box.left + box.width]
        assert top[0] + top[-1] == "┌┐"
        assert bottom[0] + bottom[-1] == "└┘"
        if not box.summary:
            assert box.nodes[0][: box.width - 5] in layout.lines[box.top + 1]


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, str]]]:
    count = draw(st.integers(min_value=1, max_value=25))
    nodes = [f"step_{i}" for i in range(count)]
    pairs = [(i, j) for j in range(count) for i in range(max(0, j - 6), j)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True) if pairs else st.just([]))
    return nodes, [(nodes[i], nodes[j]) for i, j in chosen]


@settings(max_examples=150, deadline=None)
@given(dag=dags(), max_width=st.sampled_from([30, 60, 100]))
def test_any_dag_fits_the_width_shows_every_step_once_and_is_deterministic(
    dag: tuple[list[str], list[tuple[str, str]]], max_width: int
) -> None:
    nodes, edges = dag
    layout = layout_dag(nodes, edges, max_width=max_width)
    assert_well_formed(layout, nodes, max_width)
    assert layout_dag(nodes, edges, max_width=max_width) == layout


def test_a_thousand_step_graph_is_laid_out_within_the_width() -> None:
    rng = random.Random(7)
    nodes = [f"step_{i:04d}" for i in range(1200)]
    edges = [
        (nodes[i], nodes[j])
        for j in range(1200)
        for i in range(max(0, j - 8), j)
        if rng.random() < 0.2
    ]
    layout = layout_dag(nodes, edges, max_width=100)
    assert_well_formed(layout, nodes, 100)


_CONNECTS = {
    "│": "UD",
    "─": "LR",
    "┌": "DR",
    "┐": "DL",
    "└": "UR",
    "┘": "UL",
    "├": "UDR",
    "┤": "UDL",
    "┬": "DLR",
    "┴": "ULR",
    "┼": "UDLR",
}
_STEP = {"D": (1, 0), "L": (0, -1), "R": (0, 1)}
_BACK = {"D": "U", "L": "R", "R": "L"}


def traced_children(layout: DagLayout, name: str) -> set[str]:
    """Follow the drawn lines down from a box to the boxes its arrows point into.

    Lines are followed downwards and sideways, never up; a vertical line drawn over a
    horizontal one (``─│─``) is a crossing, which a sideways walk jumps.
    """
    box = next(b for b in layout.boxes if b.nodes == (name,))
    bottom = layout.lines[box.top + box.height - 1]
    starts = [c for c in range(box.left, box.left + box.width) if bottom[c] == "┬"]
    found: set[str] = set()
    seen: set[tuple[int, int, str]] = set()
    stack = [(box.top + box.height - 1, column, "D") for column in starts]
    while stack:
        row, column, heading = stack.pop()
        row, column = row + _STEP[heading][0], column + _STEP[heading][1]
        if (row, column, heading) in seen:
            continue
        seen.add((row, column, heading))
        char = layout.lines[row][column] if column < len(layout.lines[row]) else " "
        if char == "▼":
            target = next(
                b for b in layout.boxes if b.top == row + 1 and b.left < column < b.left + b.width
            )
            found.update(target.nodes)
        elif char == "│" and heading in "LR":
            stack.append((row, column, heading))
        else:
            assert _BACK[heading] in _CONNECTS[char], f"line broken at {row},{column}"
            stack.extend(
                (row, column, d) for d in _CONNECTS[char] if d in "DLR" and d != _BACK[heading]
            )
    return found


@settings(max_examples=200, deadline=None)
@given(dag=dags())
def test_drawn_lines_connect_each_step_to_exactly_its_children(
    dag: tuple[list[str], list[tuple[str, str]]],
) -> None:
    nodes, edges = dag
    layout = layout_dag(nodes, edges, max_width=400)
    if "↳" in layout.text or any(box.summary for box in layout.boxes):
        return  # pictures that summarise are checked by the exact-string tests
    for name in nodes:
        assert traced_children(layout, name) == {c for p, c in edges if p == name}, layout.text
