"""Choosing a template: by name, narrowed by --plugin (which wins) or the language."""

from __future__ import annotations

from pathlib import Path

import pytest
from scaffold_plugin_files import write_plugin

from tasker_ctl.errors import NotFoundError, UsageError
from tasker_ctl.scaffold import Plugin, discover_plugins, list_templates, select_template


def _plugins(tmp_path: Path) -> list[Plugin]:
    write_plugin(tmp_path / "a-python", name="py-one", language="python")
    write_plugin(tmp_path / "b-python", name="py-two", language="python")
    write_plugin(tmp_path / "c-ruby", name="rb", language="ruby", framework="rails")
    return discover_plugins([tmp_path]).plugins


def test_a_name_offered_by_several_plugins_is_ambiguous(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        select_template(_plugins(tmp_path), "simple")

    assert caught.value.message == (
        "Template 'simple' is offered by several plugins: "
        "py-one (python/-), py-two (python/-), rb (ruby/rails)."
    )
    assert caught.value.hint == "choose one with --plugin, e.g. --plugin py-one"


def test_the_language_narrows_the_choice(tmp_path: Path) -> None:
    choice = select_template(_plugins(tmp_path), "simple", language="ruby")

    assert choice.plugin.name == "rb"


def test_plugin_takes_precedence_over_language(tmp_path: Path) -> None:
    choice = select_template(_plugins(tmp_path), "simple", language="ruby", plugin="py-two")

    assert choice.plugin.name == "py-two"


def test_an_unknown_template_suggests_the_closest_name(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as caught:
        select_template(_plugins(tmp_path), "simpel", plugin="rb")

    assert caught.value.message == (
        "Template 'simpel' not found for plugin 'rb'. (did you mean 'simple'?)"
    )


def test_a_template_of_another_language_is_pointed_at(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as caught:
        select_template(_plugins(tmp_path), "simple", language="go")

    assert (
        caught.value.hint
        == "'simple' exists for python/-, ruby/rails; change --language or --plugin"
    )


def test_an_unknown_plugin_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(
        NotFoundError, match=r"Plugin 'py-on' not found. \(did you mean 'py-one'\?\)"
    ):
        list_templates(_plugins(tmp_path), plugin="py-on")


def test_the_first_plugin_of_a_name_shadows_later_ones(tmp_path: Path) -> None:
    write_plugin(tmp_path / "first", name="same", templates={})
    write_plugin(tmp_path / "second", name="same")

    plugins = discover_plugins([tmp_path]).plugins

    assert len(plugins) == 2  # both are listed by `plugin list` ...
    assert list_templates(plugins) == []  # ... but only the first one's templates count


def test_listing_filters_by_language(tmp_path: Path) -> None:
    listed = list_templates(_plugins(tmp_path), language="python")

    assert [(c.plugin.name, c.template.name) for c in listed] == [
        ("py-one", "simple"),
        ("py-two", "simple"),
    ]
