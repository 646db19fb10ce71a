"""Random ids: unique across a fork and whatever a handler does to the ``random`` module."""

from __future__ import annotations

import os
import random

from tasker_ctl.ids import random_uuid


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, to the parent
        os.write(write_end, random_uuid().encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    from_child = os.read(read_end, 100).decode()
    os.close(read_end)

    assert from_child != random_uuid()


def test_seeding_the_random_module_does_not_repeat_ids() -> None:
    random.seed(42)
    first = random_uuid()
    random.seed(42)

    assert random_uuid() != first
    assert first[14] == "4"  # a version-4 UUID
