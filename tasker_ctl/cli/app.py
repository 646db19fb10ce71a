"""The root ``tasker-ctl`` command, its groups, and the one place errors become exit codes."""

from __future__ import annotations

import os
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
plugin_app = _group("Scaffold plugins: list the discovered ones, validate one.")
app.add_typer(plugin_app, name="plugin")
generate_app = _group("Python code from a task template: types, handler stubs, a scaffold.")
app.add_typer(generate_app, name="generate")


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
    from tasker_ctl.cli import template_lint

    template_app.command("validate")(template_lint.validate)
    template_app.command("inspect")(template_lint.inspect)

    from tasker_ctl.cli import template_draw

    template_app.command("graph")(template_draw.graph)
    template_app.command("visualize")(template_draw.visualize)

    from tasker_ctl.cli import task_run

    task_app.command("run")(task_run.run)

    from tasker_ctl.cli import task

    task_app.command("create")(task.create)
    task_app.command("list")(task.list_tasks)
    task_app.command("status")(task.status)
    task_app.command("get", hidden=True)(task.status)
    task_app.command("steps")(task.steps)
    task_app.command("step")(task.step)
    task_app.command("audit")(task.audit)
    task_app.command("step-audit", hidden=True)(task.audit)
    task_app.command("cancel")(task.cancel)
    task_app.command("reset-step")(task.reset_step)
    task_app.command("resolve-step")(task.resolve_step)
    task_app.command("complete-step")(task.complete_step)
    task_app.command("retry")(task.retry)

    from tasker_ctl.cli import scaffold

    template_app.command("list")(scaffold.template_list)
    template_app.command("info")(scaffold.template_info)
    template_app.command("generate")(scaffold.template_generate)
    plugin_app.command("list")(scaffold.plugin_list)
    plugin_app.command("validate")(scaffold.plugin_validate)

    from tasker_ctl.cli import generate, init

    generate_app.command("types")(generate.types)
    generate_app.command("handler")(generate.handler)
    generate_app.command("scaffold")(generate.scaffold)
    app.command("init")(init.init)


_register_commands()


def main() -> None:
    """Console-script entry point."""
    # Looking pydantic plugins up scans every installed distribution (~60 ms per command);
    # tasker-ctl needs none. Set PYDANTIC_DISABLE_PLUGINS yourself to choose otherwise.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    app(prog_name="tasker-ctl")
