"""``tasker-ctl init``: a project file and a layout in which an example workflow runs at once.

What is written, relative to the project directory:

* ``.config/tasker.toml``: upstream's unified config file (a default server profile, the
  tasker-contrib remote unless ``--no-contrib``) whose ``[cli]`` table names the store, the
  template directory and the handler package, so that ``task create`` and ``task run`` need no
  flags;
* ``templates/``: task templates, with the example ``hello_world.yaml``;
* ``handlers/``: the handler package, with the example's functional-DSL handlers;
* ``tests/test_hello_world.py``: plain pytest tests of those handlers;
* ``.config/tasker-template.schema.json``: the template JSON Schema, and ``.vscode/settings.json``
  mapping it to ``templates/`` for the YAML language server (merged into an existing settings
  file, every key kept; see :mod:`tasker_ctl.scaffold.editor`).

``--no-example`` writes only the project file, the editor wiring, ``handlers/__init__.py`` and
an empty ``templates/``. Nothing is overwritten: when any file already exists (but for
``.vscode/settings.json``, which is merged), nothing is written.
Files go through the scaffold writer, which checks every destination first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tasker_ctl.config import CONFIG_FILENAME, UNIFIED_CONFIG
from tasker_ctl.errors import TaskerCtlError
from tasker_ctl.scaffold.editor import (
    SCHEMA_FILE,
    SETTINGS_FILE,
    SettingsPlan,
    manual_entry,
    plan_settings,
)
from tasker_ctl.scaffold.render import RenderedFile
from tasker_ctl.scaffold.writer import PlannedFile, plan_writes, write_planned
from tasker_ctl.template.editor_schema import template_schema_text

TEMPLATES_DIR = "templates"
HANDLERS_PACKAGE = "handlers"
EXAMPLE_NAMESPACE = "examples"
EXAMPLE_NAME = "hello_world"
EXAMPLE_INPUT = '{"name": "Tasker"}'

PROJECT_FILE_HEAD = """\
# Tasker unified configuration, as upstream `tasker-ctl init` writes it (TAS-311): connection
# profiles for Tasker servers ([profile.*], used by tasker-ctl and tasker-mcp) and CLI settings
# ([cli]). Relative paths are relative to the project directory (the one holding .config/);
# flags and environment variables (TASKER_CTL_DB, TASKER_TEMPLATE_PATH) take precedence.

# =============================================================================
# Profiles: connection settings for Tasker environments
# =============================================================================

[profile.default]
description = "Local development"
transport = "rest"

[profile.default.orchestration]
base_url = "http://localhost:8080"
timeout_ms = 30000
max_retries = 3

[profile.default.worker]
base_url = "http://localhost:8081"
timeout_ms = 30000
max_retries = 3

# =============================================================================
# CLI: local store, templates, handlers, plugin paths and remote repositories
# =============================================================================

[cli]
"""

PROJECT_FILE_CLI = f"""\
# The local SQLite store that tasks and their steps are kept in.
db = ".tasker/tasker.db"
# Directories searched for task templates (task create, template validate).
template-paths = ["{TEMPLATES_DIR}"]
# Packages imported (with their submodules) before handler callables resolve (task run).
handler-packages = ["{HANDLERS_PACKAGE}"]
# The language of generated code (generate types | handler | scaffold, template generate).
default-language = "python"
# Additional local plugin directories (template list, template generate).
# plugin-paths = ["./plugins"]
# Default output directory for generated files
# default-output-dir = "."
# Hours before cached remotes are considered stale (upstream `remote update`; default: 24)
# cache-max-age-hours = 24
"""

PROJECT_FILE_CONTRIB = """
[[cli.remotes]]
name = "tasker-contrib"
url = "https://github.com/tasker-systems/tasker-contrib.git"
"""

PROJECT_FILE_NO_CONTRIB = """
# Add remotes for template and config access:
# [[cli.remotes]]
# name = "tasker-contrib"
# url = "https://github.com/tasker-systems/tasker-contrib.git"
"""


def project_file(*, contrib: bool = True) -> str:
    """``.config/tasker.toml``: upstream's unified file, with tasker-ctl's keys under [cli]."""
    tail = PROJECT_FILE_CONTRIB if contrib else PROJECT_FILE_NO_CONTRIB
    return PROJECT_FILE_HEAD + PROJECT_FILE_CLI + tail


HANDLERS_INIT = '''\
"""Step handlers of this project.

tasker-ctl imports this package and all its modules before a task runs (handler-packages in
.config/tasker.toml), and registers every @step_handler function under its name.
"""
'''

EXAMPLE_TEMPLATE = f"""\
# An example workflow: greet, then shout and count in parallel, then summarize.
# Run it:
#   tasker-ctl task create --namespace {EXAMPLE_NAMESPACE} --name {EXAMPLE_NAME} \\
#     --input '{EXAMPLE_INPUT}'
#   tasker-ctl task run <task uuid>
name: {EXAMPLE_NAME}
namespace_name: {EXAMPLE_NAMESPACE}
version: "1.0.0"
description: "Greet someone: greet -> (shout || count_letters) -> summarize"

input_schema:
  type: object
  required: [name]
  properties:
    name:
      type: string
      description: "Who to greet"

steps:
  - name: greet
    description: "Build the greeting from the task input"
    handler:
      callable: {EXAMPLE_NAMESPACE}.greet
    result_schema:
      type: object
      required: [greeting]
      properties:
        greeting: {{type: string}}

  - name: shout
    description: "Upper-case the greeting"
    handler:
      callable: {EXAMPLE_NAMESPACE}.shout
    dependencies: [greet]
    result_schema:
      type: object
      required: [shout]
      properties:
        shout: {{type: string}}

  - name: count_letters
    description: "Count the letters of the greeting"
    handler:
      callable: {EXAMPLE_NAMESPACE}.count_letters
    dependencies: [greet]
    retry:
      max_attempts: 3
      backoff: exponential
      backoff_base_ms: 100
    result_schema:
      type: object
      required: [letters]
      properties:
        letters: {{type: integer}}

  - name: summarize
    description: "Combine both branches"
    handler:
      callable: {EXAMPLE_NAMESPACE}.summarize
    dependencies: [shout, count_letters]
    result_schema:
      type: object
      required: [summary]
      properties:
        summary: {{type: string}}
"""

EXAMPLE_HANDLERS = f'''\
"""Handlers of templates/{EXAMPLE_NAME}.yaml, written with the functional DSL.

Each @step_handler name is the step's handler.callable in the template. @inputs injects task
input keys and @depends_on the results of earlier steps, as keyword arguments.
"""

from __future__ import annotations

from typing import Any

from tasker_core.step_handler.functional import depends_on, inputs, step_handler


@step_handler("{EXAMPLE_NAMESPACE}.greet")
@inputs("name")
def greet(name: str) -> dict[str, Any]:
    """Build the greeting from the task input."""
    return {{"greeting": f"Hello, {{name}}!"}}


@step_handler("{EXAMPLE_NAMESPACE}.shout")
@depends_on(greet_result="greet")
def shout(greet_result: dict[str, Any]) -> dict[str, Any]:
    """Upper-case the greeting."""
    return {{"shout": greet_result["greeting"].upper()}}


@step_handler("{EXAMPLE_NAMESPACE}.count_letters")
@depends_on(greet_result="greet")
def count_letters(greet_result: dict[str, Any]) -> dict[str, Any]:
    """Count the letters of the greeting."""
    return {{"letters": sum(char.isalpha() for char in greet_result["greeting"])}}


@step_handler("{EXAMPLE_NAMESPACE}.summarize")
@depends_on(shout_result="shout", count_result="count_letters")
def summarize(shout_result: dict[str, Any], count_result: dict[str, Any]) -> dict[str, Any]:
    """Combine both branches."""
    return {{"summary": f"{{shout_result['shout']}} ({{count_result['letters']}} letters)"}}
'''

EXAMPLE_TESTS = f'''\
"""Tests of handlers/{EXAMPLE_NAME}.py: the DSL decorators return the plain functions."""

from __future__ import annotations

from {HANDLERS_PACKAGE}.{EXAMPLE_NAME} import count_letters, greet, shout, summarize


def test_the_example_handlers_chain() -> None:
    greeting = greet(name="Ada")
    assert greeting == {{"greeting": "Hello, Ada!"}}
    loud = shout(greet_result=greeting)
    letters = count_letters(greet_result=greeting)
    assert summarize(shout_result=loud, count_result=letters) == {{
        "summary": "HELLO, ADA! (8 letters)"
    }}
'''


@dataclass(frozen=True)
class InitResult:
    """What ``init`` created, and the commands to run next."""

    directory: Path
    created: list[Path]
    next_commands: list[str]
    warnings: list[str]
    updated: list[Path] = field(default_factory=list)  # existing files merged into


def project_files(*, example: bool, contrib: bool = True) -> list[RenderedFile]:
    """The files ``init`` writes, relative to the project directory."""
    files = [
        RenderedFile(UNIFIED_CONFIG.as_posix(), project_file(contrib=contrib)),
        RenderedFile(SCHEMA_FILE, template_schema_text()),
        RenderedFile(f"{HANDLERS_PACKAGE}/__init__.py", HANDLERS_INIT),
    ]
    if example:
        files += [
            RenderedFile(f"{TEMPLATES_DIR}/{EXAMPLE_NAME}.yaml", EXAMPLE_TEMPLATE),
            RenderedFile(f"{HANDLERS_PACKAGE}/{EXAMPLE_NAME}.py", EXAMPLE_HANDLERS),
            RenderedFile(f"tests/test_{EXAMPLE_NAME}.py", EXAMPLE_TESTS),
        ]
    return files


def init_project(directory: Path, *, example: bool = True, contrib: bool = True) -> InitResult:
    """Write the project layout into ``directory`` (created if missing).

    Raises ``TaskerCtlError`` naming every file that already exists, before writing anything.
    """
    files = project_files(example=example, contrib=contrib)
    settings = plan_settings(directory, TEMPLATES_DIR)
    if not settings.exists and settings.content is not None:
        files.append(RenderedFile(SETTINGS_FILE, settings.content))
    _require_directories(directory, files)
    existing = [
        directory / item.relative_path
        for item in files
        if (directory / item.relative_path).exists()
    ]
    if existing:
        listed = ", ".join(str(path) for path in existing)
        raise TaskerCtlError(
            f"init: already exists: {listed}; nothing was written",
            hint="run init in a new or empty directory, or move those files away first",
        )
    planned = plan_writes(directory, files, force=False)
    merged = _merged_settings(directory, settings)
    write_planned(planned)
    write_planned(merged)
    created = [item.path for item in planned]
    templates = directory / TEMPLATES_DIR
    if not templates.exists():
        templates.mkdir(parents=True)
        created.insert(1, templates)
    legacy = directory / CONFIG_FILENAME
    warnings = (
        [
            f"found legacy {legacy}: .config/tasker.toml now takes precedence; "
            "move its settings under [cli]"
        ]
        if legacy.is_file()
        else []
    )
    updated = [item.path for item in merged]
    warnings += [f"added the template schema to yaml.schemas in {path}" for path in updated]
    if settings.problem is not None:
        warnings.append(
            f"left {directory / SETTINGS_FILE} as it is: {settings.problem}; "
            f"add {manual_entry(TEMPLATES_DIR)} for template completion in VS Code"
        )
    next_commands = _next_commands(directory, example=example)
    return InitResult(directory, created, next_commands, warnings, updated)


def _merged_settings(directory: Path, settings: SettingsPlan) -> list[PlannedFile]:
    """The existing VS Code settings with the schema entry added (checked like any write)."""
    if not settings.exists or settings.content is None:
        return []
    return plan_writes(directory, [RenderedFile(SETTINGS_FILE, settings.content)], force=True)


def _require_directories(directory: Path, files: list[RenderedFile]) -> None:
    """Every directory init writes into is one, or can be made: checked before any write.

    A dangling symlink or a file where a directory must be would otherwise fail half-way.
    """
    needed = {directory, directory / TEMPLATES_DIR}
    for item in files:
        parts = Path(item.relative_path).parts[:-1]
        needed.update(directory.joinpath(*parts[:end]) for end in range(1, len(parts) + 1))
    for path in sorted(needed, key=lambda p: len(p.parts)):
        if path.is_dir() or not (path.exists() or path.is_symlink()):
            continue
        what = "a symlink to nothing" if path.is_symlink() and not path.exists() else "a file"
        raise TaskerCtlError(
            f"init: {path} is {what}, where a directory must be; nothing was written",
            hint=f"remove {path} (or make it a directory), then run init again",
        )


def _next_commands(directory: Path, *, example: bool) -> list[str]:
    commands = [] if directory.resolve() == Path.cwd().resolve() else [f"cd {directory}"]
    commands.append(f"tasker-ctl template validate {TEMPLATES_DIR}")
    if not example:
        commands.append(
            f"tasker-ctl template generate task_template --output {TEMPLATES_DIR} "
            "--param name=my_workflow --param handler_callable=my_workflow.first_step"
        )
        return commands
    return [
        *commands,
        f"tasker-ctl task create --namespace {EXAMPLE_NAMESPACE} --name {EXAMPLE_NAME} "
        f"--input '{EXAMPLE_INPUT}'",
        "tasker-ctl task run <the Task UUID printed above>",
        f"tasker-ctl generate scaffold --template {TEMPLATES_DIR}/{EXAMPLE_NAME}.yaml "
        "--output generated",
    ]
