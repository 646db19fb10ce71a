"""The Tasker server client: the second implementation of the task operations.

``profiles`` (connection profiles, standard library only), ``contract`` (the OpenAPI document),
``client`` (httpx, timeouts, retries, errors), ``tasks`` (the task operations returning the
views of :mod:`tasker_ctl.tasks.views`), ``templates`` (the server's templates and the promote
check), ``backend`` (the seam: the local operations or a server's). httpx is imported only when
a profile is used.

The profile selection itself is here, so that a command without a profile imports nothing more.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

PROFILE_ENV = "TASKER_CLIENT_PROFILE"


def selected_profile_name(flag: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """``--profile``, else ``TASKER_CLIENT_PROFILE``, else None (stay local)."""
    if flag:
        return flag
    env = os.environ if environ is None else environ
    return env.get(PROFILE_ENV) or None
