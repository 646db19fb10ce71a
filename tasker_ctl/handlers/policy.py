"""Which code a ``handler.callable`` may reach: step handlers and the user's handler code only.

A task template is data people copy from docs and colleagues, so naming a callable must not be a
way to run arbitrary code (``os.system``, ``code.interact``, ``builtins.eval``). A callable may
resolve to a registered handler name, a ``StepHandler`` class, a ``@step_handler`` function, or
a plain function (or a class with ``call``) defined in *handler code*: a module or package under
the project directory (outside any ``site-packages``), or one named with ``--handlers`` /
``handler-packages`` (the only way an installed package qualifies). Never the standard library,
builtins, tasker-ctl itself or any other installed module.

``refusal_by_name`` needs only the callable's text (``template validate`` uses it, importing
nothing); ``HandlerCodePolicy`` adds the location checks, still before a module is imported.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from tasker_ctl.template.callables import standard_library_refusal, top_level

_INSTALL_DIRECTORIES = frozenset({"site-packages", "dist-packages"})
_OWN_PACKAGE = Path(__file__).resolve().parents[1]  # tasker_ctl/


class HandlerCodePolicy:
    """Decides whether a module is handler code: by name, by location, or because it is named.

    ``root`` is the project directory; ``named`` returns the modules named with ``--handlers``
    or ``handler-packages`` (read at each check, as discovery adds to them).
    """

    def __init__(self, root: Path, named: Iterable[str]) -> None:
        self.root = root
        self._named = named

    def is_named(self, module_name: str) -> bool:
        """Whether ``module_name`` is, or is inside, a module named as handler code."""
        return any(
            module_name == named or module_name.startswith(named + ".") for named in self._named
        )

    def refusal_before_import(self, module_name: str) -> str | None:
        """Why importing ``module_name`` for a callable is refused; nothing is imported.

        Finding where the top-level package lives executes none of its code. A module that does
        not exist is not refused here (the import then reports it as not found).
        """
        refusal = standard_library_refusal(module_name)
        if refusal is not None or self.is_named(module_name):
            return refusal
        top = top_level(module_name)
        locations = _spec_locations(top)
        if locations is None:
            return None
        if any(self._is_project_path(path) for path in locations):
            return None
        return _installed_refusal(top)

    def module_refusal(self, module: ModuleType) -> str | None:
        """Why an imported module is not handler code (for a function or class defined there)."""
        name = module.__name__
        refusal = standard_library_refusal(name)
        if refusal is not None or self.is_named(name):
            return refusal
        if any(self._is_project_path(path) for path in _module_locations(module)):
            return None
        return _installed_refusal(top_level(name))

    def _is_project_path(self, path: Path) -> bool:
        try:
            resolved = path.resolve()
        except OSError:
            return False
        if not resolved.is_relative_to(self.root) or resolved.is_relative_to(_OWN_PACKAGE):
            return False
        relative = resolved.relative_to(self.root)
        return not any(part in _INSTALL_DIRECTORIES for part in relative.parts)


def _installed_refusal(top: str) -> str:
    if top == _OWN_PACKAGE.name:
        return f"'{top}' is tasker-ctl's own code, not handler code"
    if top == "tasker_core":
        return "'tasker_core' is the handler API, not handler code"
    return (
        f"'{top}' is an installed module outside the project directory that is not named as "
        "handler code (name it with --handlers or handler-packages to allow it)"
    )


def _spec_locations(top: str) -> list[Path] | None:
    """Where the top-level module ``top`` would be loaded from (None: it does not exist)."""
    import importlib.util

    module = sys.modules.get(top)
    if module is not None:
        return _module_locations(module)
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations is not None:
        return [Path(entry) for entry in spec.submodule_search_locations]
    if spec.origin and spec.has_location:
        return [Path(spec.origin)]
    return []  # built-in or frozen: never project code


def _module_locations(module: ModuleType) -> list[Path]:
    search = getattr(module, "__path__", None)
    if search is not None:
        return [Path(entry) for entry in search]
    origin = getattr(module, "__file__", None)
    return [Path(origin)] if isinstance(origin, str) else []


__all__ = ["HandlerCodePolicy"]
