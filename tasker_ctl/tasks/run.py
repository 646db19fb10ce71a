"""``task run`` as a library call: find the task, load its handlers, run the engine."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tasker_ctl.engine.events import EventBus, Observer
from tasker_ctl.engine.scheduler import Engine, RunOptions, RunResult
from tasker_ctl.handlers.registry import HandlerRegistry
from tasker_ctl.store import open_for_writing
from tasker_ctl.tasks.reads import no_store


def run_task(
    db_path: Path,
    task_reference: str,
    *,
    handler_modules: Sequence[str] = (),
    observers: Sequence[Observer] = (),
    options: RunOptions | None = None,
) -> RunResult:
    """Run the task ``task_reference`` (a UUID or a unique prefix) in the store at ``db_path``.

    ``handler_modules`` are imported (packages with their submodules) before any callable is
    resolved, so handlers registered by name are found. Nothing is run when a module fails to
    import: the error names the module and the exception.
    """
    if not db_path.is_file():
        raise no_store(db_path, task_reference)
    registry = HandlerRegistry()
    registry.discover_all(list(handler_modules))
    with open_for_writing(db_path) as repository:
        task_uuid = repository.resolve_task_uuid(task_reference)
        engine = Engine(repository, registry, EventBus(list(observers)), options)
        return engine.run(task_uuid)
