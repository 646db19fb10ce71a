"""Package facades whose names are imported on first use (a module-level ``__getattr__``).

``import tasker_ctl``, ``tasker_ctl.tasks`` and ``tasker_core`` (tasker-ctl's own, see
:mod:`tasker_ctl.sdk`) cost next to nothing: each name's module is imported the first time the
name is looked up, so a command or a handler pays only for what it uses.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def names_loaded_on_use(
    package: str, owners: Mapping[str, str], *, submodules: bool = False
) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``owners`` maps each name to the module that
    defines it (``"module"``, or ``"module:other_name"`` for a name exported under another).

    With ``submodules``, any other public name is tried as a submodule, as an eagerly imported
    package would have it as an attribute (``tasker_core.errors``).
    """

    def __getattr__(name: str) -> Any:
        owner = owners.get(name)
        if owner is not None:
            module, _, defined_as = owner.partition(":")
            return getattr(importlib.import_module(module), defined_as or name)
        if submodules and not name.startswith("_"):
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as missing:
                if missing.name != f"{package}.{name}":
                    raise
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
