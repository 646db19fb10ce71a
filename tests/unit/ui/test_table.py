"""The plain tables of the listing commands: aligned, cut to the width where columns allow."""

from __future__ import annotations

from tasker_ctl.ui.table import Column, render_table, shorten

COLUMNS = (Column("ID"), Column("NAME", shrink=1), Column("NOTE", shrink=2))
ROWS = [("a1", "short", "-"), ("b2", "a rather long name indeed", "a note that goes on and on")]


def test_a_table_that_fits_is_aligned_with_two_spaces_and_no_trailing_blanks() -> None:
    assert render_table(COLUMNS, ROWS, 100) == (
        "ID  NAME                       NOTE\n"
        "a1  short                      -\n"
        "b2  a rather long name indeed  a note that goes on and on\n"
    )


def test_a_wide_table_cuts_the_shrinkable_columns_weighted_and_never_the_others() -> None:
    table = render_table(COLUMNS, ROWS, 40)
    assert table == (
        "ID  NAME                     NOTE\n"
        "a1  short                    -\n"
        "b2  a rather long name ind…  a note tha…\n"
    )
    assert max(map(len, table.splitlines())) <= 40


def test_columns_never_shrink_below_their_heading_or_six_characters() -> None:
    table = render_table(COLUMNS, ROWS, 10)
    assert table.splitlines()[2] == "b2  a rat…  a not…"


def test_an_empty_table_is_its_heading_and_shorten_marks_what_it_cut() -> None:
    assert render_table(COLUMNS, [], 80) == "ID  NAME  NOTE\n"
    assert (shorten("abcdef", 6), shorten("abcdefg", 6)) == ("abcdef", "abcde…")
