"""The garbage-collection policy of a tasker-ctl process: off for start-up, on for long runs."""

from __future__ import annotations

import gc
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tasker_ctl.cli import app, collector

TEMPLATE = """
name: tiny
namespace_name: gc
version: 1.0.0
steps:
  - name: only
    handler: {callable: engine_handlers.probes.small}
"""


@pytest.fixture(autouse=True)
def paused_collector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A project with one template, and the collector paused as the entry point leaves it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TASKER_CTL_DB", str(tmp_path / "tasker.db"))
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "tiny.yaml").write_text(textwrap.dedent(TEMPLATE))
    collector.pause()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.enable()


def create(*extra: str) -> None:
    result = CliRunner().invoke(
        app,
        ["task", "create", "-n", "gc", "--name", "tiny", "-i", "{}", "--format", "json", *extra],
    )
    assert result.exit_code == 0, result.output


def test_a_short_command_leaves_the_collector_paused() -> None:
    create()

    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_running_a_task_resumes_collection_past_what_start_up_made() -> None:
    create("--run", "--quiet", "--handlers", "engine_handlers.probes")

    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
