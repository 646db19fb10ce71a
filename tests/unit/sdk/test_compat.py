"""``activate_tasker_core``: which ``tasker_core`` handlers get; the alias without tasker-py.

The alias changes the import system of the whole process, so these checks run in a fresh
interpreter.
"""

from __future__ import annotations

import importlib.machinery
import os
import subprocess
import sys
import textwrap

import pytest

TASKER_PY_INSTALLED = importlib.machinery.PathFinder.find_spec("tasker_core") is not None


def run_python(code: str) -> str:
    env = {**os.environ, "RUST_LOG": "error"}
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


@pytest.mark.skipif(TASKER_PY_INSTALLED, reason="tasker-py is installed: no alias is needed")
def test_without_tasker_py_the_alias_returns_the_sdk_modules() -> None:
    output = run_python(
        """
        import sys
        from tasker_ctl.sdk.compat import activate_tasker_core
        first, second = activate_tasker_core(), activate_tasker_core()
        import tasker_core, tasker_core.errors
        from tasker_core.step_handler.functional import step_handler
        from tasker_core.errors import PermanentError
        import tasker_ctl.sdk, tasker_ctl.sdk.errors, tasker_ctl.sdk.step_handler.functional as f
        hooks = [type(h).__name__ for h in sys.meta_path].count("_AliasFinder")
        print(first, second, hooks)
        print(tasker_core is tasker_ctl.sdk, tasker_core.errors is tasker_ctl.sdk.errors)
        print(step_handler is f.step_handler, PermanentError.__module__)
        print(tasker_core.errors.__spec__.name)
        """
    )

    assert output.splitlines() == [
        "tasker-ctl tasker-ctl 1",
        "True True",
        "True tasker_ctl.sdk.errors",
        "tasker_ctl.sdk.errors",
    ]


@pytest.mark.skipif(TASKER_PY_INSTALLED, reason="tasker-py is installed: no alias is needed")
def test_without_tasker_py_nothing_is_aliased_until_activation() -> None:
    output = run_python(
        """
        try:
            import tasker_core
        except ModuleNotFoundError:
            print("absent")
        """
    )

    assert output == "absent"


@pytest.mark.skipif(not TASKER_PY_INSTALLED, reason="needs tasker-py")
def test_with_tasker_py_its_own_package_is_used() -> None:
    output = run_python(
        """
        from tasker_ctl.sdk.compat import activate_tasker_core
        print(activate_tasker_core())
        import tasker_core
        print("tasker_ctl" in tasker_core.__file__)
        """
    )

    assert output.splitlines() == ["tasker-py", "False"]
