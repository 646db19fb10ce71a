"""Bytecode caching for benchmark children, as an installed tasker-ctl has it.

pip compiles an installed package's modules once; a shell that sets ``PYTHONDONTWRITEBYTECODE``
(as some CI images and sandboxes do) would instead make every timed process compile tasker-ctl
from source. The benchmarks therefore give their children a bytecode cache under a temporary
prefix, which leaves the working tree clean; ``--no-bytecode-cache`` measures the uncached start.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PYCACHE = Path(tempfile.gettempdir()) / "tasker-ctl-bench-pycache"


def with_bytecode_cache(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's environment) with a bytecode cache switched on."""
    cached = dict(os.environ if env is None else env)
    cached.pop("PYTHONDONTWRITEBYTECODE", None)
    cached["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return cached
