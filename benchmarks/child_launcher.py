"""Starts the benchmarks' children from a process that stays small, and times them.

Linux carries a process's peak RSS (``ru_maxrss``) across ``exec``: a child forked from a
benchmark that holds a 10,000-step workload in memory reports at least the benchmark's own peak,
however little it uses itself. Children started from this process instead start from its few
megabytes, so their ``wait4`` figures are their own.

Reads one JSON request a line on stdin (``command``, ``cwd``, ``env``, ``stdout`` and ``stderr``
file paths) and answers each with one JSON line: ``wall_s``, ``cpu_s``, ``exit_code``,
``maxrss_kb``. Wall time runs from just before the start to the reap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        with open(request["stdout"], "w") as out, open(request["stderr"], "w") as err:  # noqa: PTH123
            started = time.perf_counter()
            process = subprocess.Popen(
                request["command"], cwd=request["cwd"], env=request["env"], stdout=out, stderr=err
            )
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait
        answer = {
            "wall_s": wall,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "exit_code": process.returncode,
            "maxrss_kb": usage.ru_maxrss,
        }
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
