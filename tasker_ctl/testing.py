"""Test whole workflows with pytest: run a template in-process, in a store of its own.

``run_workflow`` creates a task from one template file with an input, runs it with the local
engine in a temporary SQLite store and returns a :class:`WorkflowRun`: the task's status and, for
every step, its state, attempts, result and error. It is also a pytest plugin (registered as an
entry point, so a plain ``pytest`` finds it):

- the ``tasker_workflow`` fixture: ``tasker_workflow("templates/order.yaml", {"order_id": 1})``
  runs in the test's ``tmp_path``;
- ``pytest --tasker-templates [DIR...]`` also collects every task template (``*.yaml``/``*.yml``
  with top-level ``steps``) as a test item that passes when ``template validate`` finds no error,
  so CI lints templates inside the test run it already has.

Importing this module costs nothing beyond pytest: the engine, the store and the template model
are imported when a workflow runs or a template is linted.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tasker_ctl.engine.events import Event, Observer
    from tasker_ctl.engine.options import RunOptions
    from tasker_ctl.tasks.views import StepView


@dataclass(frozen=True)
class WorkflowRun:
    """What one in-process run of a workflow did, read back from its store."""

    task_uuid: str
    db_path: Path
    status: str
    steps: Mapping[str, StepView]
    events: tuple[Event, ...]

    @property
    def succeeded(self) -> bool:
        """True when the task completed (every step complete or resolved)."""
        from tasker_ctl.states import TASK_SUCCEEDED

        return self.status in TASK_SUCCEEDED

    def result(self, step: str) -> Any:
        """The stored result of ``step`` (what its handler returned)."""
        return self.steps[step].result

    def error(self, step: str) -> Mapping[str, Any] | None:
        """The last error of ``step``: message, error type, retryable and its traceback."""
        return self.steps[step].error

    def states(self) -> dict[str, str]:
        """Every step's state by name: a compact thing to assert on."""
        return {name: str(step.state) for name, step in self.steps.items()}


def run_workflow(
    template: Path | str,
    task_input: Any = None,
    *,
    handlers: Sequence[str] = (),
    store_dir: Path | None = None,
    concurrency: int = 4,
    observers: Sequence[Observer] = (),
    skip_backoff: bool = True,
) -> WorkflowRun:
    """Create a task from the template file ``template`` with ``task_input`` and run it.

    With ``skip_backoff`` (the default) the run's clock jumps over retries' backoff instead of
    sleeping through it (:class:`tasker_ctl.engine.options.SkippingClock`).

    ``handlers`` are handler packages to scan for registered names (as ``--handlers``); callables
    that are import paths resolve from the current directory. The store lives in ``store_dir``
    (a new temporary directory, removed afterwards, when not given). The template is validated
    as ``task create`` validates it, and the input checked against its ``input_schema``.
    """
    from tasker_ctl.engine.options import RunOptions, SkippingClock

    options = RunOptions(concurrency=concurrency)
    if skip_backoff:
        options = RunOptions(concurrency=concurrency, clock=SkippingClock())
    if store_dir is not None:
        return _run_in(Path(template), task_input, handlers, store_dir, options, observers)
    with tempfile.TemporaryDirectory(prefix="tasker-workflow-") as scratch:
        return _run_in(Path(template), task_input, handlers, Path(scratch), options, observers)


def _run_in(
    template: Path,
    task_input: Any,
    handlers: Sequence[str],
    store_dir: Path,
    options: RunOptions,
    observers: Sequence[Observer],
) -> WorkflowRun:
    from tasker_ctl.tasks.create import CreateRequest, create_task
    from tasker_ctl.tasks.reads import task_status
    from tasker_ctl.tasks.run import run_task
    from tasker_ctl.template.validation import load_template

    loaded = load_template(template)
    # The template alone in its search path, so a sibling with the same name cannot be chosen.
    search_dir = store_dir / "template"
    search_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, search_dir / template.name)
    db_path = store_dir / "tasker.db"
    created = create_task(
        CreateRequest(
            namespace=loaded.namespace_name,
            name=loaded.name,
            version=loaded.version,
            input={} if task_input is None else task_input,
            search_path=[search_dir],
            db_path=db_path,
        )
    )
    events: list[Event] = []
    run_task(
        db_path,
        created.task_uuid,
        handler_modules=handlers,
        observers=[events.append, *observers],
        options=options,
    )
    view = task_status(db_path, created.task_uuid)
    return WorkflowRun(
        task_uuid=created.task_uuid,
        db_path=db_path,
        status=str(view.status),
        steps={step.name: step for step in view.steps},
        events=tuple(events),
    )


# -- the pytest plugin -------------------------------------------------------------------------


@pytest.fixture
def tasker_workflow(tmp_path: Path) -> Callable[..., WorkflowRun]:
    """``run_workflow`` with its store in the test's ``tmp_path`` (kept for inspection)."""
    counter = itertools.count(1)

    def run(template: Path | str, task_input: Any = None, **options: Any) -> WorkflowRun:
        store_dir = tmp_path / f"tasker-run-{next(counter)}"
        return run_workflow(template, task_input, store_dir=store_dir, **options)

    return run


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--tasker-templates``: collect task templates as lint items."""
    parser.getgroup("tasker-ctl").addoption(
        "--tasker-templates",
        action="store_true",
        default=False,
        help="also collect task templates (*.yaml, *.yml with steps) and lint each one",
    )


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    """A template file becomes a :class:`TemplateFile` when ``--tasker-templates`` is given."""
    from tasker_ctl.template.files import TEMPLATE_SUFFIXES, looks_like_template

    if file_path.suffix not in TEMPLATE_SUFFIXES:
        return None
    if not parent.config.getoption("tasker_templates", default=False):
        return None
    if not looks_like_template(file_path):
        return None
    collected: TemplateFile = TemplateFile.from_parent(parent, path=file_path)
    return collected


class TemplateFile(pytest.File):
    """A task template collected as one lint item."""

    def collect(self) -> Iterator[pytest.Item]:
        """One item: the template passes ``template validate``."""
        yield TemplateLintItem.from_parent(self, name="template validate")


class TemplateLintItem(pytest.Item):
    """Fails with the template's error findings, one per line, as ``template validate`` shows."""

    def runtest(self) -> None:
        """Validate the template; raise when any finding is an error."""
        from tasker_ctl.template.validation import validate_file

        report = validate_file(self.path)
        errors = [finding for finding in report.findings if finding.severity == "error"]
        if errors:
            raise TemplateLintFailure(
                [
                    f"{self.path}:{finding.line or '-'}: {finding.code} {finding.message}"
                    for finding in errors
                ]
            )

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        """The findings, without a traceback."""
        if isinstance(excinfo.value, TemplateLintFailure):
            return "\n".join(excinfo.value.lines)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the item is: the template file."""
        return self.path, None, f"template validate {self.path.name}"


class TemplateLintFailure(Exception):
    """A template has error findings."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


__all__ = ["TemplateLintItem", "WorkflowRun", "run_workflow", "tasker_workflow"]
