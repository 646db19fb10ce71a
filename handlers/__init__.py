"""Handlers for the example workflows in ``templates/`` (run from the repository root)."""
