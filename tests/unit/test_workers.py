"""The worker pool: when a job's clock starts, and a hung job costing no capacity.

Jobs are plain callables synchronised with events; the pool's clock is injected, so nothing here
waits on real time beyond thread hand-offs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tasker_ctl.engine.workers import Completion, ThreadWorkerPool
from tasker_ctl.handlers.outcome import StepOutcome

WAIT = 10.0  # seconds; only reached when the behaviour under test is broken


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of each test, so no job is left blocking a thread."""
    event = threading.Event()
    yield event
    event.set()


def _blocking_job(started: threading.Event, release: threading.Event) -> StepOutcome:
    started.set()
    release.wait(WAIT)
    return StepOutcome.succeeded({"late": True})


def test_a_job_is_stamped_when_a_worker_starts_it_not_when_queued(
    release: threading.Event,
) -> None:
    clock = FakeClock()
    pool = ThreadWorkerPool(1, clock)
    first_started, second_started = threading.Event(), threading.Event()
    release_first = threading.Event()
    pool.submit("first", 1, lambda: _blocking_job(first_started, release_first))
    assert first_started.wait(WAIT)
    pool.submit("second", 1, lambda: _blocking_job(second_started, release))
    clock.now = 130.0

    assert pool.started_at("first", 1) == 100.0
    assert pool.started_at("second", 1) is None  # queued behind the first: no clock yet
    release_first.set()
    assert second_started.wait(WAIT)
    assert pool.started_at("second", 1) == 130.0
    assert pool.started_at("first", 1) is None  # finished
    pool.shutdown()


def test_an_abandoned_thread_is_replaced_so_queued_jobs_still_run(
    release: threading.Event,
) -> None:
    pool = ThreadWorkerPool(1, FakeClock())
    hung_started = threading.Event()
    pool.submit("hung", 1, lambda: _blocking_job(hung_started, release))
    assert hung_started.wait(WAIT)

    pool.abandon("hung", 1)
    pool.submit("retry", 2, lambda: StepOutcome.succeeded({"ran": True}))

    done = pool.completions.get(timeout=WAIT)
    assert (done.step_uuid, done.token, done.outcome.result) == ("retry", 2, {"ran": True})
    release.set()
    late: Completion = pool.completions.get(timeout=WAIT)
    assert (late.step_uuid, late.outcome.result) == ("hung", {"late": True})
    pool.shutdown()


def _busy_threads(pool: ThreadWorkerPool, release: threading.Event, expected: int) -> int:
    """How many jobs the pool runs at once now: 3 blocking jobs are offered.

    The first ``expected`` jobs (the pool takes them in order) are waited for; then a moment
    more lets a free thread, if the pool wrongly has one, take another.
    """
    started = [threading.Event() for _ in range(3)]
    for index, event in enumerate(started):
        pool.submit(f"probe-{index}", 1, lambda event=event: _blocking_job(event, release))
    for event in started[:expected]:
        event.wait(WAIT)
    time.sleep(0.05)  # time enough for a free thread to take a waiting job
    return sum(event.is_set() for event in started)


def test_the_abandoned_thread_ends_after_its_job_so_the_pool_keeps_its_size(
    release: threading.Event,
) -> None:
    pool = ThreadWorkerPool(2, FakeClock())
    release_hung, hung_started = threading.Event(), threading.Event()
    pool.submit("hung", 1, lambda: _blocking_job(hung_started, release_hung))
    assert hung_started.wait(WAIT)
    pool.abandon("hung", 1)
    release_hung.set()
    assert pool.completions.get(timeout=WAIT).step_uuid == "hung"

    assert _busy_threads(pool, release, 2) == 2
    pool.shutdown()


def test_abandoning_a_job_that_already_finished_changes_nothing(
    release: threading.Event,
) -> None:
    pool = ThreadWorkerPool(1, FakeClock())
    pool.submit("quick", 1, lambda: StepOutcome.succeeded({}))
    pool.completions.get(timeout=WAIT)

    pool.abandon("quick", 1)

    assert _busy_threads(pool, release, 1) == 1
    pool.shutdown()


def _pool_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("tasker-step-")}


def test_threads_start_only_as_jobs_need_them(release: threading.Event) -> None:
    before = _pool_threads()
    pool = ThreadWorkerPool(8, FakeClock())
    assert _pool_threads() == before  # none until there is a job

    for token in range(5):  # one job at a time, as on a chain of steps
        pool.submit("chain", token, lambda: StepOutcome.succeeded({}))
        pool.completions.get(timeout=WAIT)
    assert len(_pool_threads() - before) == 1

    assert _busy_threads(pool, release, 3) == 3  # jobs offered together get threads together
    assert len(_pool_threads() - before) == 3
    pool.shutdown()
