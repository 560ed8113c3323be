"""The worker processes of a batch: a bounded window of workbooks in flight, results handed on in
input order, workers renewed every ``WORKBOOKS_PER_WORKER`` workbooks and a dead worker costing
only the workbook that killed it.

Imported only when a batch runs more than one worker, so a single workbook's ``verify`` does not
pay for multiprocessing's import.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Generator, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from xlcheck.exchange.batch_task import (
    Task,
    internal_error_reason,
    unreadable_result,
    verify_one,
)
from xlcheck.exchange.fork_server import worker_context
from xlcheck.exchange.sources import WorkbookInput
from xlcheck.findings import VerificationResult

#: Workbooks submitted ahead of the oldest unfinished one, per worker: enough to keep every
#: worker busy past a slow workbook, few enough that waiting results stay a handful.
_WINDOW_PER_JOB = 8
#: Workbooks a worker process verifies before a fresh one replaces it: the libraries' native
#: memory creeps up over thousands of workbooks (a worker measured 70 MB after 500, 87 MB after
#: 5,000); renewing workers keeps it where it was after the first few hundred.
WORKBOOKS_PER_WORKER = 1_000


def _warm_up(batch_process: int) -> None:
    """Import the heavy libraries once per worker process, not once per workbook."""
    # What the worker inherited from the fork server (the libraries, imported there) is never
    # garbage: frozen, the collector does not walk it for each workbook, nor write into its
    # pages, which would make shared memory the worker's own.
    gc.freeze()
    # A verification allocates tens of thousands of short-lived objects (XML trees, cells) and
    # almost no cycles: at CPython's default threshold (700) the collector ran three times a
    # workbook, about 1 % of a worker's instructions (callgrind). The process running the
    # command line uses the same threshold (``cli.main``); a fork server's workers do not
    # inherit it.
    gc.set_threshold(20_000, 20, 20)
    threading.Thread(target=_end_with, args=(batch_process,), daemon=True).start()
    import python_calamine  # noqa: F401

    import xlcheck.annotator
    import xlcheck.reader  # noqa: F401


def _end_with(batch_process: int) -> None:
    """End this worker when the batch that started it is gone (even killed with SIGKILL): a
    worker waiting for work that never comes would otherwise stay forever."""
    while True:
        time.sleep(1)
        try:
            os.kill(batch_process, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # alive, under another user after a pid was reused: stay
            continue


def _worker_died(item: WorkbookInput, lang: str) -> VerificationResult:
    return unreadable_result(
        item,
        "the worker process verifying this workbook ended abruptly (out of memory?); "
        "verify it on its own"
        if lang == "en"
        else "校验此工作簿的进程意外终止（可能内存不足），请单独校验此文件",
    )


def _executor(jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=jobs, mp_context=worker_context(), initializer=_warm_up, initargs=(os.getpid(),)
    )


class _Pool:
    """A process pool that survives a worker's death (the workbooks then in flight are verified
    again one by one, so only the one that kills a worker gets an unreadable row) and renews its
    workers every ``WORKBOOKS_PER_WORKER`` workbooks each, so their memory stays flat."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.executor = _executor(jobs)
        self.submitted = 0

    def submit(self, task: Task) -> Future[VerificationResult]:
        if self.submitted >= WORKBOOKS_PER_WORKER * self.jobs:
            # The old workers finish what they hold and exit; fresh ones take the rest. A fork
            # of this small parent plus the workers' imports costs a fraction of a millisecond
            # per workbook at this rate.
            self.executor.shutdown(wait=False)
            self.executor = _executor(self.jobs)
            self.submitted = 0
        self.submitted += 1
        return self.executor.submit(verify_one, task)

    def restart(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = _executor(self.jobs)
        self.submitted = 0

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


def _alone(task: Task) -> VerificationResult:
    """``task`` in a pool of its own: a result, or the row saying its worker died."""
    single = _executor(1)
    try:
        return single.submit(verify_one, task).result()
    except BrokenProcessPool:
        return _worker_died(task.item, task.options.lang)
    finally:
        single.shutdown(wait=True, cancel_futures=True)


def _finished_or_alone(future: Future[VerificationResult], task: Task) -> VerificationResult:
    if future.done() and not future.cancelled() and future.exception() is None:
        return future.result()
    return _alone(task)


def in_parallel(
    tasks: Iterator[Task], jobs: int
) -> Generator[tuple[Task, VerificationResult], None, None]:
    """(task, result) in task order, ``jobs`` processes at a time, a bounded window in flight."""
    pool = _Pool(jobs)
    window = jobs * _WINDOW_PER_JOB
    in_flight: dict[Future[VerificationResult], tuple[int, Task]] = {}
    finished: dict[int, tuple[Task, VerificationResult]] = {}
    submitted = handed_on = 0
    exhausted = False
    try:
        while True:
            while not exhausted and submitted - handed_on < window:
                task = next(tasks, None)
                if task is None:
                    exhausted = True
                    break
                in_flight[pool.submit(task)] = (submitted, task)
                submitted += 1
            if not in_flight and not finished:
                return
            if in_flight:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                broken = False
                for future in done:
                    index, task = in_flight.pop(future)
                    try:
                        finished[index] = (task, future.result())
                    except BrokenProcessPool:
                        broken = True
                        finished[index] = (task, _alone(task))
                    except Exception as exc:  # a result that cannot come back: that row only
                        reason = internal_error_reason(exc, task.options.lang)
                        finished[index] = (task, unreadable_result(task.item, reason))
                if broken:
                    # The others in flight finished before the break, or failed with the pool:
                    # those are verified again, each alone.
                    for future, (index, task) in in_flight.items():
                        finished[index] = (task, _finished_or_alone(future, task))
                    in_flight.clear()
                    pool.restart()
            while handed_on in finished:
                yield finished.pop(handed_on)
                handed_on += 1
    finally:
        pool.close()
