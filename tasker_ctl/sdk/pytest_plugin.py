"""pytest plugin: handler tests can ``import tasker_core`` even without tasker-py installed.

Registered as a ``pytest11`` entry point, so a project's generated handler tests run with a plain
``pytest``. With tasker-py installed it only sets ``RUST_LOG=warn`` (unless set) so the native
extension does not flood the test output.
"""

from __future__ import annotations

import pytest

from tasker_ctl.sdk.compat import activate_tasker_core


def pytest_configure(config: pytest.Config) -> None:
    """Prepare ``tasker_core`` before test modules are imported."""
    activate_tasker_core(load=False)
