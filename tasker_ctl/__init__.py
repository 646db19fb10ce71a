"""tasker-ctl: the local-first command line for Tasker workflows.

The package is a library with a thin command line on top: ``tasker_ctl.cli`` (typer) and
``tasker_ctl.ui`` (rich) present what the core returns; nothing else imports either.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
