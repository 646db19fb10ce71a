"""Run ownership: one live run per task, told apart from a dead one.

A run takes its task's lease (a row the store keeps: :meth:`Repository.take_lease`) in the same
write transaction that moves the task, and every later write of the run checks that it still
holds it. This module is the engine's side: who this process is, whether a holder is alive, and
the heartbeat thread that keeps the lease fresh and notices, within :data:`NOTICE_SECONDS`, an
operator command or a takeover while the scheduler waits on long handlers.

A holder is dead when:

- on this host (same host name and boot): its process is gone, or its pid now belongs to a process
  that started at another moment (a reused pid), or it is a zombie;
- elsewhere (a store on a shared directory, or a host that rebooted): its heartbeat is older than
  :data:`STALE_AFTER_HEARTBEATS` of its heartbeat intervals (30 s at the default 2 s).

Standard library only (``task status`` imports it to tell running from interrupted).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from tasker_ctl.errors import LeaseLostError, RunBusyError, RunInterruptedError, TaskerCtlError
from tasker_ctl.store.connection import parse_timestamp
from tasker_ctl.store.records import LeaseHolder, LeaseRecord
from tasker_ctl.store.repository import Repository

DEFAULT_HEARTBEAT_SECONDS = 2.0
STALE_AFTER_HEARTBEATS = 15
NOTICE_SECONDS = 0.25
"""How often the heartbeat thread looks for an operator's change or a takeover."""

Notify = Callable[[TaskerCtlError], None]


@lru_cache(maxsize=1)
def _host() -> str:
    """This host's name (``os.uname``: importing ``socket`` would cost ``task status`` 2 ms)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


@lru_cache(maxsize=1)
def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """``(state letter, start time in clock ticks since boot)`` from ``/proc`` (Linux)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces; fields follow the last ')'.
    fields = text[text.rfind(")") + 2 :].split()
    if len(fields) < 20:
        return None
    return fields[0], fields[19]


def this_process() -> LeaseHolder:
    """The identity of the running process, as a lease records it."""
    pid = os.getpid()
    stat = _proc_stat(pid) if sys.platform.startswith("linux") else None
    return LeaseHolder(
        pid=pid,
        host=_host(),
        boot_id=_boot_id(),
        process_start=None if stat is None else stat[1],
    )


def _same_boot(holder: LeaseHolder) -> bool:
    """Whether ``holder`` ran on this host since its last boot (so its pid can be checked)."""
    if holder.host != _host():
        return False
    return holder.boot_id is None or _boot_id() is None or holder.boot_id == _boot_id()


def _process_alive(holder: LeaseHolder) -> bool:
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    stat = _proc_stat(holder.pid)
    if stat is None:
        return True  # no /proc: the pid exists, which is all that can be known
    state, started = stat
    if state in ("Z", "X"):
        return False  # killed, not yet reaped by its parent
    return holder.process_start is None or started == holder.process_start


def stale_after_seconds(lease: LeaseRecord) -> float:
    """How old a heartbeat from another host may be before its run counts as dead."""
    return STALE_AFTER_HEARTBEATS * lease.heartbeat_seconds


def holder_alive(lease: LeaseRecord, now: datetime | None = None) -> bool:
    """Whether the run holding ``lease`` is alive (a released lease has no holder)."""
    if lease.released_at is not None:
        return False
    if _same_boot(lease.holder):
        return _process_alive(lease.holder)
    moment = now or datetime.now(UTC)
    age = (moment - parse_timestamp(lease.heartbeat_at)).total_seconds()
    return age <= stale_after_seconds(lease)


def describe_holder(lease: LeaseRecord) -> str:
    """``process 1234 since 2026-…Z`` (``on HOST`` when it is another host)."""
    where = "" if lease.holder.host == _host() else f" on {lease.holder.host}"
    return f"process {lease.holder.pid}{where} since {lease.acquired_at}"


def busy_error(task_uuid: str, lease: LeaseRecord) -> RunBusyError:
    """The refusal of a second run while a live one holds the task."""
    return RunBusyError(
        f"task {task_uuid} is already being run by {describe_holder(lease)}",
        hint=f"follow it with `tasker-ctl task status --watch {task_uuid}`, stop it with "
        f"`tasker-ctl task cancel {task_uuid}` (or, if it is stuck, take it over with "
        f"`tasker-ctl task run --take-over {task_uuid}`)",
    )


@dataclass(frozen=True)
class Takeover:
    """A lease taken from another run: whose it was, and whether that run was still alive."""

    previous: LeaseRecord
    holder_was_alive: bool

    def describe(self) -> str:
        """One line for the user: whose lease this run took."""
        lease = self.previous
        state = "alive, taken over by request" if self.holder_was_alive else "no longer running"
        return (
            f"took over task {lease.task_uuid} from {describe_holder(lease)} "
            f"(last heartbeat {lease.heartbeat_at}; {state}); "
            "its steps that were running run again"
        )


class RunLease:
    """This run's lease on one task: taken, kept fresh by a heartbeat thread, released."""

    def __init__(
        self, repository: Repository, task_uuid: str, heartbeat_seconds: float, notify: Notify
    ) -> None:
        self._repository = repository
        self._task_uuid = task_uuid
        self._heartbeat_seconds = heartbeat_seconds
        self._notify = notify
        self._token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self, *, take_over: bool, task_state: str) -> Takeover | None:
        """Take the lease inside the caller's write transaction.

        Refused with ``RunBusyError`` (nothing written) while a live run holds it, unless
        ``take_over``; a lease taken from another run is recorded in the audit trail.
        """
        previous = self._repository.get_lease(self._task_uuid)
        takeover = None
        if previous is not None and previous.released_at is None:
            alive = holder_alive(previous)
            if alive and not take_over:
                raise busy_error(self._task_uuid, previous)
            takeover = Takeover(previous, alive)
            holder = previous.holder
            self._repository.record_takeover(
                self._task_uuid,
                task_state,
                {
                    "previous_pid": holder.pid,
                    "previous_host": holder.host,
                    "previous_since": previous.acquired_at,
                    "previous_heartbeat": previous.heartbeat_at,
                    "reason": "take_over_requested" if alive else "holder_dead",
                    "by_pid": os.getpid(),
                },
            )
        self._repository.take_lease(
            self._task_uuid, self._token, this_process(), self._heartbeat_seconds
        )
        return takeover

    def start(self) -> None:
        """Start the heartbeat thread (after the transaction that took the lease committed)."""
        self._thread = threading.Thread(target=self._beat, name="tasker-lease", daemon=True)
        self._thread.start()

    def stop(self, *, release: bool) -> None:
        """Stop the heartbeat; with ``release``, mark the lease released (the run ended)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if release:
            with contextlib.suppress(TaskerCtlError):
                self._repository.release_lease(self._task_uuid, self._token)

    def _beat(self) -> None:
        poll = min(NOTICE_SECONDS, self._heartbeat_seconds)
        ticks_per_beat = max(1, round(self._heartbeat_seconds / poll))
        tick = 0
        told = False
        while not self._stop.wait(poll):
            tick += 1
            try:
                if tick % ticks_per_beat == 0:
                    held, notice = self._repository.beat(self._task_uuid, self._token)
                else:
                    held, notice = self._look()
            except TaskerCtlError as error:
                self._notify(error)
                return
            if not held:
                self._notify(
                    LeaseLostError(
                        f"this run no longer holds task {self._task_uuid}: "
                        "another run took it over; it stopped without writing more",
                        hint="follow the task with "
                        f"`tasker-ctl task status --watch {self._task_uuid}`",
                    )
                )
                return
            if notice is not None and not told:
                told = True  # keep beating while the run records its running handlers
                self._notify(RunInterruptedError(notice))

    def _look(self) -> tuple[bool, dict[str, object] | None]:
        lease = self._repository.get_lease(self._task_uuid)
        if lease is None or lease.token != self._token:
            return False, None
        return True, lease.interrupt
