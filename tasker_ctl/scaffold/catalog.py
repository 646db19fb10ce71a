"""Choosing templates among the discovered plugins: listing them and picking one by name.

``--plugin`` takes precedence over the language (the reference ignores ``--plugin`` when a
language is in effect). A name that several plugins offer is an error that names them, except
that plugins sharing a name count once: the first on the search path wins, so a copy of a plugin
on ``--plugin-path`` overrides the bundled one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tasker_ctl.errors import NotFoundError, UsageError, did_you_mean
from tasker_ctl.scaffold.manifest import Plugin, TemplateEntry


@dataclass(frozen=True)
class TemplateChoice:
    """A template together with the plugin that provides it."""

    plugin: Plugin
    template: TemplateEntry


def _first_of_each_plugin_name(plugins: Sequence[Plugin]) -> list[Plugin]:
    chosen: dict[str, Plugin] = {}
    for plugin in plugins:
        chosen.setdefault(plugin.name, plugin)
    return list(chosen.values())


def _require_plugin(plugins: Sequence[Plugin], name: str) -> Plugin:
    for plugin in plugins:
        if plugin.name == name:
            return plugin
    names = [plugin.name for plugin in plugins]
    raise NotFoundError(
        f"Plugin '{name}' not found.{did_you_mean(name, names)}",
        hint="run 'tasker-ctl plugin list' to see the discovered plugins",
    )


def list_templates(
    plugins: Sequence[Plugin],
    *,
    language: str | None = None,
    plugin: str | None = None,
    framework: str | None = None,
) -> list[TemplateChoice]:
    """Every template, in search order, narrowed to one plugin, or to a language and/or a
    framework (compared ignoring case, as upstream) when asked."""
    candidates = _first_of_each_plugin_name(plugins)
    if plugin is not None:
        candidates = [_require_plugin(candidates, plugin)]
    else:
        if language is not None:
            candidates = [item for item in candidates if item.language.lower() == language.lower()]
        if framework is not None:
            candidates = [
                item
                for item in candidates
                if item.framework is not None and item.framework.lower() == framework.lower()
            ]
    return [TemplateChoice(item, template) for item in candidates for template in item.templates]


def select_template(
    plugins: Sequence[Plugin],
    name: str,
    *,
    language: str | None = None,
    plugin: str | None = None,
) -> TemplateChoice:
    """The one template called ``name`` in scope; a clear error when none or several match."""
    in_scope = list_templates(plugins, language=language, plugin=plugin)
    matches = [choice for choice in in_scope if choice.template.name == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        offered = ", ".join(f"{item.plugin.name} ({item.plugin.scope})" for item in matches)
        raise UsageError(
            f"Template '{name}' is offered by several plugins: {offered}.",
            hint=f"choose one with --plugin, e.g. --plugin {matches[0].plugin.name}",
        )
    names = sorted({choice.template.name for choice in in_scope})
    scope = (
        f" for plugin '{plugin}'" if plugin else f" for language '{language}'" if language else ""
    )
    everywhere = list_templates(plugins)
    elsewhere = sorted({c.plugin.scope for c in everywhere if c.template.name == name})
    hint = "run 'tasker-ctl template list' to see the available templates"
    if elsewhere and scope:
        hint = f"'{name}' exists for {', '.join(elsewhere)}; change --language or --plugin"
    raise NotFoundError(
        f"Template '{name}' not found{scope}.{did_you_mean(name, names)}", hint=hint
    )
