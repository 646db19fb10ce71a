"""Plugin discovery: the bundled plugins, a plugin directory, and a directory of plugins."""

from __future__ import annotations

from pathlib import Path

from scaffold_plugin_files import write_plugin

from tasker_ctl.config import ProjectConfig
from tasker_ctl.scaffold import bundled_scaffolds_dir, discover_plugins, plugin_search_path

BUNDLED_TEMPLATES = [
    "step_handler",
    "step_handler_api",
    "step_handler_decision",
    "step_handler_batchable",
    "task_template",
]


def test_the_bundled_python_plugin_is_found_with_no_configuration() -> None:
    discovery = discover_plugins(plugin_search_path([], ProjectConfig()))

    assert discovery.warnings == []
    [plugin] = discovery.plugins
    assert (plugin.name, plugin.language) == ("tasker-ctl-python", "python")
    assert [template.name for template in plugin.templates] == BUNDLED_TEMPLATES
    assert plugin.root == bundled_scaffolds_dir() / "python"


def test_a_path_holding_a_manifest_is_the_plugin_and_nothing_below_is_searched(
    tmp_path: Path,
) -> None:
    outer = write_plugin(tmp_path / "outer", name="outer")
    write_plugin(outer / "nested", name="nested")

    discovery = discover_plugins([outer])

    assert [plugin.name for plugin in discovery.plugins] == ["outer"]


def test_a_parent_directory_is_searched_one_level_down_in_sorted_order(tmp_path: Path) -> None:
    write_plugin(tmp_path / "zeta", name="zeta-plugin")
    write_plugin(tmp_path / "alpha" / "tasker-cli-plugin", name="alpha-plugin")
    write_plugin(tmp_path / "mid", name="mid-plugin")
    (tmp_path / "not-a-plugin").mkdir()
    write_plugin(tmp_path / "deep" / "a" / "b", name="too-deep")

    discovery = discover_plugins([tmp_path])

    assert [plugin.name for plugin in discovery.plugins] == [
        "alpha-plugin",
        "mid-plugin",
        "zeta-plugin",
    ]


def test_a_direct_manifest_wins_over_the_nested_cli_plugin_directory(tmp_path: Path) -> None:
    write_plugin(tmp_path / "python", name="direct")
    write_plugin(tmp_path / "python" / "tasker-cli-plugin", name="nested")

    discovery = discover_plugins([tmp_path])

    assert [plugin.name for plugin in discovery.plugins] == ["direct"]


def test_flags_come_first_then_config_then_bundled(tmp_path: Path) -> None:
    flag_dir = write_plugin(tmp_path / "from-flag", name="from-flag")
    config_dir = write_plugin(tmp_path / "from-config", name="from-config")
    config = ProjectConfig(plugin_paths=(config_dir,))

    discovery = discover_plugins(plugin_search_path([flag_dir], config))

    assert [plugin.name for plugin in discovery.plugins] == [
        "from-flag",
        "from-config",
        "tasker-ctl-python",
    ]


def test_the_same_manifest_reached_twice_counts_once(tmp_path: Path) -> None:
    write_plugin(tmp_path / "one", name="one")

    discovery = discover_plugins([tmp_path, tmp_path / "one"])

    assert [plugin.name for plugin in discovery.plugins] == ["one"]


def test_bad_manifests_and_missing_paths_are_skipped_with_warnings(tmp_path: Path) -> None:
    write_plugin(tmp_path / "good", name="good")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "tasker-plugin.toml").write_text("[plugin\n")

    discovery = discover_plugins([tmp_path, tmp_path / "missing"])

    assert [plugin.name for plugin in discovery.plugins] == ["good"]
    assert len(discovery.warnings) == 2
    assert "broken" in discovery.warnings[0] and "failed to parse" in discovery.warnings[0]
    assert "missing" in discovery.warnings[1]
