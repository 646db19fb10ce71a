"""Templates drawn as text diagrams: Mermaid (Tasker's current generator), markdown, Graphviz dot.

The Mermaid graph and the markdown document reproduce the output of Tasker's current
``template visualize`` (reference §7.2–7.3) byte for byte, so diagrams diff cleanly against it;
the one deliberate difference is that ``"`` in a label is escaped as ``#quot;``, which keeps the
diagram valid where Tasker's would not be.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tasker_ctl.template import graph
from tasker_ctl.template.models import Backoff, StepDefinition, StepType, TaskTemplate

if TYPE_CHECKING:
    from tasker_ctl.tasks.views import StepView, TaskView

CLASS_DEFINITIONS = (
    "classDef completed fill:#d4edda,stroke:#28a745",
    "classDef in_progress fill:#cce5ff,stroke:#007bff",
    "classDef pending fill:#e2e3e5,stroke:#6c757d",
    "classDef error fill:#f8d7da,stroke:#dc3545",
    "classDef retrying fill:#fff3cd,stroke:#ffc107",
    "classDef annotated fill:#fff3cd,stroke:#ffc107",
    "classDef untraversed fill:#f8f9fa,stroke:#dee2e6,stroke-dasharray:5",
    "classDef default fill:#ffffff,stroke:#333333",
)
_INDENT = "    "
_NONE = "—"
_TYPE_LABELS = {
    StepType.STANDARD: "Standard",
    StepType.DECISION: "Decision",
    StepType.DEFERRED_CONVERGENCE: "DeferredConvergence",
    StepType.BATCHABLE: "Batchable",
    StepType.BATCH_WORKER: "BatchWorker",
}


@dataclass(frozen=True)
class Node:
    """One box of a Mermaid graph."""

    id: str
    label: str
    step_type: StepType
    css_class: str


@dataclass(frozen=True)
class Edge:
    """``source --> target``; dashed edges use ``-.->``."""

    source: str
    target: str
    dashed: bool = False


@dataclass(frozen=True)
class Visualization:
    """A rendered diagram and the warnings found while making it (for stderr)."""

    text: str
    warnings: tuple[str, ...] = ()


def mermaid_shape(node: Node) -> str:
    """``id["label"]`` and friends: the node shape of its step type."""
    label = node.label.replace('"', "#quot;")
    if node.step_type is StepType.DECISION:
        return f'{node.id}{{"{label}"}}'
    if node.step_type in (StepType.BATCHABLE, StepType.DEFERRED_CONVERGENCE):
        return f'{node.id}[/"{label}"/]'
    if node.step_type is StepType.BATCH_WORKER:
        return f'{node.id}[["{label}"]]'
    return f'{node.id}["{label}"]'


def mermaid_graph(nodes: Sequence[Node], edges: Sequence[Edge]) -> str:
    """``graph TD``, the class definitions, the nodes in order, the edges sorted."""
    lines = ["graph TD", *(_INDENT + line for line in CLASS_DEFINITIONS), ""]
    lines += [f"{_INDENT}{mermaid_shape(node)}:::{node.css_class}" for node in nodes]
    lines.append("")
    for edge in sorted(edges, key=lambda e: (e.source, e.target)):
        arrow = "-.->" if edge.dashed else "-->"
        lines.append(f"{_INDENT}{edge.source} {arrow} {edge.target}")
    return "\n".join(lines) + "\n"


def template_nodes_and_edges(
    template: TaskTemplate, annotations: Mapping[str, str] | None = None
) -> tuple[list[Node], list[Edge]]:
    """The template's steps as nodes (annotated ones marked) and its dependencies as edges."""
    notes = annotations or {}
    nodes = []
    for step in template.steps:
        note = notes.get(step.name)
        label = f"{step.name}\\n⚠ {note}" if note else step.name
        nodes.append(Node(step.name, label, step.step_type, "annotated" if note else "default"))
    edges = [Edge(dep, step.name) for step in template.steps for dep in step.dependencies]
    return nodes, edges


def visualize_template(
    template: TaskTemplate,
    output_format: str = "mermaid",
    annotations: Mapping[str, str] | None = None,
) -> Visualization:
    """The template as ``mermaid`` (graph only), ``markdown`` (graph and table) or ``dot``."""
    names = {step.name for step in template.steps}
    warnings = tuple(
        f"Annotation references unknown step: '{key}'"
        for key in (annotations or {})
        if key not in names
    )
    if output_format == "dot":
        return Visualization(dot_graph(template), warnings)
    nodes, edges = template_nodes_and_edges(template, annotations)
    diagram = mermaid_graph(nodes, edges)
    if output_format != "markdown":
        return Visualization(diagram, warnings)
    document = (
        f"# {template.name}\n\n```mermaid\n{diagram}```\n\n## Step Details\n\n"
        + detail_table(template)
    )
    return Visualization(document, warnings)


def detail_table(template: TaskTemplate) -> str:
    """The markdown step table, rows in Kahn order (reference §7.3)."""
    by_name = {step.name: step for step in reversed(template.steps)}
    rows = [
        "| Step | Type | Handler | Dependencies | Schema Fields | Retry |",
        "|------|------|---------|--------------|---------------|-------|",
    ]
    for name in graph.execution_order(graph.dependency_map(template)):
        step = by_name[name]
        cells = (
            step.name,
            _TYPE_LABELS[step.step_type],
            step.handler.callable,
            ", ".join(step.dependencies) or _NONE,
            ", ".join(sorted((step.result_schema or {}).get("properties") or {})) or _NONE,
            retry_summary(step),
        )
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def retry_summary(step: StepDefinition) -> str:
    """``—`` for no retries or Tasker's default (3× exponential), else ``{n}x {backoff}``."""
    retry = step.retry
    if not retry.retryable:
        return _NONE
    if retry.max_attempts == 3 and retry.backoff is Backoff.EXPONENTIAL:
        return _NONE
    return f"{retry.max_attempts}x {retry.backoff}"


_DOT_SHAPES = {
    StepType.STANDARD: "box",
    StepType.DECISION: "diamond",
    StepType.DEFERRED_CONVERGENCE: "parallelogram",
    StepType.BATCHABLE: "parallelogram",
    StepType.BATCH_WORKER: "box3d",
}


def dot_graph(template: TaskTemplate) -> str:
    """The template as a Graphviz ``digraph``, top to bottom, edges sorted."""
    lines = [
        f"digraph {_dot_id(template.name)} {{",
        "    rankdir=TB;",
        "    node [fontname=Helvetica];",
    ]
    for step in template.steps:
        lines.append(f"    {_dot_id(step.name)} [shape={_DOT_SHAPES[step.step_type]}];")
    pairs = sorted((dep, step.name) for step in template.steps for dep in step.dependencies)
    lines += [f"    {_dot_id(source)} -> {_dot_id(target)};" for source, target in pairs]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_id(name: str) -> str:
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


# --- tasks (reference §7.4) -------------------------------------------------------------------

_STATE_CATEGORIES = {
    "complete": "completed",
    "resolved_manually": "completed",
    "in_progress": "in_progress",
    "pending": "pending",
    "error": "error",
    "cancelled": "error",
    "waiting_for_retry": "retrying",
    "enqueued": "retrying",
    "enqueued_for_orchestration": "retrying",
    "enqueued_as_error_for_orchestration": "retrying",
}
_SHAPE_NAMES = {
    StepType.STANDARD: "rectangle",
    StepType.DECISION: "diamond",
    StepType.BATCHABLE: "trapezoid",
    StepType.DEFERRED_CONVERGENCE: "trapezoid",
    StepType.BATCH_WORKER: "subroutine",
}


def visualize_task(
    view: TaskView,
    template: TaskTemplate,
    output_format: str = "mermaid",
    *,
    base_url: str | None = None,
    graph_only: bool = False,
) -> str:
    """A stored task as Mermaid (the graph), a markdown document, or JSON (reference §7.4).

    The markdown document is laid out as Tasker's: the title, the graph, then "Step Details"
    with the task's header lines and the step table. ``graph_only`` leaves the details out;
    ``base_url`` (a Tasker server's address) adds Tasker's links: the task's
    ``/v1/tasks/<uuid>`` and each step's ``…/workflow_steps/<uuid>``.
    """
    data = task_visualization(view, template)
    if output_format == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    nodes = [
        Node(n["id"], n["label"], StepType(n["step_type"]), n["visual_category"])
        for n in data["graph"]["nodes"]
    ]
    edges = [Edge(e["from"], e["to"], e["edge_style"] == "dashed") for e in data["graph"]["edges"]]
    diagram = mermaid_graph(nodes, edges)
    if output_format != "markdown":
        return diagram
    document = f"# {view.name}\n\n```mermaid\n{diagram}```\n"
    if graph_only:
        return document
    return document + "\n## Step Details\n\n" + _task_details(view, data, base_url)


def _task_details(view: TaskView, data: dict[str, Any], base_url: str | None) -> str:
    header = data["table"]["header"]
    lines = [
        f"**Task**: {header['name']} | **Namespace**: {header['namespace']} | "
        f"**Version**: {header['version']}",
        f"**Status**: {header['status']} | **Completion**: "
        f"{header['completion_percentage']:.0f}% | **Health**: {header['health_status']} | "
        f"**Elapsed**: {header['elapsed']}",
    ]
    task_path = f"/v1/tasks/{view.task_uuid}"
    if base_url is not None:
        lines.append(f"[Task Detail]({base_url}{task_path})")
    columns = ["Step", "Type", "Handler", "State", "Duration", "Attempts", "Error"]
    if base_url is not None:
        columns.append("Link")
    lines += [
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("-" * (len(column) + 2) for column in columns) + "|",
    ]
    step_uuids = {step.name: step.step_uuid for step in view.steps}
    for row in data["table"]["rows"]:
        cells = [
            row["name"],
            row["step_type"],
            row["handler"] or "",
            row["state"],
            row["duration"] or _NONE,
            row["attempts"],
            row["error_type"] or _NONE,
        ]
        if base_url is not None:
            step_path = f"{task_path}/workflow_steps/{step_uuids[row['name']]}"
            cells.append(f"[view]({base_url}{step_path})")
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def task_visualization(view: TaskView, template: TaskTemplate) -> dict[str, Any]:
    """The JSON shape of Tasker's ``task visualize`` (without server links)."""
    executed = {step.name: step for step in view.steps}
    template_names = {step.name for step in template.steps}
    decisions = {s.name for s in template.steps if s.step_type is StepType.DECISION}
    nodes: list[dict[str, Any]] = []
    categories: dict[str, str] = {}
    for step in template.steps:
        run = executed.get(step.name)
        if run is not None:
            category = _STATE_CATEGORIES.get(run.state, "default")
            label = step.name
        elif decisions.intersection(step.dependencies):
            category, label = "untraversed", f"{step.name}\\n(untraversed)"
        else:
            category, label = "pending", step.name
        categories[step.name] = category
        nodes.append(_task_node(step.name, label, step.step_type, category))
    for run in view.steps:
        if run.name not in template_names:  # batch workers and other dynamic steps
            category = _STATE_CATEGORIES.get(run.state, "default")
            categories[run.name] = category
            nodes.append(_task_node(run.name, run.name, StepType(run.step_type), category))
    pairs = {(dep, s.name) for s in template.steps for dep in s.dependencies}
    pairs |= {edge for edge in view.edges if edge[1] not in template_names}
    edges = [
        {
            "from": source,
            "to": target,
            "edge_style": "solid"
            if categories.get(source) == "completed" and categories.get(target) != "untraversed"
            else "dashed",
        }
        for source, target in sorted(pairs)
        if source in categories and target in categories
    ]
    rows = [_task_row(run, categories[run.name]) for run in view.steps]
    return {
        "graph": {"nodes": nodes, "edges": edges},
        "table": {
            "header": {
                "name": view.name,
                "namespace": view.namespace,
                "version": view.version,
                "status": view.status,
                "completion_percentage": view.completion_percentage,
                "health_status": view.health_status,
                "elapsed": format_duration(_elapsed_ms(view.created_at, view.completed_at)),
                "dlq_status": None,
            },
            "rows": rows,
        },
        "warnings": [],
    }


def _task_node(name: str, label: str, step_type: StepType, category: str) -> dict[str, Any]:
    return {
        "id": name,
        "label": label,
        "visual_category": category,
        "node_shape": _SHAPE_NAMES[step_type],
        "step_type": str(step_type),
    }


def _task_row(run: StepView, category: str) -> dict[str, Any]:
    started = run.started_at or run.created_at
    duration = format_duration(_elapsed_ms(started, run.completed_at)) if run.completed_at else None
    return {
        "name": run.name,
        "step_type": run.step_type,
        "handler": run.handler_callable,
        "dependencies": list(run.dependencies) or None,
        "state": run.state,
        "visual_category_label": category,
        "duration": duration,
        "attempts": f"{run.attempts}/{run.max_attempts}",
        "error_type": (run.error or {}).get("error_type"),
    }


def _elapsed_ms(start: str, end: str | None) -> int:
    begin = datetime.fromisoformat(start.replace("Z", "+00:00"))
    finish = datetime.fromisoformat(end.replace("Z", "+00:00")) if end else datetime.now(UTC)
    return max(0, int((finish - begin).total_seconds() * 1000))


def format_duration(milliseconds: int) -> str:
    """``850ms``, ``1.500s``, ``5s``, ``2m 30s``, ``1h 2m 3s`` (milliseconds zero-padded)."""
    if milliseconds < 1000:
        return f"{milliseconds}ms"
    seconds, millis = divmod(milliseconds, 1000)
    if seconds < 60:
        return f"{seconds}s" if millis == 0 else f"{seconds}.{millis:03d}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m {seconds}s"
