"""Generating files: parameters are checked, paths stay inside --output, nothing is clobbered."""

from __future__ import annotations

from pathlib import Path

import pytest
from scaffold_plugin_files import write_plugin

from tasker_ctl.errors import InvalidDataError, TaskerCtlError, UsageError
from tasker_ctl.scaffold import (
    TemplateChoice,
    WriteAction,
    discover_plugins,
    generate,
    parse_params,
    select_template,
)

TEMPLATE_TOML = """\
name = "pair"
description = "Two files and a marker"

[[parameters]]
name = "name"
description = "Thing name"
required = true

[[parameters]]
name = "folder"
description = "Where to put it"
default = "things"

[[parameters]]
name = "flavour"
description = "Optional"

[[outputs]]
template = "file.txt.tera"
subdir = "{{ folder }}"
filename = "{{ name | snake_case }}.txt"

[[outputs]]
template = "other.txt.tera"
subdir = "{{ folder }}/more"
filename = "{{ name | kebab_case }}.md"

[[outputs]]
template = "_shared/marker.tera"
subdir = "{{ folder }}"
filename = "MARKER"
keep_existing = true
"""


def _choice(tmp_path: Path, template_toml: str = TEMPLATE_TOML) -> TemplateChoice:
    root = write_plugin(tmp_path / "plugin", templates={"pair": template_toml})
    (root / "templates" / "pair" / "other.txt.tera").write_text(
        "{{ name | pascal_case }}/{{ name | camel_case }}{% if flavour %} {{ flavour }}{% endif %}"
    )
    (root / "_shared").mkdir()
    (root / "_shared" / "marker.tera").write_text("marker for {{ name }}\n")
    return select_template(discover_plugins([root]).plugins, "pair")


def _files(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): path.read_text()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def test_renders_contents_file_names_subdirs_and_shared_files(tmp_path: Path) -> None:
    out = tmp_path / "out"

    result = generate(_choice(tmp_path), {"name": "HTTPServer"}, out)

    assert _files(out) == {
        "things/MARKER": "marker for HTTPServer\n",
        "things/http_server.txt": "Hello HTTPServer\n",
        "things/more/http-server.md": "HttpServer/httpServer",
    }
    assert [item.action for item in result.files] == [WriteAction.CREATE] * 3


def test_given_values_override_defaults_and_optional_ones_may_be_tested(tmp_path: Path) -> None:
    out = tmp_path / "out"

    generate(_choice(tmp_path), {"name": "a", "folder": "x", "flavour": "mint"}, out)

    assert (out / "x" / "more" / "a.md").read_text() == "A/a mint"


def test_dry_run_writes_nothing_but_reports_every_file(tmp_path: Path) -> None:
    out = tmp_path / "out"

    result = generate(_choice(tmp_path), {"name": "thing"}, out, dry_run=True)

    assert not out.exists()
    assert [item.path for item in result.files] == [
        out / "things" / "thing.txt",
        out / "things" / "more" / "thing.md",
        out / "things" / "MARKER",
    ]


def test_existing_files_are_not_overwritten_without_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    choice = _choice(tmp_path)
    generate(choice, {"name": "thing"}, out)
    (out / "things" / "thing.txt").write_text("my edits")
    (out / "things" / "MARKER").write_text("my marker")

    with pytest.raises(TaskerCtlError, match="not overwriting existing files: ") as caught:
        generate(choice, {"name": "thing"}, out)

    assert caught.value.hint is not None and "--force" in caught.value.hint
    assert (out / "things" / "thing.txt").read_text() == "my edits"

    result = generate(choice, {"name": "thing"}, out, force=True)

    assert (out / "things" / "thing.txt").read_text() == "Hello thing\n"
    assert (out / "things" / "MARKER").read_text() == "my marker"  # keep_existing, even forced
    assert [item.action for item in result.files] == [
        WriteAction.OVERWRITE,
        WriteAction.OVERWRITE,
        WriteAction.KEEP,
    ]


@pytest.mark.parametrize("folder", ["../../evil", "../evil", "/tmp/tasker-ctl-evil", "a/../../b"])
def test_paths_outside_the_output_directory_are_refused_before_writing(
    tmp_path: Path, folder: str
) -> None:
    out = tmp_path / "out"

    with pytest.raises(UsageError, match=r"refusing to write .* outside"):
        generate(_choice(tmp_path), {"name": "x", "folder": folder}, out)

    assert not out.exists()
    assert not Path("/tmp/tasker-ctl-evil").exists()
    assert not (tmp_path / "evil").exists()


def test_a_symlink_pointing_out_of_the_output_directory_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    outside = tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "link").symlink_to(outside)

    with pytest.raises(UsageError, match="symlink"):
        generate(_choice(tmp_path), {"name": "x", "folder": "link"}, out)

    assert list(outside.iterdir()) == []


def test_unknown_parameters_get_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        generate(_choice(tmp_path), {"nmae": "x"}, tmp_path / "out")

    assert (
        caught.value.message
        == "unknown parameter 'nmae' for template 'pair' (did you mean 'name'?)"
    )
    assert caught.value.hint == "its parameters are: name, folder, flavour"


def test_missing_required_parameters_are_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        generate(_choice(tmp_path), {}, tmp_path / "out")

    assert caught.value.message == "Parameter validation failed: missing required parameter: name"
    assert caught.value.hint is not None
    assert "tasker-ctl template info pair" in caught.value.hint


def test_a_parameter_pattern_is_enforced(tmp_path: Path) -> None:
    toml = TEMPLATE_TOML.replace("required = true\n", 'required = true\npattern = "[a-z]+"\n', 1)

    with pytest.raises(UsageError, match="parameter 'name' value 'Bad1' does not match"):
        generate(_choice(tmp_path, toml), {"name": "Bad1"}, tmp_path / "out")


def test_an_undefined_variable_is_a_template_error(tmp_path: Path) -> None:
    choice = _choice(tmp_path)
    (choice.template.directory / "file.txt.tera").write_text("{{ nope }}")

    with pytest.raises(
        InvalidDataError, match=r"file\.txt\.tera:1: cannot render: 'nope' is undefined"
    ):
        generate(choice, {"name": "x"}, tmp_path / "out")


def test_a_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    choice = _choice(tmp_path)
    (choice.template.directory / "file.txt.tera").write_text("ok\n{% if %}")

    with pytest.raises(InvalidDataError, match=r"file.txt.tera:2: template syntax error"):
        generate(choice, {"name": "x"}, tmp_path / "out")


def test_a_failing_expression_names_the_file_and_line(tmp_path: Path) -> None:
    choice = _choice(tmp_path)
    (choice.template.directory / "file.txt.tera").write_text("one\ntwo\n{{ 1 / 0 }}\n")

    with pytest.raises(InvalidDataError) as raised:
        generate(choice, {"name": "x"}, tmp_path / "out")

    where = choice.template.directory / "file.txt.tera"
    assert raised.value.message.startswith(f"{where}:3: cannot render: ZeroDivisionError")
    assert not (tmp_path / "out").exists()


def test_a_failure_in_a_shared_partial_names_the_partial(tmp_path: Path) -> None:
    choice = _choice(tmp_path)
    (choice.template.directory / "file.txt.tera").write_text('a\n{% include "_shared/p.tera" %}')
    partial = choice.plugin.root / "_shared" / "p.tera"
    partial.write_text("x\ny\n{{ [] | first | upper }}{{ 1 // 0 }}\n")

    with pytest.raises(InvalidDataError) as raised:
        generate(choice, {"name": "x"}, tmp_path / "out")

    assert raised.value.message.startswith(f"{partial}:3: cannot render:")


def test_a_failure_in_an_output_name_names_the_template_toml(tmp_path: Path) -> None:
    toml = TEMPLATE_TOML.replace(
        'filename = "{{ name | snake_case }}.txt"', 'filename = "{{ 1 / 0 }}"'
    )
    choice = _choice(tmp_path, toml)

    with pytest.raises(InvalidDataError) as raised:
        generate(choice, {"name": "x"}, tmp_path / "out")

    assert raised.value.message.startswith(
        f"{choice.template.directory / 'template.toml'} (an output filename or subdir)"
    )


def test_truncate_follows_tera(tmp_path: Path) -> None:
    choice = _choice(tmp_path)
    (choice.template.directory / "file.txt.tera").write_text(
        "{{ name | truncate(length=2) }} {{ name | truncate(length=9) }} "
        '{{ name | truncate(length=3, end="") }}'
    )

    generate(choice, {"name": "widget"}, tmp_path / "out")

    assert (tmp_path / "out" / "things" / "widget.txt").read_text() == "wi… widget wid"


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        (["name=X"], {"name": "X"}),
        (["url=http://x?a=b", "empty="], {"url": "http://x?a=b", "empty": ""}),
        ([], {}),
    ],
)
def test_params_split_on_the_first_equals_sign(raw: list[str], parsed: dict[str, str]) -> None:
    assert parse_params(raw) == parsed


@pytest.mark.parametrize("bad", ["novalue", "=value"])
def test_a_malformed_param_is_a_usage_error(bad: str) -> None:
    with pytest.raises(UsageError, match=f"invalid parameter format: '{bad}'. Expected key=value"):
        parse_params([bad])


def test_a_repeated_param_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="parameter 'a' is given twice"):
        parse_params(["a=1", "a=2"])
