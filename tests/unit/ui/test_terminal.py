"""``console_width`` and ``write_plain_blocks`` against what a rich console really does."""

from __future__ import annotations

import io

import pytest
from rich.console import Group
from rich.text import Text

from tasker_ctl.ui.terminal import console_width, make_console, write_plain_blocks

FITTING_BLOCKS = [
    ["Task Details\n  UUID: 1234\n  Completed: -\n", "Steps:\n  • a  pending  0/3\n"],
    ["no trailing newline", "  two  spaces  kept  \n\n", ""],
    ["✓ done\n"],
]


def rendered_by_rich(blocks: list[str]) -> str:
    out = make_console()
    with out.capture() as capture:
        out.print(Group(*(Text(block) for block in blocks)))
    return capture.get()


@pytest.mark.parametrize("columns", ["37", "120", None, "not-a-number"])
def test_console_width_is_the_width_rich_uses(
    columns: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TERM", raising=False)
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert console_width() == make_console().width


def test_a_dumb_terminal_is_left_to_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    assert console_width() is None
    stream = io.StringIO()
    assert write_plain_blocks(["text\n"], stream) is False
    assert stream.getvalue() == ""


@pytest.mark.parametrize("blocks", FITTING_BLOCKS)
def test_plain_blocks_are_written_exactly_as_rich_prints_them(
    blocks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TERM", raising=False)
    monkeypatch.setenv("COLUMNS", "40")
    stream = io.StringIO()
    assert write_plain_blocks(blocks, stream) is True
    assert stream.getvalue() == rendered_by_rich(blocks)


@pytest.mark.parametrize(
    "block",
    [
        "x" * 41,  # rich would wrap it
        "a\tb",  # rich expands tabs
        "bell\a",  # rich drops control characters
        "wide 漢字",  # two cells per character
    ],
)
def test_text_rich_would_change_is_not_written(block: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TERM", raising=False)
    monkeypatch.setenv("COLUMNS", "40")
    stream = io.StringIO()
    assert write_plain_blocks(["fits\n", block], stream) is False
    assert stream.getvalue() == ""
