"""When the cyclic garbage collector runs in a ``tasker-ctl`` process.

A command's start-up allocates heavily (imports, the YAML reader, pydantic models) and frees
little, so the collector would scan a growing heap again and again for nothing: about a sixth
of a short command such as ``template validate FILE``. The entry point therefore starts with it
off (:func:`pause`); a command that settles into a long-running loop (running a task, watching
one) turns it back on (:func:`resume`), after moving everything loaded so far out of its way.
Short commands end before it matters.
"""

from __future__ import annotations

import gc


def pause() -> None:
    """Stop automatic collection for the start-up of a command."""
    gc.disable()


def resume() -> None:
    """Collect automatically again, leaving the objects made so far out of every pass."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
