"""Mermaid, markdown and dot output of templates and tasks (reference §7.2–7.4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasker_ctl.template.models import TaskTemplate
from tasker_ctl.template.validation import load_template
from tasker_ctl.ui.visualize import format_duration, visualize_template

DIAMOND_YAML = """\
name: parallel_computation_py
namespace_name: diamond_workflow_py
version: 1.0.0
steps:
  - name: diamond_start_py
    handler: {callable: diamond_workflow.step_handlers.DiamondStartHandler}
    result_schema: {type: object, properties: {squared: {type: integer}, input: {type: integer}}}
  - name: diamond_branch_b_py
    handler: {callable: diamond_workflow.step_handlers.DiamondBranchBHandler}
    dependencies: [diamond_start_py]
    retry: {retryable: true, max_attempts: 2, backoff: linear}
  - name: diamond_branch_c_py
    handler: {callable: diamond_workflow.step_handlers.DiamondBranchCHandler}
    dependencies: [diamond_start_py]
    retry: {retryable: false, max_attempts: 1}
  - name: diamond_end_py
    type: deferred_convergence
    handler: {callable: diamond_workflow.step_handlers.DiamondEndHandler}
    dependencies: [diamond_branch_b_py, diamond_branch_c_py]
"""

# Written out by hand from reference §7.1-7.3: title, fenced graph (class definitions, nodes in
# template order with their shapes, edges sorted by (from, to)), then the Kahn-ordered table.
DIAMOND_MARKDOWN = """\
# parallel_computation_py

```mermaid
graph TD
    classDef completed fill:#d4edda,stroke:#28a745
    classDef in_progress fill:#cce5ff,stroke:#007bff
    classDef pending fill:#e2e3e5,stroke:#6c757d
    classDef error fill:#f8d7da,stroke:#dc3545
    classDef retrying fill:#fff3cd,stroke:#ffc107
    classDef annotated fill:#fff3cd,stroke:#ffc107
    classDef untraversed fill:#f8f9fa,stroke:#dee2e6,stroke-dasharray:5
    classDef default fill:#ffffff,stroke:#333333

    diamond_start_py["diamond_start_py"]:::default
    diamond_branch_b_py["diamond_branch_b_py"]:::default
    diamond_branch_c_py["diamond_branch_c_py"]:::default
    diamond_end_py[/"diamond_end_py"/]:::default

    diamond_branch_b_py --> diamond_end_py
    diamond_branch_c_py --> diamond_end_py
    diamond_start_py --> diamond_branch_b_py
    diamond_start_py --> diamond_branch_c_py
```

## Step Details

| Step | Type | Handler | Dependencies | Schema Fields | Retry |
|------|------|---------|--------------|---------------|-------|
| diamond_start_py | Standard | diamond_workflow.step_handlers.DiamondStartHandler | — | input, squared | — |
| diamond_branch_b_py | Standard | diamond_workflow.step_handlers.DiamondBranchBHandler | diamond_start_py | — | 2x linear |
| diamond_branch_c_py | Standard | diamond_workflow.step_handlers.DiamondBranchCHandler | diamond_start_py | — | — |
| diamond_end_py | DeferredConvergence | diamond_workflow.step_handlers.DiamondEndHandler | diamond_branch_b_py, diamond_branch_c_py | — | — |
"""


@pytest.fixture
def diamond(tmp_path: Path) -> TaskTemplate:
    path = tmp_path / "diamond.yaml"
    path.write_text(DIAMOND_YAML, encoding="utf-8")
    return load_template(path)


def test_markdown_of_a_diamond_matches_the_reference_byte_for_byte(diamond: TaskTemplate) -> None:
    assert visualize_template(diamond, "markdown").text == DIAMOND_MARKDOWN


def test_mermaid_is_the_graph_alone(diamond: TaskTemplate) -> None:
    text = visualize_template(diamond, "mermaid").text

    assert text.startswith("graph TD\n")
    assert text == DIAMOND_MARKDOWN.split("```mermaid\n")[1].split("```", maxsplit=1)[0]


def test_annotations_mark_steps_and_unknown_names_are_warnings(diamond: TaskTemplate) -> None:
    drawing = visualize_template(
        diamond, "mermaid", {"diamond_start_py": 'slow "API"', "nope": "x"}
    )

    assert '    diamond_start_py["diamond_start_py\\n⚠ slow #quot;API#quot;"]:::annotated\n' in (
        drawing.text
    )
    assert drawing.warnings == ("Annotation references unknown step: 'nope'",)


def test_dot_output_lists_shapes_and_sorted_edges(diamond: TaskTemplate) -> None:
    text = visualize_template(diamond, "dot").text

    assert text.splitlines()[0] == 'digraph "parallel_computation_py" {'
    assert '    "diamond_end_py" [shape=parallelogram];' in text
    edges = [line for line in text.splitlines() if "->" in line]
    assert edges == sorted(edges)
    assert len(edges) == 4


@pytest.mark.parametrize(
    ("milliseconds", "shown"),
    [
        (850, "850ms"),
        (1500, "1.500s"),
        (1050, "1.050s"),
        (5000, "5s"),
        (150_000, "2m 30s"),
        (3_723_000, "1h 2m 3s"),
    ],
)
def test_durations_are_zero_padded(milliseconds: int, shown: str) -> None:
    assert format_duration(milliseconds) == shown
