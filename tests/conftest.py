"""Fixtures shared across the test suite: where the repository's files are, writing templates."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from subprocesses import PERSONAL_SETTINGS

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_TEMPLATES = REPO_ROOT / "templates"
TEMPLATE_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "templates"

WriteTemplate = Callable[..., Path]


@pytest.fixture(autouse=True, scope="session")
def _own_cache_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The template cache of ``task create`` (and of the subprocesses, which inherit the
    environment) goes to a directory of the test run's own, never the developer's."""
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("user-cache"))
    yield
    if saved is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = saved


@pytest.fixture(autouse=True)
def _no_personal_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's TASKER_CTL_DB, TASKER_TEMPLATE_PATH or TASKER_CLIENT_PROFILE would point
    the in-process commands at their own store, templates or server."""
    for name in PERSONAL_SETTINGS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def write_template(tmp_path: Path) -> WriteTemplate:
    """Write dedented YAML text to ``tmp_path/<name>`` and return the file's path."""

    def write(text: str, name: str = "template.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture
def template_fixtures() -> Path:
    """``tests/fixtures/templates``: good/, broken/ and legacy/ template files."""
    return TEMPLATE_FIXTURES


@pytest.fixture
def bundled_templates() -> Path:
    """The repository's ``templates/`` directory, which must always validate."""
    return BUNDLED_TEMPLATES


@pytest.fixture(autouse=True, scope="module")
def _leave_sys_path_as_found() -> Iterator[None]:
    """Handler registries put directories on sys.path; each test module starts from a clean one."""
    saved = list(sys.path)
    yield
    sys.path[:] = saved
