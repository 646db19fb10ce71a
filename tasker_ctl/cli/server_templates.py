"""``task templates`` and ``task templates show NAMESPACE NAME VERSION``: a Tasker server's
registered templates (they need a profile; local templates are files, see ``template``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tasker_ctl.cli import console
from tasker_ctl.cli.options import FormatOption, OutputFormat, print_json

if TYPE_CHECKING:
    from tasker_ctl.remote.client import ServerClient


def _client() -> ServerClient:
    from tasker_ctl.cli.backend import profile_name
    from tasker_ctl.errors import UsageError
    from tasker_ctl.remote.client import ServerClient
    from tasker_ctl.remote.profiles import load_profile

    name = profile_name()
    if name is None:
        raise UsageError(
            "`task templates` lists the templates registered on a Tasker server: select one "
            "with --profile NAME (or TASKER_CLIENT_PROFILE)",
            hint="local templates are files: `tasker-ctl template validate templates/`",
        )
    return ServerClient(load_profile(name))


def templates(
    ctx: typer.Context,
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Only this namespace.")
    ] = None,
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """List the templates registered on the server (`show NAMESPACE NAME VERSION` for one)."""
    if ctx.invoked_subcommand is not None:
        return
    from tasker_ctl.remote.templates import list_templates

    with _client() as client:
        listing = list_templates(client, namespace)
    if output_format is OutputFormat.JSON:
        print_json(listing.to_json())
        return
    count = len(listing.templates)
    console.success(f"Found {count} template{'' if count == 1 else 's'}")
    for template in listing.templates:
        print(
            f"  • {template.namespace}/{template.name} v{template.version} "
            f"({template.step_count} steps)"
        )
        if template.description:
            print(f"    {template.description}")


def show(
    namespace: Annotated[str, typer.Argument(help="Template namespace.")],
    name: Annotated[str, typer.Argument(help="Template name.")],
    version: Annotated[str, typer.Argument(help="Template version.")],
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Show one registered template: its steps with their retry defaults.

    Example: tasker-ctl -p staging task templates show ecommerce ecommerce_order_processing 1.0.0
    """
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
        retry = f"up to {step.max_attempts} attempts" if step.retryable else "not retryable"
        print(f"    • {step.name} ({retry})")


def register(group: typer.Typer) -> None:
    """Add ``templates`` (and ``templates show``) to the ``task`` group."""
    app = typer.Typer(
        help="Templates registered on a Tasker server (needs --profile).\n\n"
        "Example: tasker-ctl -p staging task templates -n ecommerce"
    )
    app.callback(invoke_without_command=True)(templates)
    app.command("show")(show)
    group.add_typer(app, name="templates")
