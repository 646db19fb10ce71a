"""Handlers: resolve ``handler.callable`` to code, call it with its context, normalise its result.

Modules: ``registry`` (discovery, resolution), ``payload`` (what a handler is called with),
``invoke`` (calling it), ``normalise`` and ``outcome`` (what it did). Nothing is
re-exported, so importing one part never imports the rest.
"""
