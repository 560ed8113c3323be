"""Many workbooks verified in parallel processes, results streamed in input order, none fatal.

The parent holds no list of results: it keeps a bounded window of workbooks in flight and hands
each result on as soon as every earlier one has been handed on, so memory stays flat however
many workbooks a batch has.
"""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import multiprocessing.context
import os
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from xlcheck.errors import XlcheckError
from xlcheck.exchange.copy_plan import CopyPlan
from xlcheck.exchange.sources import WorkbookInput
from xlcheck.findings import VerificationResult
from xlcheck.verification import VerifyOptions, verify_workbook

#: Called with (workbooks done, workbooks in all) after each workbook.
ProgressCallback = Callable[[int, int], None]
#: Workbooks submitted ahead of the oldest unfinished one, per worker: enough to keep every
#: worker busy past a slow workbook, few enough that waiting results stay a handful.
_WINDOW_PER_JOB = 8
#: Workbooks a worker process verifies before a fresh one replaces it: the libraries' native
#: memory creeps up over thousands of workbooks (a worker measured 70 MB after 500, 87 MB after
#: 5,000); renewing workers keeps it where it was after the first few hundred.
WORKBOOKS_PER_WORKER = 1_000


def default_jobs() -> int:
    """Worker processes when --jobs is not given: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


def plan_annotated_paths(
    inputs: Sequence[WorkbookInput], *, out_dir: Path | None, output: Path | None = None
) -> list[Path | None]:
    """Where each workbook's annotated copy goes (without reserving anything); no two share a
    name and none is an input."""
    plan = CopyPlan(inputs, out_dir=out_dir, output=output, reserve=False)
    return [plan.target(index) for index in range(len(inputs))]


def unreadable_result(item: WorkbookInput, reason: str) -> VerificationResult:
    return VerificationResult(
        path=item.path, template=None, unreadable_reason=reason, mail=item.mail
    )


def internal_error_reason(exc: BaseException, lang: str) -> str:
    """The one line a batch row shows for an xlcheck bug: its type and message, to report."""
    message = f"{type(exc).__name__}: {exc}"
    return (
        f"xlcheck internal error ({message}); please report it"
        if lang == "en"
        else f"xlcheck 内部错误（{message}），请报告此问题"
    )


@dataclass(frozen=True)
class Task:
    """One workbook for a worker: the input, its options (copy path set) and what to send back."""

    item: WorkbookInput
    options: VerifyOptions
    keep_all_values: bool = False


def verify_one(task: Task) -> VerificationResult:
    """Verify one workbook (in a worker process); whatever stops it is an ``unreadable`` result."""
    item, options = task.item, task.options
    if item.problem is not None:
        return unreadable_result(item, item.problem.render_line(options.lang))
    try:
        result = verify_workbook(item.path, options=options)
    except XlcheckError as exc:
        return unreadable_result(item, exc.render_line(options.lang))
    except Exception as exc:
        # A batch of hundreds must not die on one odd file: an unexpected failure is an xlcheck
        # bug, reported as such on that workbook's row so it can be sent to the maintainers.
        return unreadable_result(item, internal_error_reason(exc, options.lang))
    if not task.keep_all_values and result.all_values:
        result = dataclasses.replace(result, all_values={})  # not pickled back for nothing
    return dataclasses.replace(result, mail=item.mail) if item.mail is not None else result


def _warm_up(batch_process: int) -> None:
    """Import the heavy libraries once per worker process, not once per workbook."""
    # What the worker inherited from the fork server (the libraries, imported there) is never
    # garbage: frozen, the collector does not walk it for each workbook, nor write into its
    # pages, which would make shared memory the worker's own.
    gc.freeze()
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


def _context() -> multiprocessing.context.BaseContext:
    """Where workers come from: a fork server that has imported the libraries and nothing else,
    so a worker started late in a batch does not carry the parent's grown memory (with plain
    fork it would, and the parent's later writes would leave those pages the worker's own)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context()  # Windows: spawn, which inherits nothing anyway
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(
        ["xlcheck.exchange.batch", "xlcheck.reader", "xlcheck.annotator"]
    )
    return context


def _executor(jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=jobs, mp_context=_context(), initializer=_warm_up, initargs=(os.getpid(),)
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


def _in_parallel(
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


def iter_verify(
    inputs: Sequence[WorkbookInput],
    *,
    options: VerifyOptions,
    jobs: int | None = None,
    out_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    keep_all_values: bool = True,
) -> Generator[VerificationResult, None, None]:
    """Verify every input, ``jobs`` at a time, yielding results in input order as they come.

    Args:
        options: the ``VerifyOptions`` for every workbook (its ``output`` only for a single input).
        jobs: worker processes; None uses every core this process may use, 1 verifies here.
        out_dir: folder for the annotated copies (names reserved there, never overwritten);
            None puts each beside its workbook.
        keep_all_values: keep ``result.all_values`` (every field's value, for ``collect``).

    Raises:
        OutputRefusedError: ``options.output`` is an input, a symlink or not a regular file.
        OutputExistsError: an annotated copy exists and ``options.force`` is false (checked
            before any work starts).
    """
    plan = CopyPlan(
        inputs,
        out_dir=out_dir,
        output=options.output,
        reserve=options.annotate,
        force=options.force,
    )
    if options.annotate:
        plan.check_before_run()  # now, not at the first result: nothing printed yet
    jobs = min(default_jobs() if jobs is None else max(1, jobs), max(len(inputs), 1))
    return _verified(inputs, plan, options, jobs, progress, keep_all_values)


def _verified(
    inputs: Sequence[WorkbookInput],
    plan: CopyPlan,
    options: VerifyOptions,
    jobs: int,
    progress: ProgressCallback | None,
    keep_all_values: bool,
) -> Generator[VerificationResult, None, None]:
    total = len(inputs)

    def tasks() -> Iterator[Task]:
        for index, item in enumerate(inputs):
            try:
                target = plan.claim(index, item) if options.annotate else None
            except XlcheckError as exc:
                yield Task(dataclasses.replace(item, problem=exc), options, keep_all_values)
                continue
            if target is None:
                yield Task(item, options, keep_all_values)
                continue
            # A reserved name is this run's own empty file: the copy replaces it.
            force = True if plan.reserves(item) else options.force
            task_options = dataclasses.replace(options, output=target, force=force)
            yield Task(item, task_options, keep_all_values)

    if jobs == 1:
        results: Generator[tuple[Task, VerificationResult], None, None] = (
            (task, verify_one(task)) for task in tasks()
        )
    else:
        results = _in_parallel(tasks(), jobs)
    try:
        for done, (task, result) in enumerate(results, start=1):
            plan.settle(task.item, task.options.output, result.annotated)
            if progress is not None:
                progress(done, total)
            yield result
    finally:
        results.close()  # the workers finish what they hold first
        plan.release_unsettled()  # an interrupted run leaves no empty reserved copies behind


def verify_inputs(
    inputs: Sequence[WorkbookInput],
    *,
    options: VerifyOptions,
    jobs: int | None = None,
    out_dir: Path | None = None,
    progress: ProgressCallback | None = None,
) -> list[VerificationResult]:
    """Every result of ``iter_verify`` as a list (for a library user with a few workbooks).

    Raises:
        OutputExistsError, OutputRefusedError: see ``iter_verify``.
    """
    return list(iter_verify(inputs, options=options, jobs=jobs, out_dir=out_dir, progress=progress))
