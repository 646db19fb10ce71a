"""The task operations the CLI calls: create (input checks), reads and views, operator actions, run.

Import the module you need (``tasker_ctl.tasks.operations``, ``.run``, ``.inputs``): nothing is
re-exported, so a reading command never imports the engine.
"""
