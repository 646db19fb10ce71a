"""``task templates`` and ``task templates show NAMESPACE NAME VERSION``: the task templates
``task create`` can use. Without a server profile, those of the local template search path, each
with whether its handlers resolve here; with one, the templates registered on the server."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tasker_ctl.cli import console
from tasker_ctl.cli.console import plural
from tasker_ctl.cli.options import FormatOption, HandlersOption, OutputFormat, print_json

if TYPE_CHECKING:
    from tasker_ctl.remote.client import ServerClient
    from tasker_ctl.tasks.catalog import LocalTemplate

TemplatesOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--templates",
        help="Directory searched for templates first (repeatable; local templates only).",
        exists=True,
        file_okay=False,
    ),
]


def _client() -> ServerClient:
    from tasker_ctl.cli.backend import profile_name
    from tasker_ctl.remote.client import ServerClient
    from tasker_ctl.remote.profiles import load_profile

    name = profile_name()
    assert name is not None  # the commands ask for a client only under a profile
    return ServerClient(load_profile(name))


def _is_local() -> bool:
    from tasker_ctl.cli.backend import profile_name

    return profile_name() is None


def _local_sources(
    templates: list[Path] | None, handlers: list[str] | None
) -> tuple[list[Path], list[str]]:
    """The template search path and handler modules: the flags replace the config's lists."""
    from tasker_ctl.cli.options import project_config
    from tasker_ctl.config import template_search_path

    config = project_config()
    return template_search_path(templates or [], config), list(handlers or config.handler_packages)


def templates(
    ctx: typer.Context,
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Only this namespace.")
    ] = None,
    output_format: FormatOption = OutputFormat.TEXT,
    template_dirs: TemplatesOption = None,
    handlers: HandlersOption = None,
) -> None:
    """List the task templates `task create` can use (`show NAMESPACE NAME VERSION` for one).

    Locally: the template search path, each template with whether its handlers resolve here
    (this imports the handler packages); with --profile, the templates registered on the server.
    """
    if ctx.invoked_subcommand is not None:
        return
    if _is_local():
        _list_local(namespace, output_format, template_dirs, handlers)
        return
    from tasker_ctl.remote.templates import list_templates

    with _client() as client:
        listing = list_templates(client, namespace)
    if output_format is OutputFormat.JSON:
        print_json(listing.to_json())
        return
    count = len(listing.templates)
    console.success(f"Found {plural(count, 'template')}")
    for template in listing.templates:
        print(
            f"  • {template.namespace}/{template.name} v{template.version} "
            f"({plural(template.step_count, 'step')})"
        )
        if template.description:
            print(f"    {template.description}")


def _list_local(
    namespace: str | None,
    output_format: OutputFormat,
    template_dirs: list[Path] | None,
    handlers: list[str] | None,
) -> None:
    from tasker_ctl.tasks.catalog import list_local_templates

    search_path, modules = _local_sources(template_dirs, handlers)
    with contextlib.redirect_stdout(sys.stderr):  # what handler modules print on import
        found = list_local_templates(search_path, modules, namespace)
    if output_format is OutputFormat.JSON:
        print_json({"templates": [template.to_json() for template in found]})
        return
    if not found:
        where = ", ".join(map(str, search_path)) or "the template search path"
        print(f"No task templates found in {where}")
        return
    from tasker_ctl.ui.table import Column, render_table
    from tasker_ctl.ui.terminal import console_width

    columns = (
        Column("NAMESPACE", shrink=1),
        Column("NAME", shrink=1),
        Column("VERSION"),
        Column("STEPS"),
        Column("FILE", shrink=2),
        Column("RUNS HERE", shrink=1),
    )
    rows = [
        (
            t.namespace,
            t.name,
            t.version,
            "-" if t.step_count is None else str(t.step_count),
            _display(t.path),
            _runs_here(t),
        )
        for t in found
    ]
    sys.stdout.write(render_table(columns, rows, console_width() or 80))


def _runs_here(template: LocalTemplate) -> str:
    """``yes``, or ``no (why)`` in a few words (``show`` and JSON have every problem)."""
    if template.runnable:
        return "yes"
    if template.invalid is not None or template.module_problems:
        return f"no ({template.problems[0]})"
    unresolved = [step.callable for step in template.steps if step.problem]
    first = unresolved[0].rsplit(".", 1)[-1] or "(empty callable)"
    if len(unresolved) == 1:
        return f"no ({first} does not resolve)"
    return f"no ({first} and {len(unresolved) - 1} more do not resolve)"


def _display(path: Path) -> str:
    """The path relative to the current directory where it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def show(
    namespace: Annotated[str, typer.Argument(help="Template namespace.")],
    name: Annotated[str, typer.Argument(help="Template name.")],
    version: Annotated[str, typer.Argument(help="Template version.")],
    output_format: FormatOption = OutputFormat.TEXT,
    template_dirs: TemplatesOption = None,
    handlers: HandlersOption = None,
) -> None:
    """Show one template: its steps with their retry defaults (and, locally, handlers).

    Example: tasker-ctl task templates show ecommerce ecommerce_order_processing 1.0.0
    """
    if _is_local():
        _show_local(namespace, name, version, output_format, template_dirs, handlers)
        return
    from tasker_ctl.remote.templates import template_detail

    with _client() as client:
        detail = template_detail(client, namespace, name, version)
    if output_format is OutputFormat.JSON:
        print_json(detail.to_json())
        return
    print("Template Details")
    print(f"  Name: {detail.namespace}/{detail.name} v{detail.version}")
    print(f"  Description: {detail.description or '-'}")
    print(f"  Steps ({len(detail.steps)}):")
    for step in detail.steps:
        print(f"    • {step.name} ({_retry_text(step.retryable, step.max_attempts)})")


def _retry_text(retryable: bool, max_attempts: int) -> str:
    return f"up to {plural(max_attempts, 'attempt')}" if retryable else "not retryable"


def _show_local(
    namespace: str,
    name: str,
    version: str,
    output_format: OutputFormat,
    template_dirs: list[Path] | None,
    handlers: list[str] | None,
) -> None:
    from tasker_ctl.tasks.catalog import local_template

    search_path, modules = _local_sources(template_dirs, handlers)
    with contextlib.redirect_stdout(sys.stderr):  # what handler modules print on import
        template = local_template(search_path, modules, namespace, name, version)
    if output_format is OutputFormat.JSON:
        document = template.to_json()
        document["steps"] = [step.to_json() for step in template.steps]
        print_json(document)
        return
    print("Template Details")
    print(f"  Name: {template.namespace}/{template.name} v{template.version}")
    print(f"  Description: {template.description or '-'}")
    print(f"  File: {_display(template.path)}")
    print(f"  Runs here: {_runs_here(template)}")
    if template.invalid is not None:
        return
    print(f"  Steps ({len(template.steps)}):")
    for step in template.steps:
        handler = step.callable + (f" (does not resolve: {step.problem})" if step.problem else "")
        print(f"    • {step.name} ({_retry_text(step.retryable, step.max_attempts)}): {handler}")


def register(group: typer.Typer) -> None:
    """Add ``templates`` (and ``templates show``) to the ``task`` group."""
    app = typer.Typer(
        help="Task templates: the local search path's, or with --profile a Tasker server's.\n\n"
        "Example: tasker-ctl task templates"
    )
    app.callback(invoke_without_command=True)(templates)
    app.command("show")(show)
    group.add_typer(app, name="templates")
