"""The root ``tasker-ctl`` command, its groups, and the one place errors become exit codes."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from tasker_ctl import __version__
from tasker_ctl.cli import console
from tasker_ctl.errors import EXIT_INTERRUPTED, TaskerCtlError


class _ErrorBoundary(TyperGroup):
    """Turns a ``TaskerCtlError`` raised below into ``error:``/``hint:`` lines and its exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except TaskerCtlError as exc:
            console.error(exc.message, exc.hint)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            console.error("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None


def _group(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, add_completion=False)


app = typer.Typer(
    cls=_ErrorBoundary,
    help="Local-first command line for Tasker workflows: lint templates, create and run tasks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
template_app = _group("Task templates: validate, inspect, draw; scaffolds: list, info, generate.")
task_app = _group("Tasks in the local store: create, run, inspect, and operator actions.")
app.add_typer(template_app, name="template")
app.add_typer(task_app, name="task")


def _version(value: bool) -> None:
    if value:
        print(f"tasker-ctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    no_color: Annotated[
        bool, typer.Option("--no-color", help="Plain output, no colour (NO_COLOR works too).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Local-first command line for Tasker workflows."""
    if no_color:
        console.disable_color()


def _register_commands() -> None:
    """Attach every command to its group; the one list of what the program offers."""
    return


_register_commands()


def main() -> None:
    """Console-script entry point."""
    app(prog_name="tasker-ctl")
