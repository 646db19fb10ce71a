"""What a ``handler.callable`` names, told from its text alone (nothing is imported).

The standard library and builtins are never handler code: a template naming ``os.system`` or
``builtins.eval`` is refused by ``template validate`` (``UNSAFE_CALLABLE``) and by ``task run``
before anything is imported. The checks that need the file system (where a module lives, which
modules the user named) are :mod:`tasker_ctl.handlers.policy`'s.
"""

from __future__ import annotations

import sys

# Python's own modules (``sys.stdlib_module_names`` has ``builtins`` and ``__future__``), and
# ``__main__``, which is whatever program runs.
STANDARD_LIBRARY = frozenset(sys.stdlib_module_names) | {"builtins", "__main__"}

RULE = (
    "only step handlers are called: a registered handler name, a StepHandler class, a "
    "@step_handler function, or a function defined in your handler code (modules under the "
    "project directory, --handlers, handler-packages)"
)


def module_of(callable_name: str) -> str | None:
    """The module an import-path callable names (``os`` for ``os.system`` or ``os:system``).

    None for a bare name, which only ever resolves to a registered handler.
    """
    name = callable_name.strip()
    if ":" in name:
        module = name.partition(":")[0]
        return module or None
    head, dot, _ = name.rpartition(".")
    return head if dot and head else None


def top_level(module_name: str) -> str:
    """``pkg`` for ``pkg.sub.mod``."""
    return module_name.split(".", 1)[0]


def refusal_by_name(callable_name: str) -> str | None:
    """Why ``callable_name`` is refused from its text alone (None: it may be handler code).

    Only the standard library and builtins can be told by name; this imports nothing.
    """
    module = module_of(callable_name)
    if module is None:
        return None
    return standard_library_refusal(module)


def standard_library_refusal(module_name: str) -> str | None:
    """The refusal for a module of the standard library (or builtins), else None."""
    top = top_level(module_name)
    if top == "builtins":
        return "'builtins' holds Python's built-in functions, not step handlers"
    if top in STANDARD_LIBRARY:
        return f"'{top}' is a module of Python's standard library, not handler code"
    return None


__all__ = [
    "RULE",
    "STANDARD_LIBRARY",
    "module_of",
    "refusal_by_name",
    "standard_library_refusal",
    "top_level",
]
