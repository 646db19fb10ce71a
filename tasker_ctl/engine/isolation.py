"""Each handler invocation gets its own copy of the data it is handed.

A handler may mutate what it receives (the task input, its step config and inputs, its
ancestors' results, its checkpoint): tasker-py's handlers do, e.g. a checkpointing worker that
appends to ``accumulated_results`` in place. Nothing it changes may reach the engine, a later
attempt or another step, and what it sees must equal what the store holds. So a value handed out
is kept encoded exactly as the store encodes it, and every consumer decodes its own copy: about
as cheap as a deep copy for small values and cheaper for large ones, and equal to the stored JSON
by construction (tuples become lists, dates ISO strings, keys strings).
"""

from __future__ import annotations

import json
from typing import Any

from tasker_ctl.store.repository import dumps


class FrozenJson:
    """A JSON value encoded once; :meth:`thaw` returns a new, independent copy each call."""

    __slots__ = ("_text",)

    def __init__(self, value: Any) -> None:
        self._text = dumps(value)

    def thaw(self) -> Any:
        """A fresh decode of the value, which the caller may mutate freely."""
        return json.loads(self._text)


def fresh_copy(value: Any) -> Any:
    """An independent copy of ``value`` as the store would return it (None stays None).

    Immutable scalars are returned as they are and empty containers made anew: most steps have
    no inputs and an empty config, and this runs at every dispatch.
    """
    if value is None or isinstance(value, str | int | float):  # bool is an int
        return value
    if not value and isinstance(value, dict | list | tuple):
        return {} if isinstance(value, dict) else []
    return json.loads(dumps(value))
