"""The README's exit-code table is the one definition of every code: errors.py only names them."""

from __future__ import annotations

import re
from pathlib import Path

from tasker_ctl import errors

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_codes() -> set[int]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    return {int(code) for code in re.findall(r"^\| (\d+) \|", section, flags=re.MULTILINE)}


def test_every_named_code_is_in_the_readme_table_and_every_row_is_named() -> None:
    named = {value for name, value in vars(errors).items() if name.startswith("EXIT_")}

    assert named == _readme_codes()


def test_every_error_class_exits_with_a_code_of_the_table() -> None:
    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.TaskerCtlError)
    ]

    assert {error_class.exit_code for error_class in classes} <= _readme_codes()
