"""What ``template inspect`` reports: identity, shape and critical path of a template."""

from __future__ import annotations

from typing import Any

from tasker_ctl.template import graph
from tasker_ctl.template.models import TaskTemplate


def inspect_template(template: TaskTemplate) -> dict[str, Any]:
    """Tasker's ``template_inspect`` shape plus parallel levels and the critical path."""
    dependencies = graph.dependency_map(template)
    dependents = graph.dependents_map(dependencies)
    path = graph.critical_path(dependencies)
    return {
        "name": template.name,
        "namespace": template.namespace_name,
        "version": template.version,
        "description": template.description,
        "step_count": len(template.steps),
        "has_input_schema": template.input_schema is not None,
        "execution_order": graph.execution_order(dependencies),
        "root_steps": graph.roots(dependencies),
        "leaf_steps": graph.leaves(dependencies),
        "parallel_levels": graph.parallel_levels(dependencies),
        "critical_path": path,
        "critical_path_length": len(path),
        "steps": [
            {
                "name": step.name,
                "description": step.description,
                "step_type": str(step.step_type),
                "handler_callable": step.handler.callable,
                "dependencies": list(step.dependencies),
                "dependents": dependents[step.name],
                "has_result_schema": step.result_schema is not None,
                "result_field_count": _property_count(step.result_schema),
            }
            for step in template.steps
        ],
    }


def _property_count(schema: dict[str, Any] | None) -> int | None:
    """How many ``properties`` a result schema declares; None, as Tasker's MCP
    ``template_inspect`` gives, when there is no schema or its ``properties`` is not an object."""
    if schema is None:
        return None
    properties = schema.get("properties")
    return len(properties) if isinstance(properties, dict) else None
