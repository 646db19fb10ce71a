"""Reading template YAML: plain values, the line of every element, and what is refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tasker_ctl.template import source as source_module
from tasker_ctl.template.source import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    SourceDocument,
    SourceError,
    parse_source,
    read_source,
)

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


def test_nesting_past_our_limit_is_refused_with_our_limit(write_template: WriteTemplate) -> None:
    depth = MAX_DEPTH + 1
    error = _refusal(write_template("a: " + "[" * depth + "]" * depth + "\n"))

    assert error.message == f"nesting deeper than {MAX_DEPTH} levels"
    assert error.line == 1


def test_very_deep_nesting_is_refused_without_recursion_error(
    write_template: WriteTemplate,
) -> None:
    # Past libyaml's own limit the parser may refuse first, in its own words: only the refusal
    # (a SourceError with its line, never a RecursionError) is tasker-ctl's behaviour.
    error = _refusal(write_template("a: " + "[" * 5000 + "]" * 5000 + "\n"))

    assert error.line == 1


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


# --- the event reader and the node reader agree ------------------------------------------------
# Plain documents are read from parser events; everything else goes through composed nodes.
# Whichever reads a document, the values, the lines and the refusals must be the same.

_Outcome = tuple[object, ...]


def _outcome(read: Callable[[str, Path], object], text: str) -> _Outcome:
    try:
        document = read(text, Path("t.yaml"))
    except SourceError as error:
        return ("refused", error.message, error.line)
    assert isinstance(document, SourceDocument)
    return ("read", document.data, document.value_lines, document.key_lines)


def _assert_readers_agree(text: str) -> None:
    assert _outcome(parse_source, text) == _outcome(source_module._read_nodes, text)


def _reads_from_events(text: str) -> bool:
    return source_module._EventReader(Path("t.yaml")).read(text) is not None


PLAIN_DOCUMENTS = [
    NESTED,
    "name: a\nversion: 1.0\ncount: 0x1F\nflag: yes\nnothing: ~\nempty:\nday: 2025-01-02\n",
    "steps:\n- {name: a, retry: {max_attempts: 3, backoff_base_ms: 1_000}}\n- [1, 2.5, .inf, -.nan]\n",
    "quoted: \"1\"\nsingle: 'true'\nblock: |\n  text\n  more\nfolded: >-\n  a\n  b\n",
    "1: one\ntrue: yes\n'<<': quoted merge key is text\n? long key\n: value\n",
    "---\n- a\n- b: [c, {d: e}]\n...\n",
    "just text\n",
    "---\n",
    "a: " + "[" * 200 + "]" * 200 + "\n",
    '{"name": "json", "steps": [{"name": "a", "dependencies": []}], "n": 1e3}',
]

UNUSUAL_DOCUMENTS = [
    "",
    "# only a comment\n",
    "base: &base {callable: h.A, method: run}\nhandler: {<<: *base, method: call}\n",
    "a: &a [1, *a]\n",
    "a: !!str 1\nb: !custom x\nc: ! 3\n",
    "a: !!binary aGVsbG8=\n",
    "name: a\nversion: 1.0.0\nname: b\n",
    "steps:\n  - name: a\n    name: b\n",
    "? [a, b]\n: 1\n",
    "{[a]: 1}\n",
    "a: = \n",
    "day: 2025-13-45\n",
    "---\na: 1\n---\nb: 2\n",
    "a: [1, 2\nb: 3\n",
    "a: *undefined\n",
    "a: " + "[" * 300 + "]" * 300 + "\n",
    "a: " + "[" * 201 + "]" * 201 + "\n",
]


@pytest.mark.parametrize("text", PLAIN_DOCUMENTS)
def test_plain_documents_are_read_from_events_with_the_same_result(text: str) -> None:
    assert _reads_from_events(text)
    _assert_readers_agree(text)


@pytest.mark.parametrize("text", UNUSUAL_DOCUMENTS)
def test_unusual_documents_are_read_from_nodes_with_the_same_result(text: str) -> None:
    assert not _reads_from_events(text)
    _assert_readers_agree(text)


def test_every_bundled_and_fixture_template_reads_the_same_both_ways(
    bundled_templates: Path, template_fixtures: Path
) -> None:
    paths = sorted([*bundled_templates.rglob("*.yaml"), *template_fixtures.rglob("*.yaml")])

    assert paths
    for path in paths:
        _assert_readers_agree(path.read_text(encoding="utf-8"))


_SCALAR_TEXTS = st.sampled_from(
    ["a", "1", "-2", "0o17", "1_000", "1.5", "1e3", ".nan", "true", "No", "~", "null", "",
     "2025-01-02", "2025-01-02 03:04:05", "2025-13-45", "<<", "=", "h.A", "a: b", "#x", "- x"]
)  # fmt: skip
_KEYS = st.one_of(_SCALAR_TEXTS, st.text(alphabet="ab_<=1", min_size=1, max_size=3))
_VALUES = st.recursive(
    st.one_of(_SCALAR_TEXTS, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none()),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_KEYS, children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(value=_VALUES, flow=st.sampled_from([None, True, False]), plain=st.booleans())
def test_generated_documents_read_the_same_both_ways(
    value: object, flow: bool | None, plain: bool
) -> None:
    # Dumping with plain style tries every string unquoted where YAML allows it; editing the
    # text afterwards would add duplicate keys or unreadable values, which is the point.
    text = yaml.safe_dump(value, default_flow_style=flow, default_style=None if plain else '"')
    _assert_readers_agree(text)
    _assert_readers_agree(text.replace("'", ""))
