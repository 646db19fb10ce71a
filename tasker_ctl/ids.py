"""Random identifiers: the UUIDs (version 4) of tasks, steps and dispatches.

``uuid.uuid4()`` reads ``os.urandom`` at every call, ~10-20 µs here: 20,000 of them when a
10,000-step task is created. These come from a generator of tasker-ctl's own, seeded once from
``os.urandom``: as unique as ``uuid4()`` (122 random bits), not meant to be unpredictable, and
unaffected by a handler seeding the ``random`` module (a fixed seed there would otherwise repeat
ids across runs). A forked child reseeds, so that it never repeats its parent's ids.
"""

from __future__ import annotations

import os
import random
import uuid

_generator = random.Random()  # seeded from os.urandom
if hasattr(os, "register_at_fork"):  # a forked child must not repeat its parent's ids
    os.register_at_fork(after_in_child=_generator.seed)


def random_uuid() -> str:
    """A new version-4 UUID as text (random, so that a short prefix identifies a task)."""
    return str(uuid.UUID(int=_generator.getrandbits(128), version=4))
