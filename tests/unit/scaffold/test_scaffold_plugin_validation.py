"""``plugin validate``'s checks: good manifests pass, every problem in a bad one is reported."""

from __future__ import annotations

from pathlib import Path

from scaffold_plugin_files import write_plugin

from tasker_ctl.scaffold import bundled_scaffolds_dir, validate_plugin_dir


def test_the_bundled_plugin_is_valid() -> None:
    validation = validate_plugin_dir(bundled_scaffolds_dir() / "python")

    assert validation.problems == []
    assert validation.ok


def test_a_written_plugin_is_valid(tmp_path: Path) -> None:
    validation = validate_plugin_dir(write_plugin(tmp_path, framework="fastapi"))

    assert validation.ok
    assert validation.plugin is not None
    assert validation.plugin.scope == "python/fastapi"


def test_empty_names_and_missing_template_paths_are_all_reported(tmp_path: Path) -> None:
    (tmp_path / "tasker-plugin.toml").write_text(
        """
[plugin]
name = ""
version = "0.1.0"
description = "broken"
language = " "

[[templates]]
name = "ghost"
path = "templates/ghost"
description = "not there"
"""
    )

    validation = validate_plugin_dir(tmp_path)

    assert validation.plugin is not None  # the manifest itself parsed
    assert validation.problems == [
        "plugin.name is empty",
        "plugin.language is empty",
        "template 'ghost' path 'templates/ghost' does not exist",
    ]


def test_a_missing_field_is_a_parse_failure(tmp_path: Path) -> None:
    (tmp_path / "tasker-plugin.toml").write_text('[plugin]\nname = "x"\nlanguage = "python"\n')

    validation = validate_plugin_dir(tmp_path)

    assert validation.plugin is None
    assert validation.problems == [
        f"failed to parse {tmp_path / 'tasker-plugin.toml'}: missing field 'plugin.version'"
    ]


def test_a_missing_manifest_cannot_be_read(tmp_path: Path) -> None:
    validation = validate_plugin_dir(tmp_path)

    assert not validation.ok
    assert validation.problems[0].startswith(f"failed to read {tmp_path / 'tasker-plugin.toml'}")


def test_a_file_is_not_a_plugin_directory(tmp_path: Path) -> None:
    file = tmp_path / "plugin.txt"
    file.write_text("")

    assert validate_plugin_dir(file).problems == [f"'{file}' is not a directory"]


def test_template_toml_problems_are_reported_per_template(tmp_path: Path) -> None:
    write_plugin(
        tmp_path,
        templates={
            "no_outputs": 'name = "no_outputs"\ndescription = "d"\n',
            "bad_output": (
                'name = "bad_output"\ndescription = "d"\n'
                '[[outputs]]\ntemplate = "missing.tera"\nfilename = "x"\n'
            ),
        },
    )

    problems = validate_plugin_dir(tmp_path).problems

    assert len(problems) == 2
    assert problems[0].startswith("template 'no_outputs': ")
    assert problems[0].endswith("declares no [[outputs]]")
    assert "outputs[0].template 'missing.tera' does not exist" in problems[1]
