"""``tasker_ctl.tasks`` resolves its names lazily: each listed name loads from its own module."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tasker_ctl import tasks


@pytest.mark.parametrize("name", tasks.__all__)
def test_every_listed_name_resolves(name: str) -> None:
    assert getattr(tasks, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = tasks.no_such_operation  # type: ignore[attr-defined]


def test_a_read_imports_neither_the_engine_nor_the_template_model() -> None:
    code = (
        "import sys; from tasker_ctl import tasks; tasks.task_status; "
        "print(sorted(m for m in sys.modules if m.startswith(('tasker_ctl.engine', "
        "'tasker_ctl.template', 'pydantic'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout

    assert loaded.strip() == "[]"
