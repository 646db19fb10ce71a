"""Scaffold plugins: ``template list|info|generate`` and ``plugin list|validate``.

Wording follows the reference CLI (``Available templates:``, ``✓ Created: {path}``, …); every
warning and error goes to stderr so that stdout stays clean.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tasker_ctl.cli import console
from tasker_ctl.errors import EXIT_FAILURE

if TYPE_CHECKING:
    from tasker_ctl.config import ProjectConfig
    from tasker_ctl.scaffold import Plugin

PluginPathOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--plugin-path",
        help="A plugin directory, or a directory of plugins (repeatable); searched first.",
    ),
]
LanguageOption = Annotated[
    str | None,
    typer.Option("--language", "-l", help="Only templates of this language (e.g. python)."),
]
PluginOption = Annotated[
    str | None,
    typer.Option("--plugin", help="Only templates of this plugin; wins over --language."),
]


def _discover(plugin_paths: list[Path] | None) -> tuple[list[Plugin], ProjectConfig]:
    """Plugins on the search path (warnings about skipped ones go to stderr), and the config."""
    from tasker_ctl.cli.options import project_config
    from tasker_ctl.scaffold import discover_plugins, plugin_search_path

    config = project_config()
    discovery = discover_plugins(plugin_search_path(plugin_paths or [], config))
    for message in discovery.warnings:
        console.warning(message)
    return discovery.plugins, config


def template_list(
    language: LanguageOption = None,
    framework: Annotated[
        str | None,
        typer.Option("--framework", "-f", help="Only templates of this framework (e.g. django)."),
    ] = None,
    plugin: PluginOption = None,
    plugin_path: PluginPathOption = None,
) -> None:
    """List the scaffold templates of every discovered plugin.

    Example: tasker-ctl template list -l python
    """
    from tasker_ctl.scaffold import list_templates

    plugins, _config = _discover(plugin_path)
    choices = list_templates(plugins, language=language, plugin=plugin, framework=framework)
    if not choices:
        console.warning("no templates found")
        return
    print("Available templates:")
    for choice in choices:
        print(f"  • {choice.template.name} [{choice.plugin.scope}] (plugin: {choice.plugin.name})")


def template_info(
    name: Annotated[str, typer.Argument(help="Template name, e.g. step_handler.")],
    plugin: Annotated[
        str | None, typer.Option("--plugin", "-p", help="The plugin that provides it.")
    ] = None,
    language: LanguageOption = None,
    plugin_path: PluginPathOption = None,
) -> None:
    """Show a template's description, parameters and output files.

    Example: tasker-ctl template info step_handler
    """
    from tasker_ctl.scaffold import load_template_metadata, select_template

    plugins, config = _discover(plugin_path)
    choice = select_template(
        plugins, name, language=language or config.default_language, plugin=plugin
    )
    metadata = load_template_metadata(choice.template.directory, choice.plugin.root)
    print(f"Template: {metadata.name}")
    print(f"  {metadata.description}")
    print(f"Plugin: {choice.plugin.name} (v{choice.plugin.version}) [{choice.plugin.scope}]")
    print("Parameters:")
    if not metadata.parameters:
        print("  (none)")
    for param in metadata.parameters:
        if param.needs_value:
            marker = " (required)"
        elif param.default is not None:
            marker = f" [default: {param.default}]"
        else:
            marker = ""
        print(f"  --param {param.name}={param.description}{marker}")
    print("Outputs:")
    for output in metadata.outputs:
        print(f"  • {output.path_pattern}")


def template_generate(
    name: Annotated[str, typer.Argument(help="Template name, e.g. step_handler.")],
    *,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="KEY=VALUE for a template parameter (repeatable)."),
    ] = None,
    language: LanguageOption = None,
    plugin: PluginOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Directory to write into (default: default-output-dir, else the current one).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and list the files; write nothing.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
    plugin_path: PluginPathOption = None,
) -> None:
    """Render a scaffold template into files.

    Every check (parameters, paths, existing files) runs before anything is written.

    Example: tasker-ctl template generate step_handler -p name=ProcessPayment
    """
    from tasker_ctl.scaffold import WriteAction, generate, parse_params, select_template

    params = parse_params(param or [])
    plugins, config = _discover(plugin_path)
    choice = select_template(
        plugins, name, language=language or config.default_language, plugin=plugin
    )
    output_dir = output or config.default_output_dir or Path()
    result = generate(choice, params, output_dir, force=force, dry_run=dry_run)
    if dry_run:
        count = console.plural(len(result.written), "file")
        print(f"Dry run: template '{result.template}' would write {count}:")
    for item in result.files:
        if item.action is WriteAction.KEEP:
            print(f"  • Kept existing: {item.path}")
        elif dry_run:
            verb = "overwrite" if item.action is WriteAction.OVERWRITE else "create"
            print(f"  • Would {verb}: {item.path}")
        else:
            console.success(f"Wrote {item.path}")
    if not dry_run:
        count = console.plural(len(result.written), "file")
        console.success(f"Wrote {count} from template '{result.template}'")


def plugin_list(plugin_path: PluginPathOption = None) -> None:
    """List the discovered scaffold plugins, in search order.

    Example: tasker-ctl plugin list
    """
    plugins, _config = _discover(plugin_path)
    if not plugins:
        console.warning("no plugins found")
        return
    print("Discovered plugins:")
    for plugin in plugins:
        console.success(f"{plugin.name} (v{plugin.version}) [{plugin.scope}]")
        print(f"    {plugin.description}")
        print(f"    {console.plural(len(plugin.templates), 'template')} in {plugin.root}")


def plugin_validate(
    path: Annotated[
        Path, typer.Argument(help="The plugin directory (holding tasker-plugin.toml).")
    ],
) -> None:
    """Check a plugin's manifest and the template.toml of each template. Exit 1 on errors.

    Example: tasker-ctl plugin validate scaffolds/python
    """
    from tasker_ctl.scaffold import validate_plugin_dir

    validation = validate_plugin_dir(path)
    plugin = validation.plugin
    if plugin is not None:
        console.success(f"Plugin manifest loaded: {plugin.name}")
        print(f"  Version: {plugin.version}")
        print(f"  Language: {plugin.language}")
        print(f"  Framework: {plugin.framework or '-'}")
        print(f"  Templates: {len(plugin.templates)}")
    if validation.ok:
        console.success("Validation passed.")
        return
    print("✗ Validation errors:", file=sys.stderr)
    for problem in validation.problems:
        print(f"  • {problem}", file=sys.stderr)
    raise typer.Exit(EXIT_FAILURE)
