"""The rich DAG view: state marks readable without colour, box colours from step states."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from tasker_ctl.ui.dag import print_dag, render_dag, state_display

NODES = [
    "validate_cart",
    "process_payment",
    "update_inventory",
    "create_order",
    "send_confirmation",
]
EDGES = [
    ("validate_cart", "process_payment"),
    ("validate_cart", "update_inventory"),
    ("process_payment", "create_order"),
    ("update_inventory", "create_order"),
    ("create_order", "send_confirmation"),
]

WITH_STATES = """\
            ┌───────────────┐
            │ validate_cart │
            │  ✓ complete   │
            └───────┬───────┘
                    │
         ┌──────────┴───────────┐
         ▼                      ▼
┌─────────────────┐   ┌──────────────────┐
│ process_payment │   │ update_inventory │
│ ↻ retrying 2/3  │   │    ● running     │
└────────┬────────┘   └─────────┬────────┘
         │                      │
         └───────────┬──────────┘
                     ▼
             ┌──────────────┐
             │ create_order │
             │  ○ pending   │
             └───────┬──────┘
                     │
                     ▼
           ┌───────────────────┐
           │ send_confirmation │
           │    – not taken    │
           └───────────────────┘
"""


def plain_console(width: int) -> Console:
    return Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)


def output(console: Console) -> str:
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


def test_marks_and_words_show_each_state_without_colour() -> None:
    console = plain_console(80)
    states = {
        "validate_cart": "complete",
        "process_payment": "waiting_for_retry",
        "update_inventory": "in_progress",
        "send_confirmation": "not_taken",
    }
    print_dag(console, NODES, EDGES, states, details={"process_payment": "2/3"})
    assert output(console) == WITH_STATES


def test_without_states_the_boxes_hold_only_names() -> None:
    console = plain_console(80)
    print_dag(console, NODES, EDGES)
    assert "│ validate_cart │\n            └" in output(console)
    assert "pending" not in output(console)


def test_each_box_takes_the_colour_of_its_state() -> None:
    states = {"validate_cart": "complete", "process_payment": "error", "create_order": "enqueued"}
    text = render_dag(NODES, EDGES, states, width=80)
    lines = text.plain.split("\n")

    def style_at(row: int, needle: str) -> str:
        offset = sum(len(line) + 1 for line in lines[:row]) + lines[row].index(needle)
        return " ".join(str(span.style) for span in text.spans if span.start <= offset < span.end)

    assert style_at(1, "validate_cart") == "green"
    assert style_at(8, "process_payment") == "red"
    assert style_at(8, "update_inventory") == "dim"  # missing from states: pending
    assert style_at(15, "create_order") == "blue"
    assert style_at(6, "▼") == ""  # connectors stay uncoloured


def test_a_colour_terminal_gets_ansi_styles_and_no_color_gets_none() -> None:
    coloured = Console(file=io.StringIO(), width=80, force_terminal=True, color_system="standard")
    print_dag(coloured, NODES, EDGES, {"validate_cart": "complete"})
    assert "\x1b[32m┌───────────────┐" in output(coloured)

    no_color = Console(file=io.StringIO(), width=80, force_terminal=True, no_color=True)
    print_dag(no_color, NODES, EDGES, {"validate_cart": "complete"})
    assert "\x1b[3" not in output(no_color)
    assert "✓ complete" in output(no_color)


def test_a_summary_box_counts_the_hidden_steps_by_state() -> None:
    children = [f"child_{i:03d}" for i in range(1, 201)]
    edges = [("root", c) for c in children] + [(c, "join") for c in children]
    states = dict.fromkeys(children[:150], "complete") | dict.fromkeys(
        children[150:154], "in_progress"
    )
    text = render_dag(["root", *children, "join"], edges, states, width=100).plain
    assert all(len(line) <= 100 for line in text.split("\n"))
    assert "… 196 more (parallel)" in text
    assert "✓ 146 ● 4 ○ 46" in text


@pytest.mark.parametrize(
    ("state", "category", "label"),
    [
        ("pending", "pending", "○ pending"),
        ("enqueued", "running", "● enqueued"),
        ("in_progress", "running", "● running"),
        ("enqueued_for_orchestration", "running", "● finishing"),
        ("enqueued_as_error_for_orchestration", "running", "● failing"),
        ("waiting_for_retry", "retrying", "↻ retrying"),
        ("complete", "complete", "✓ complete"),
        ("resolved_manually", "complete", "✓ resolved"),
        ("error", "error", "✗ error"),
        ("cancelled", "error", "✗ cancelled"),
        ("not_taken", "not_taken", "– not taken"),
        ("mystery", "unknown", "? mystery"),
    ],
)
def test_every_step_state_has_a_category_and_a_visible_mark(
    state: str, category: str, label: str
) -> None:
    look = state_display(state)
    assert (look.category, look.label) == (category, label)
