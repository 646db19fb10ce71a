"""The tables of the reading commands: ``task list``, ``task steps``, ``task audit``.

One row per record; the columns that describe (template, details) are cut with ``…`` to the
width, the identifiers never. Tasks and steps are shown by the first :data:`SHORT_ID` characters
of their UUID, as ``docker ps`` shows IDs: every command takes such a prefix (``--format json``
has the full UUIDs). Times are UTC: to the second in ``task list``; in ``task audit``, where
much happens within a second, to the millisecond and without the date unless the entries span
several days.
"""

from __future__ import annotations

from collections.abc import Sequence

from tasker_ctl.tasks.views import AuditEntry, StepView, TaskList, TaskView
from tasker_ctl.ui.table import Column, render_table

SHORT_ID = 8

TASK_LIST_COLUMNS = (
    Column("TASK"),
    Column("TEMPLATE", shrink=1),
    Column("STATUS"),
    Column("STEPS"),
    Column("HEALTH"),
    Column("CREATED"),
)
STEP_COLUMNS = (
    Column("STEP", shrink=1),
    Column("STATE"),
    Column("ATTEMPTS"),
    Column("DEPS MET"),
    Column("RETRY"),
    Column("UUID"),
)
AUDIT_COLUMNS = (
    Column("#"),
    Column("TIME"),
    Column("SUBJECT", shrink=1),
    Column("TRANSITION", shrink=1),
    Column("EVENT", shrink=1),
    Column("ATTEMPT"),
    Column("DETAILS", shrink=1),
)


def short_time(timestamp: str | None) -> str:
    """``2026-03-01T12:00:00.123Z`` as ``2026-03-01 12:00:00`` (``-`` for none)."""
    if not timestamp:
        return "-"
    return timestamp.replace("T", " ")[:19]


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def task_list_table(listing: TaskList, width: int) -> str:
    """``task list``: one task a row, newest first."""
    rows = [
        (
            item.task_uuid[:SHORT_ID],
            f"{item.namespace}/{item.name} v{item.version}",
            item.status,
            f"{item.completed_steps}/{item.total_steps}",
            item.health_status,
            short_time(item.created_at),
        )
        for item in listing.items
    ]
    return render_table(TASK_LIST_COLUMNS, rows, width)


def steps_table(view: TaskView, width: int) -> str:
    """``task steps``: one step a row, in the task's order."""
    rows = [_step_row(step) for step in view.steps]
    return render_table(STEP_COLUMNS, rows, width)


def _step_row(step: StepView) -> Sequence[str]:
    return (
        step.name,
        step.state,
        f"{step.attempts}/{step.max_attempts}",
        _yes_no(step.dependencies_satisfied),
        _yes_no(step.retry_eligible),
        step.step_uuid[:SHORT_ID],
    )


def audit_table(entries: Sequence[AuditEntry], width: int) -> str:
    """``task audit``: one transition a row, oldest first."""
    one_day = len({entry.created_at[:10] for entry in entries}) <= 1
    rows = [
        (
            str(entry.number),
            entry.created_at[11:23] if one_day else short_time(entry.created_at),
            entry.step_name or ("task" if entry.step_uuid is None else entry.step_uuid),
            f"{entry.from_state or '(new)'} → {entry.to_state}",
            entry.event,
            "-" if entry.attempt is None else str(entry.attempt),
            audit_details(entry),
        )
        for entry in entries
    ]
    return render_table(AUDIT_COLUMNS, rows, width)


def audit_details(entry: AuditEntry) -> str:
    """The outcome and the metadata of a transition as ``key=value`` pairs."""
    parts: list[str] = []
    if entry.success is not None:
        parts.append(f"success={_yes_no(entry.success)}")
    parts.extend(
        f"{key}={value}" for key, value in entry.metadata.items() if value not in (None, "")
    )
    return " ".join(parts) or "-"
