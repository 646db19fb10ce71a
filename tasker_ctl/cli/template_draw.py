"""``template graph`` (the DAG in the terminal) and ``template visualize`` (Mermaid, dot)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tasker_ctl.cli import console
from tasker_ctl.errors import UsageError

if TYPE_CHECKING:
    from tasker_ctl.template.models import TaskTemplate


class DiagramFormat(StrEnum):
    """Text diagram formats for ``template visualize``."""

    MERMAID = "mermaid"
    MARKDOWN = "markdown"
    DOT = "dot"


def graph(
    file: Annotated[Path, typer.Argument(help="A task template file.")],
    width: Annotated[
        int | None, typer.Option("--width", min=20, help="Columns (default: the terminal's width).")
    ] = None,
) -> None:
    """Draw a template's DAG top to bottom, parallel steps side by side.

    Example: tasker-ctl template graph templates/ecommerce_order_processing.yaml
    """
    from tasker_ctl.ui.dag import print_dag
    from tasker_ctl.ui.terminal import make_console

    template = _load(file)
    out = make_console(width=width)
    nodes = [step.name for step in template.steps]
    edges = [(dep, step.name) for step in template.steps for dep in step.dependencies]
    out.print(f"{template.namespace_name}/{template.name} v{template.version}", markup=False)
    print_dag(out, nodes, edges, width=out.width)


def visualize(
    file: Annotated[str, typer.Argument(help="A task template file, or - for standard input.")],
    output_format: Annotated[
        DiagramFormat,
        typer.Option("--format", "-f", help="markdown (graph and step table), mermaid or dot."),
    ] = DiagramFormat.MARKDOWN,
    annotations: Annotated[
        Path | None,
        typer.Option("--annotations", "-a", help="YAML file of `step_name: note` pairs."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    graph_only: Annotated[
        bool,
        typer.Option("--graph-only", help="Only the raw Mermaid graph (no fences, no step table)."),
    ] = False,
) -> None:
    """Write a template as a markdown document: its Mermaid graph and step table (as Tasker's
    default), or with --graph-only the bare graph; --format mermaid|dot for the graph alone.

    Warnings go to stderr, so stdout stays a valid diagram.

    Example: tasker-ctl template visualize templates/order_processing.yaml -o dag.md
    """
    from tasker_ctl.ui.visualize import visualize_template

    template = _load_argument(file)
    notes = _read_annotations(annotations) if annotations else None
    chosen = "mermaid" if graph_only and output_format is DiagramFormat.MARKDOWN else output_format
    drawing = visualize_template(template, str(chosen), notes)
    for warning in drawing.warnings:
        console.warning(warning)
    if output is None:
        sys.stdout.write(drawing.text)
        return
    output.write_text(drawing.text, encoding="utf-8")
    console.success(f"Wrote {output}")


def _load(path: Path) -> TaskTemplate:
    from tasker_ctl.cli.template_lint import require_template_file
    from tasker_ctl.template.validation import load_template

    require_template_file(path)
    return load_template(path)


def _load_argument(file: str) -> TaskTemplate:
    if file != "-":
        return _load(Path(file))
    from tasker_ctl.template.validation import load_template

    return load_template(Path("<stdin>"), sys.stdin.read())


def _read_annotations(path: Path) -> dict[str, str]:
    from tasker_ctl.template.source import SourceError, read_source

    try:
        data = read_source(path).data
    except SourceError as exc:
        where = f"{path}:{exc.line}" if exc.line else str(path)
        raise UsageError(f"{where}: {exc.message}") from exc
    if not isinstance(data, dict) or not all(
        isinstance(v, str | int | float) for v in data.values()
    ):
        raise UsageError(
            f"{path}: annotations must be a mapping of step names to notes",
            hint='write one `step_name: "note"` per line',
        )
    return {str(key): str(value) for key, value in data.items()}
