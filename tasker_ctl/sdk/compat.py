"""Make ``import tasker_core`` work for handlers whether or not tasker-py is installed.

With tasker-py installed, its own package is used. Without it, an import hook maps
``tasker_core`` to ``tasker_ctl.sdk`` and ``tasker_core.<sub>`` to ``tasker_ctl.sdk.<sub>``,
returning the very same module objects under both names, so classes are identical and
``isinstance`` checks hold. No top-level ``tasker_core`` package is shipped, so nothing clashes
with a later tasker-py install.

The hook sits at the *front* of ``sys.meta_path``, not the end: the aliased package's
``__path__`` is ``tasker_ctl/sdk``, so the path finder would otherwise load a second copy of each
submodule under the alias name. It still steps aside whenever a real ``tasker_core`` is on the
path, so tasker-py always wins.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

ALIAS = "tasker_core"
TARGET = "tasker_ctl.sdk"
TASKER_PY = "tasker-py"
TASKER_CTL = "tasker-ctl"

_lock = threading.Lock()


def _real_tasker_core_on_path() -> bool:
    """Whether a real ``tasker_core`` is importable from ``sys.path`` (ignoring our hook)."""
    return importlib.machinery.PathFinder.find_spec(ALIAS) is not None


class _AliasLoader(importlib.abc.Loader):
    """Returns the already-imported ``tasker_ctl.sdk`` module for an alias name."""

    def __init__(self, target: str) -> None:
        self._target = target
        self._target_spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self._target)
        self._target_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # Loading under the alias replaced ``__spec__``; give the module back its own.
        if self._target_spec is not None:
            module.__spec__ = self._target_spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Answers ``tasker_core[.sub]`` with ``tasker_ctl.sdk[.sub]`` when tasker-py is absent."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        if fullname == ALIAS and _real_tasker_core_on_path():
            return None
        if fullname != ALIAS and sys.modules.get(ALIAS) is not sys.modules.get(TARGET):
            return None
        target_name = TARGET + fullname[len(ALIAS) :]
        try:
            target_spec = importlib.util.find_spec(target_name)
        except ModuleNotFoundError:
            return None
        if target_spec is None:
            return None
        is_package = target_spec.submodule_search_locations is not None
        return importlib.util.spec_from_loader(
            fullname, _AliasLoader(target_name), is_package=is_package
        )


def _hook_installed() -> bool:
    return any(isinstance(finder, _AliasFinder) for finder in sys.meta_path)


def active_implementation() -> str | None:
    """``tasker-py`` or ``tasker-ctl`` once ``tasker_core`` is importable, else None."""
    module = sys.modules.get(ALIAS)
    if module is None:
        return TASKER_CTL if _hook_installed() else None
    return TASKER_CTL if module is sys.modules.get(TARGET) else TASKER_PY


def activate_tasker_core(*, load: bool = True) -> str:
    """Make ``tasker_core`` importable and say which implementation handlers will get.

    Returns ``"tasker-py"`` when the real package is installed (imported with ``RUST_LOG=warn``
    unless set, since it logs to stdout at import), else installs the alias hook and returns
    ``"tasker-ctl"``. ``load=False`` only prepares (for the pytest plugin): the real package is
    not imported until a test imports it. Idempotent and thread-safe.
    """
    with _lock:
        current = active_implementation()
        if current is not None and (current == TASKER_CTL or ALIAS in sys.modules or not load):
            return current
        if _real_tasker_core_on_path():
            os.environ.setdefault("RUST_LOG", "warn")
            if load:
                importlib.import_module(ALIAS)
            return TASKER_PY
        sys.meta_path.insert(0, _AliasFinder())
        if load:
            importlib.import_module(ALIAS)
        return TASKER_CTL


__all__ = ["TASKER_CTL", "TASKER_PY", "activate_tasker_core", "active_implementation"]
