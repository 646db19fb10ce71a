"""``generate types | handler | scaffold``: Python code from a task template (reference §10).

Without ``--output`` the code goes to stdout, so it can be piped; messages go to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tasker_ctl.cli import console

if TYPE_CHECKING:
    from tasker_ctl.codegen import CodegenKind

TemplateOption = Annotated[
    Path, typer.Option("--template", "-t", help="The task template YAML file.", show_default=False)
]
LanguageOption = Annotated[
    str | None,
    typer.Option(
        "--language",
        "-l",
        help="python (or py) (default: default-language in the config file, else python).",
        show_default=False,
    ),
]
StepOption = Annotated[
    str | None, typer.Option("--step", "-s", help="Only this step.", show_default=False)
]
ForceOption = Annotated[bool, typer.Option("--force", help="Overwrite existing files.")]


def types(
    template: TemplateOption,
    language: LanguageOption = None,
    step: StepOption = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of stdout."),
    ] = None,
    force: ForceOption = False,
) -> None:
    """Pydantic models for the template's input_schema and each step's result_schema.

    Example: tasker-ctl generate types -t templates/order_processing.yaml -o models.py
    """
    from tasker_ctl.codegen import CodegenKind

    _run(CodegenKind.TYPES, template, language, step, output, force=force, with_tests=False)


def handler(
    template: TemplateOption,
    language: LanguageOption = None,
    step: StepOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to this .py file (tests beside it as test_<name>.py) instead of stdout.",
        ),
    ] = None,
    with_tests: Annotated[
        bool, typer.Option("--with-tests", help="Also generate pytest tests.")
    ] = False,
    force: ForceOption = False,
) -> None:
    """Standalone handler stubs (dicts, no models), registered under each handler.callable.

    Example: tasker-ctl generate handler -t templates/order_processing.yaml --with-tests
    """
    from tasker_ctl.codegen import CodegenKind

    _run(CodegenKind.HANDLER, template, language, step, output, force=force, with_tests=with_tests)


def scaffold(
    template: TemplateOption,
    language: LanguageOption = None,
    step: StepOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            "--output-dir",
            help="Package directory to write __init__.py, models.py, handlers.py and "
            "test_handlers.py into, instead of stdout.",
        ),
    ] = None,
    with_tests: Annotated[
        bool, typer.Option("--with-tests/--no-tests", help="Also generate pytest tests.")
    ] = True,
    force: ForceOption = False,
) -> None:
    """A handler package: models, typed handlers and tests. Run it with --handlers <package>.

    Example: tasker-ctl generate scaffold -t templates/order_processing.yaml -o generated
    """
    from tasker_ctl.codegen import CodegenKind

    _run(CodegenKind.SCAFFOLD, template, language, step, output, force=force, with_tests=with_tests)


def _run(
    kind: CodegenKind,
    template: Path,
    language: str | None,
    step: str | None,
    output: Path | None,
    *,
    force: bool,
    with_tests: bool,
) -> None:
    from tasker_ctl import codegen
    from tasker_ctl.cli.options import project_config
    from tasker_ctl.scaffold.writer import WriteAction

    lang = codegen.resolve_language(language or project_config().default_language)
    loaded = codegen.read_codegen_template(template)
    handlers_module = (
        codegen.handlers_module_for(output) if kind is codegen.CodegenKind.HANDLER else None
    )
    code = codegen.generate_code(
        loaded,
        template,
        kind,
        step=step,
        with_tests=with_tests,
        handlers_module_name=handlers_module,
    )
    if code.warning:
        print(code.warning, file=sys.stderr)
    if code.handlers is None and code.types is None:
        return
    if output is None:
        sys.stdout.write(codegen.stdout_text(code))
        return
    directory, files = codegen.output_files(code, output)
    planned = codegen.write_files(directory, files, force=force)
    if kind is codegen.CodegenKind.SCAFFOLD:
        for item in planned:
            if item.action is WriteAction.KEEP:
                print(f"  Kept existing: {item.path}", file=sys.stderr)
            else:
                console.success(f"Wrote {item.path}", stderr=True)
        print(
            f"Use it: tasker-ctl task run <task uuid> --handlers {_package(output)} (in place of "
            "any other package that registers the same handler names)",
            file=sys.stderr,
        )
        return
    what = "types" if kind is codegen.CodegenKind.TYPES else "handlers"
    for item in planned:
        if item.action is WriteAction.KEEP:
            continue
        noun = "tests" if item.path.name.startswith("test_") else what
        console.success(f"Wrote {item.path} ({lang} {noun})", stderr=True)


def _package(output: Path) -> str:
    """The dotted module name of a package directory, relative to the current directory."""
    try:
        relative = output.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return output.name
    return ".".join(relative.parts) or output.name
