"""What runs a task: the scheduler, dispatch to worker threads, dynamic steps, events.

Import the module you need (``tasker_ctl.engine.scheduler``, ``.events``, …): this package
re-exports nothing, so that an observer importing the events does not import the scheduler.
"""
