"""Reading template YAML: plain values, the line of every element, and what is refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tasker_ctl.template.source import MAX_FILE_BYTES, SourceError, read_source

WriteTemplate = Callable[..., Path]  # the write_template fixture in tests/conftest.py

NESTED = """
name: nested
steps:
  - name: a
    handler:
      callable: h.A
  - name: b
    handler: {callable: h.B}
    dependencies:
      - a
      - x
"""


def test_values_are_plain_python(write_template: WriteTemplate) -> None:
    document = read_source(write_template(NESTED))

    assert document.data["steps"][1] == {
        "name": "b",
        "handler": {"callable": "h.B"},
        "dependencies": ["a", "x"],
    }


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("name",), 1),
        (("steps",), 3),
        (("steps", 0), 3),
        (("steps", 0, "handler"), 5),
        (("steps", 0, "handler", "callable"), 5),
        (("steps", 1, "handler", "callable"), 7),
        (("steps", 1, "dependencies", 0), 9),
        (("steps", 1, "dependencies", 1), 10),
    ],
)
def test_every_nested_element_has_its_line(
    write_template: WriteTemplate, path: tuple[str | int, ...], line: int
) -> None:
    assert read_source(write_template(NESTED)).line_of(path) == line


def test_key_lines_and_fallback_to_the_nearest_ancestor(write_template: WriteTemplate) -> None:
    document = read_source(write_template(NESTED))

    assert document.key_line_of(("steps", 1, "dependencies")) == 8
    assert document.line_of(("steps", 1, "dependencies")) == 9
    assert document.line_of(("steps", 1, "no_such_key", 3)) == 6


def test_timestamps_become_iso_text(write_template: WriteTemplate) -> None:
    document = read_source(write_template("created_at: 2025-01-02T03:04:05Z\nday: 2025-01-02\n"))

    assert document.data == {"created_at": "2025-01-02T03:04:05+00:00", "day": "2025-01-02"}


def test_merge_keys_are_supported(write_template: WriteTemplate) -> None:
    text = "base: &base {callable: h.A, method: run}\nhandler: {<<: *base, method: call}\n"

    document = read_source(write_template(text))

    assert document.data["handler"] == {"callable": "h.A", "method": "call"}


def _refusal(path: Path) -> SourceError:
    with pytest.raises(SourceError) as raised:
        read_source(path)
    return raised.value


def test_duplicate_keys_are_refused_with_both_lines(write_template: WriteTemplate) -> None:
    error = _refusal(write_template("name: a\nversion: 1.0.0\nname: b\n"))

    assert (error.message, error.line) == ("duplicate key 'name' (first given at line 1)", 3)


def test_duplicate_keys_in_nested_mappings_are_refused(write_template: WriteTemplate) -> None:
    error = _refusal(write_template("steps:\n  - name: a\n    name: b\n"))

    assert error.line == 3
    assert "duplicate key 'name'" in error.message


def test_alias_bomb_is_refused_before_expansion(template_fixtures: Path) -> None:
    error = _refusal(template_fixtures / "broken" / "alias_bomb.yaml")

    assert "aliases expand to more than" in error.message
    assert error.line == 2


def test_an_alias_inside_its_own_anchor_is_refused(write_template: WriteTemplate) -> None:
    error = _refusal(write_template("a: &a [1, *a]\n"))

    assert error.message == "a YAML alias refers to itself"


def test_deep_nesting_is_refused_without_recursion_error(write_template: WriteTemplate) -> None:
    error = _refusal(write_template("a: " + "[" * 5000 + "]" * 5000 + "\n"))

    assert error.message.startswith("nesting deeper than")


def test_files_over_the_size_limit_are_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:  # sparse: nothing is actually written
        handle.truncate(MAX_FILE_BYTES + 1)

    error = _refusal(path)

    assert f"over the {MAX_FILE_BYTES:,}-byte limit" in error.message


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", "file is empty: a template needs at least name, namespace_name, version", None),
        ("# only a comment\n", "file is empty", None),
        ("---\na: 1\n---\nb: 2\n", "the file holds more than one document", 3),
        ("a: [1, 2\nb: 3\n", "invalid YAML:", 2),
        ("? [a, b]\n: 1\n", "mapping keys must be plain text", 1),
    ],
)
def test_unreadable_documents(
    write_template: WriteTemplate, text: str, message: str, line: int | None
) -> None:
    error = _refusal(write_template(text))

    assert message in error.message
    assert error.line == line


def test_non_utf8_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")

    assert _refusal(path).message.startswith("file is not UTF-8 text")


@pytest.mark.parametrize(
    "text",
    [
        "name: !!python/object/apply:os.system ls\n",
        "name: !!python/object/apply:os.system [ls]\n",
        "name: !!python/object:os.Thing {a: 1}\n",
    ],
    ids=["scalar", "sequence", "mapping"],
)
def test_python_tags_are_refused_with_a_one_line_message(
    write_template: WriteTemplate, text: str
) -> None:
    error = _refusal(write_template(text))

    assert error.line == 1
    assert "python/object" in error.message
    assert "\n" not in error.message
