"""The root ``tasker-ctl`` command, its groups, and the one place errors become exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from tasker_ctl import __version__
from tasker_ctl.cli import collector, console, start_up_finished
from tasker_ctl.errors import EXIT_INTERRUPTED, TaskerCtlError

# click's UsageError (typer vendors click from 0.2x on, so it is reached through typer's own).
ClickUsageError: type[Exception] = typer.BadParameter.__mro__[1]


class _ErrorBoundary(TyperGroup):
    """Turns a ``TaskerCtlError`` raised below into ``error:``/``hint:`` lines and its exit code.

    As the root of the tree it also gives every command below a ``--no-color`` of its own.
    Under ``--format json`` every error, a usage error of the command line too, is one JSON line
    on stderr instead (:func:`console.error_json`), so that scripts can read it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            _accept_no_color(command)
        _name_arguments_plainly(self)

    def invoke(self, ctx: Any) -> Any:
        start_up_finished()
        as_json = _requests_json(self, ctx)
        try:
            return super().invoke(ctx)
        except TaskerCtlError as exc:
            _report(as_json, exc.exit_code, exc.message, exc.hint)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            _report(as_json, EXIT_INTERRUPTED, "interrupted", None)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except ClickUsageError as exc:
            if not as_json:
                raise
            exit_code = int(getattr(exc, "exit_code", 2))
            _report(True, exit_code, str(exc.format_message()), None)  # type: ignore[attr-defined]
            raise typer.Exit(exit_code) from None


class _PlainArgument(TyperArgument):
    """An argument shown in usage lines as ``TASK`` or ``[STEP]`` (typer writes ``{task}``)."""

    def make_metavar(self, ctx: Any = None, *, usage: bool = False) -> str:
        name = self.metavar or (self.name or "").upper().removesuffix("_NAME") or "ARG"
        if self.nargs != 1:
            name += "..."
        return name if self.required or not usage else f"[{name}]"


def _name_arguments_plainly(command: Any) -> None:
    """Give every argument of the command tree below ``command`` its plain usage name."""
    for param in command.params:
        if type(param) is TyperArgument:
            param.__class__ = _PlainArgument
    for sub in getattr(command, "commands", {}).values():
        _name_arguments_plainly(sub)


def _report(as_json: bool, exit_code: int, message: str, hint: str | None) -> None:
    if as_json:
        from tasker_ctl.errors import error_code

        console.error_json(error_code(exit_code), exit_code, message, hint)
    else:
        console.error(message, hint)


def _requests_json(root: TyperGroup, ctx: Any) -> bool:
    """Whether the command line asks for ``--format json``: its subcommands are parsed once
    more, leniently (no callbacks, no errors), to read the chosen command's ``--format``."""
    try:
        args = [*ctx._protected_args, *ctx.args]
        group, parent = root, ctx
        while args:
            name, command, args = group.resolve_command(parent, args)
            if command is None:
                return False
            sub = command.make_context(name, list(args), parent=parent, resilient_parsing=True)
            if not isinstance(command, TyperGroup):
                fmt = next((p for p in command.params if "--format" in p.opts), None)
                return fmt is not None and str(sub.params.get(fmt.name or "")) == "json"
            args = [*sub._protected_args, *sub.args]
            group, parent = command, sub
    except Exception:  # a command line click cannot parse: the real parse reports it
        return False
    return False


def _disable_color(ctx: Any, param: Any, value: bool) -> None:
    if value:
        console.disable_color()


def _accept_no_color(command: Any) -> None:
    """``--no-color`` on ``command`` and every command below it, as well as before them: people
    add it at the end of a command line (``task run … --no-color``)."""
    if not any("--no-color" in getattr(param, "opts", ()) for param in command.params):
        command.params.append(
            TyperOption(
                param_decls=["--no-color"],
                is_flag=True,
                expose_value=False,
                callback=_disable_color,
                help=NO_COLOR_HELP,
            )
        )
    for subcommand in getattr(command, "commands", {}).values():
        _accept_no_color(subcommand)


def _group(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, add_completion=False)


NO_COLOR_HELP = "Plain output, no colour (NO_COLOR works too)."
_GROUP_HELP = {
    "template": "Task templates: validate, inspect, draw; scaffolds: list, info, generate.\n\n"
    "Example: tasker-ctl template validate templates/",
    "task": "Tasks in the local store, or a Tasker server with --profile: create, run, inspect.\n\n"
    "Example: tasker-ctl task status 3f9c2a1e",
    "plugin": "Scaffold plugins: list the discovered ones, validate one.\n\n"
    "Example: tasker-ctl plugin list",
    "generate": "Python code from a task template: types, handler stubs, a scaffold.\n\n"
    "Example: tasker-ctl generate scaffold -t templates/order_processing.yaml -o generated",
    "config": "tasker-ctl's own settings: where each comes from.\n\n"
    "Example: tasker-ctl config show",
    "profile": "Connection profiles of Tasker servers: list, show, check.\n\n"
    "Example: tasker-ctl profile check staging",
}


def _version(value: bool) -> None:
    if value:
        print(f"tasker-ctl {__version__}")
        raise typer.Exit()


def _root(
    no_color: Annotated[bool, typer.Option("--no-color", help=NO_COLOR_HELP)] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Config file to read instead of searching for .config/tasker.toml, "
            ".tasker-ctl.toml, ~/.config/tasker-ctl.toml.",
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            show_default=False,
            help="Say more on stderr (the config file used).",
        ),
    ] = 0,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            "-p",
            help="Send the task commands to this profile's Tasker server "
            "(default: $TASKER_CLIENT_PROFILE; neither: the local store).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Local-first command line for Tasker workflows."""
    from tasker_ctl.cli import backend
    from tasker_ctl.config import use_config_file

    if no_color:
        console.disable_color()
    console.set_verbosity(verbose)
    use_config_file(config)
    backend.select_profile(profile)


def _template_commands(group: typer.Typer) -> None:
    from tasker_ctl.cli import scaffold, template_draw, template_lint, template_schema

    group.command("validate")(template_lint.validate)
    group.command("inspect")(template_lint.inspect)
    group.command("graph")(template_draw.graph)
    group.command("visualize")(template_draw.visualize)
    group.command("schema")(template_schema.schema)
    group.command("list")(scaffold.template_list)
    group.command("info")(scaffold.template_info)
    group.command("generate")(scaffold.template_generate)


def _task_commands(group: typer.Typer) -> None:
    from tasker_ctl.cli import server_templates, task, task_housekeeping, task_run
    from tasker_ctl.cli.backend import local_only

    run_now = local_only("task create --run", when=lambda **kwargs: bool(kwargs.get("run_now")))
    group.command("create")(run_now(task.create))
    group.command("run")(local_only("task run")(task_run.run))
    group.command("list")(task.list_tasks)
    group.command("status")(task.status)
    group.command("get", hidden=True)(task.status)
    group.command("steps")(task.steps)
    group.command("step")(task.step)
    group.command("audit")(task.audit)
    group.command("logs")(local_only("task logs")(task.logs))
    group.command("step-audit", hidden=True)(task.audit)
    group.command("cancel")(task.cancel)
    group.command("reset-step")(task.reset_step)
    group.command("resolve-step")(task.resolve_step)
    group.command("complete-step")(task.complete_step)
    group.command("retry")(local_only("task retry")(task.retry))
    group.command("visualize")(task.visualize)
    group.command("delete")(local_only("task delete")(task_housekeeping.delete))
    group.command("prune")(local_only("task prune")(task_housekeeping.prune))
    server_templates.register(group)


def _plugin_commands(group: typer.Typer) -> None:
    from tasker_ctl.cli import scaffold

    group.command("list")(scaffold.plugin_list)
    group.command("validate")(scaffold.plugin_validate)


def _profile_commands(group: typer.Typer) -> None:
    from tasker_ctl.cli import profile

    group.command("list")(profile.list_profiles)
    group.command("show")(profile.show)
    group.command("check")(profile.check)


def _generate_commands(group: typer.Typer) -> None:
    from tasker_ctl.cli import generate

    group.command("types")(generate.types)
    group.command("handler")(generate.handler)
    group.command("scaffold")(generate.scaffold)


def _config_commands(group: typer.Typer) -> None:
    from tasker_ctl.cli import config_show

    group.command("show")(config_show.show)


_GROUPS: dict[str, Callable[[typer.Typer], None]] = {
    "template": _template_commands,
    "task": _task_commands,
    "plugin": _plugin_commands,
    "generate": _generate_commands,
    "config": _config_commands,
    "profile": _profile_commands,
}
_TOP_LEVEL = ("init",)


class _OneCommandOf:
    """Stands in for a group while its commands are registered: only ``name`` is kept.

    Typer turns each registered command into a click command (its parameters read from the
    function's signature) every time the program starts; a command line that names one
    command of a group needs only that one.
    """

    def __init__(self, group: typer.Typer, name: str) -> None:
        self.group = group
        self.name = name
        self.kept = False

    def command(self, name: str, **kwargs: Any) -> Callable[[Any], Any]:
        if name != self.name:
            return lambda function: function
        self.kept = True
        return self.group.command(name, **kwargs)

    def add_typer(self, typer_instance: typer.Typer, *, name: str, **kwargs: Any) -> None:
        if name == self.name:
            self.kept = True
            self.group.add_typer(typer_instance, name=name, **kwargs)


def build_app(only: str | None = None, command: str | None = None) -> typer.Typer:
    """The program: every command, or with ``only`` just that group or top-level command, and
    with ``command`` too just that command of the group (all of them when it has none of that
    name: click then says so, with its suggestions).

    Typer turns every registered command into a click command on each run, so the entry point
    builds only the part of the tree the command line asks for; the full tree serves ``--help``
    and tests. This function is the one list of what the program offers.
    """
    root = typer.Typer(
        cls=_ErrorBoundary,
        help="Local-first command line for Tasker workflows: lint templates, create and run tasks."
        "\n\nExample: tasker-ctl template validate templates/",
        no_args_is_help=True,
        add_completion=True,
        context_settings={"help_option_names": ["-h", "--help"]},
        pretty_exceptions_enable=False,
    )
    root.callback()(_root)
    for name, register in _GROUPS.items():
        if only in (None, name):
            group = _group(_GROUP_HELP[name])
            one = _OneCommandOf(group, command) if command and only == name else None
            if one is not None:
                register(cast("typer.Typer", one))
            if one is None or not one.kept:
                register(group)
            root.add_typer(group, name=name)
    if only in (None, "init"):
        from tasker_ctl.cli import init

        root.command("init")(init.init)
    return root


def __getattr__(name: str) -> typer.Typer:
    # ``app`` (the whole program) is built on first use: the entry point does not need it.
    if name == "app":
        whole = build_app()
        globals()["app"] = whole
        return whole
    raise AttributeError(name)


_GLOBAL_OPTIONS_WITH_VALUE = frozenset({"-c", "--config", "-p", "--profile"})


def _requested_command(args: list[str]) -> tuple[str | None, str | None]:
    """The first two words of the command line that are not options or an option's value:
    the group (or top-level command) and, after a group, its command."""
    skip = False
    words: list[str] = []
    for arg in args:
        if skip:
            skip = False
        elif arg in _GLOBAL_OPTIONS_WITH_VALUE and not words:
            skip = True
        elif arg.startswith("-"):
            if words:  # an option of the group or of its command: the command comes first
                break
        else:
            words.append(arg)
            if len(words) == 2:
                break
    return (words[0] if words else None), (words[1] if len(words) == 2 else None)


def main() -> None:
    """Console-script entry point."""
    # Looking pydantic plugins up scans every installed distribution (~60 ms per command);
    # tasker-ctl needs none. Set PYDANTIC_DISABLE_PLUGINS yourself to choose otherwise.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    collector.pause()
    requested, command = _requested_command(sys.argv[1:])
    if requested in _GROUPS:
        build_app(requested, command)(prog_name="tasker-ctl")
    else:
        build_app(requested if requested in _TOP_LEVEL else None)(prog_name="tasker-ctl")
