"""Scaffold plugins (Tasker's ``tasker-plugin.toml`` format): discovery, templates, generation.

The command line calls these; none of them prints. Errors are ``TaskerCtlError`` subclasses.
"""

from __future__ import annotations

from tasker_ctl.scaffold.case import camel_case, kebab_case, pascal_case, snake_case, split_words
from tasker_ctl.scaffold.catalog import TemplateChoice, list_templates, select_template
from tasker_ctl.scaffold.discovery import (
    Discovery,
    bundled_scaffolds_dir,
    discover_plugins,
    plugin_search_path,
)
from tasker_ctl.scaffold.generate import Generation, generate
from tasker_ctl.scaffold.manifest import MANIFEST_FILENAME, Plugin, TemplateEntry, read_manifest
from tasker_ctl.scaffold.metadata import (
    Output,
    Parameter,
    TemplateMetadata,
    load_template_metadata,
)
from tasker_ctl.scaffold.params import parse_params, resolve_params
from tasker_ctl.scaffold.validate import PluginValidation, validate_plugin_dir
from tasker_ctl.scaffold.writer import PlannedFile, WriteAction

__all__ = [
    "MANIFEST_FILENAME",
    "Discovery",
    "Generation",
    "Output",
    "Parameter",
    "PlannedFile",
    "Plugin",
    "PluginValidation",
    "TemplateChoice",
    "TemplateEntry",
    "TemplateMetadata",
    "WriteAction",
    "bundled_scaffolds_dir",
    "camel_case",
    "discover_plugins",
    "generate",
    "kebab_case",
    "list_templates",
    "load_template_metadata",
    "parse_params",
    "pascal_case",
    "plugin_search_path",
    "read_manifest",
    "resolve_params",
    "select_template",
    "snake_case",
    "split_words",
    "validate_plugin_dir",
]
