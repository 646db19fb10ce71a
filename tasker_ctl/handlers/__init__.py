"""Handlers: resolve ``handler.callable`` to code, call it with its context, normalise its result.

Import the module you need (``tasker_ctl.handlers.registry``, ``.outcome``): nothing is
re-exported, so importing one part never imports the rest.
"""
