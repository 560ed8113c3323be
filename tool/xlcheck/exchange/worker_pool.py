"""The worker processes of a batch: a bounded window of workbooks in flight, results handed on in
input order, workers renewed every ``WORKBOOKS_PER_WORKER`` workbooks and a dead worker costing
only the workbook that killed it.

Each worker has a pipe of its own: the parent sends it a workbook (two at most, so it never waits
for the next) and waits on the pipes for results. ``ProcessPoolExecutor`` did this through a
manager thread and a queue feeder thread, which woke for every workbook and its result: dummy
workbooks at a batch's pace cost the parent 0.7 to 1 ms each through it, 0.4 ms through pipes.

Imported only when a batch runs more than one worker, so a single workbook's ``verify`` does not
pay for multiprocessing's import. Where the workers come from: ``fork_server``.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Generator, Iterator
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.reduction import ForkingPickler
from typing import Any

from xlcheck.exchange.batch_task import (
    Task,
    internal_error_reason,
    unreadable_result,
    verify_one,
)
from xlcheck.exchange.fork_server import (
    PRELOAD,
    default_jobs,
    fork_context,
    start_worker_server,
    worker_context,
)
from xlcheck.exchange.sources import WorkbookInput
from xlcheck.findings import VerificationResult

#: Workbooks taken ahead of the oldest unfinished one, per worker: enough to keep every worker
#: busy past a slow workbook, few enough that waiting results (and names reserved for their
#: copies) stay a handful.
_WINDOW_PER_JOB = 8
#: Workbooks sent to a worker before it has answered: one it verifies and one it starts next.
_SENT_PER_WORKER = 2
#: Workbooks a worker process verifies before a fresh one replaces it: the libraries' native
#: memory creeps up over thousands of workbooks (a worker measured 70 MB after 500, 87 MB after
#: 5,000); renewing workers keeps it where it was after the first few hundred.
WORKBOOKS_PER_WORKER = 1_000
#: Workbooks before a worker's renewal at which the fork server its successor comes from is
#: started (the server imports for about 0.2 s; a worker verifies a workbook in about 15 ms).
_SERVER_AHEAD = 100


def _warm_up(batch_process: int) -> None:
    """Import the heavy libraries once per worker process, not once per workbook."""
    # Forked from the command line, a worker has its SIGTERM handler, which unwinds a batch: a
    # worker ends at once, as the fork server's do.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # A worker from the fork server has these imported already.
    import python_calamine  # noqa: F401

    for module in PRELOAD:
        importlib.import_module(module)
    # What the worker inherited or imported (the libraries) is never garbage: frozen, the
    # collector does not walk it for each workbook, nor write into its pages, which would make
    # memory shared with the process it was forked from the worker's own.
    gc.freeze()
    # A verification allocates tens of thousands of short-lived objects (XML trees, cells) and
    # almost no cycles: at CPython's default threshold (700) the collector ran three times a
    # workbook, about 1 % of a worker's instructions (callgrind). The process running the
    # command line uses the same threshold (``cli.main``); a fork server's workers do not
    # inherit it.
    gc.set_threshold(20_000, 20, 20)
    threading.Thread(target=_end_with, args=(batch_process,), daemon=True).start()


def _end_with(batch_process: int) -> None:
    """End this worker when the batch that started it is gone (even killed with SIGKILL): a
    worker busy with a workbook would otherwise finish it for nobody."""
    while True:
        time.sleep(1)
        try:
            os.kill(batch_process, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # alive, under another user after a pid was reused: stay
            continue


def _serve(connection: Connection, batch_process: int) -> None:
    """A worker: verify each task received, send back (True, result), or (False, exception)
    for what stopped it; end at None, or when the batch's end of the pipe is closed (the batch
    has ended, even killed)."""
    _warm_up(batch_process)
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):  # the batch has gone
            return
        if task is None:
            return
        try:
            answer: tuple[bool, Any] = (True, verify_one(task))
        except BaseException as exc:  # the batch decides what it means (as the executor did)
            answer = (False, exc)
        try:
            data = ForkingPickler.dumps(answer)
        except BaseException as exc:  # a result that cannot be pickled: that row only
            data = ForkingPickler.dumps((False, exc))
        try:
            connection.send_bytes(data)
        except OSError:  # the batch has gone
            return


def _worker_died(item: WorkbookInput, lang: str) -> VerificationResult:
    return unreadable_result(
        item,
        "the worker process verifying this workbook ended abruptly (out of memory?); "
        "verify it on its own"
        if lang == "en"
        else "校验此工作簿的进程意外终止（可能内存不足），请单独校验此文件",
    )


def _answered(task: Task, answer: tuple[bool, Any]) -> VerificationResult:
    """The result a worker sent back, or the row of what stopped it there."""
    done, payload = answer
    if done:
        result: VerificationResult = payload
        return result
    if not isinstance(payload, Exception):
        raise payload  # KeyboardInterrupt or SystemExit in the worker: the batch stops too
    return unreadable_result(task.item, internal_error_reason(payload, task.options.lang))


class _Worker:
    """A worker process, its end of the pipe, and the tasks sent to it (oldest first)."""

    def __init__(self, context: BaseContext) -> None:
        ours, theirs = context.Pipe()
        # Daemonic: should the batch die without closing its pool, exiting ends its workers.
        self.process: Any = context.Process(  # type: ignore[attr-defined]
            target=_serve, args=(theirs, os.getpid()), daemon=True
        )
        self.process.start()
        theirs.close()
        self.connection = ours
        self.sent: deque[tuple[int, Task]] = deque()
        self.given = 0
        self.retiring = False

    def send(self, index: int, task: Task, data: bytes) -> None:
        """Send ``task`` (pickled as ``data``); to a worker that has ended, it is lost with the
        others it had (see ``_Pool._lost``)."""
        self.sent.append((index, task))
        self.given += 1
        with contextlib.suppress(OSError):
            self.connection.send_bytes(data)

    def retire(self) -> None:
        """No more tasks: it ends once it has answered those it has."""
        if not self.retiring:
            self.retiring = True
            with contextlib.suppress(OSError):  # gone already: its sentinel says so
                self.connection.send(None)

    def end(self) -> None:
        """Wait for the process to end, and close the pipe."""
        self.process.join()
        self.connection.close()


#: Workers the command line started before the batch was planned (``start_first_workers``), for
#: its pool to take.
_started: list[_Worker] = []


def start_first_workers(jobs: int | None) -> None:
    """Start a batch's first workers now, forked from this process, so their imports run beside
    this process's own (``fork_server``); where they cannot be forked, start the fork server.
    Nothing when the batch will run in this process (``jobs`` 1, or None on one core)."""
    context = fork_context(jobs)
    if context is None:
        start_worker_server(jobs)
        return
    _started.extend(_Worker(context) for _ in range(jobs or default_jobs()))


def end_started_workers() -> None:
    """End the workers started ahead of a batch that turned out to need none (one workbook)."""
    started = list(_started)
    _started.clear()
    _close(started)


def _pickled(task: Task) -> bytes | VerificationResult:
    """The task as a worker receives it, or the row of a task that cannot be sent."""
    try:
        return bytes(ForkingPickler.dumps(task))
    except Exception as exc:  # as the executor did: that row only
        return unreadable_result(task.item, internal_error_reason(exc, task.options.lang))


def _alone(context: BaseContext, task: Task) -> VerificationResult:
    """``task`` in a worker of its own: a result, or the row saying its worker died."""
    data = _pickled(task)
    if isinstance(data, VerificationResult):
        return data
    worker = _Worker(context)
    try:
        worker.send(0, task, data)
        while True:
            ready = wait([worker.connection, worker.process.sentinel])
            if worker.connection in ready:
                try:
                    return _answered(task, worker.connection.recv())
                except (EOFError, OSError):
                    return _worker_died(task.item, task.options.lang)
            if worker.process.sentinel in ready:
                return _worker_died(task.item, task.options.lang)
    finally:
        _close([worker])


def _close(workers: list[_Worker]) -> None:
    """Retire ``workers`` and wait for them to end, reading (and dropping) what they still send,
    so none waits forever to send a large result."""
    for worker in workers:
        worker.retire()
    left = list(workers)
    while left:
        ready = set(wait([w.connection for w in left] + [w.process.sentinel for w in left]))
        for worker in [w for w in left if w.connection in ready or w.process.sentinel in ready]:
            try:
                if worker.process.sentinel not in ready:
                    worker.connection.recv_bytes()
                    continue
            except (EOFError, OSError):
                pass  # its end of the pipe is closed: it is ending
            worker.end()
            left.remove(worker)


class _Pool:
    """Worker processes fed through their own pipes. A worker that dies takes only itself down:
    the workbooks it had are verified again, each in a worker of its own, so only the one that
    kills a worker gets an unreadable row. Every ``WORKBOOKS_PER_WORKER`` workbooks a worker is
    retired and a fresh one started, so the workers' memory stays flat."""

    def __init__(self, jobs: int) -> None:
        self.context = worker_context()
        # The workers started ahead (as many as wanted, the rest ended), then new ones.
        self.workers = _started[:jobs]
        del _started[:jobs]
        end_started_workers()
        self.workers += [_Worker(self.context) for _ in range(jobs - len(self.workers))]
        self.retired: list[_Worker] = []

    def dispatch(
        self, waiting: deque[tuple[int, Task]]
    ) -> list[tuple[int, Task, VerificationResult]]:
        """Send waiting tasks, oldest first, to the least busy workers with room; the rows of
        tasks that cannot be sent."""
        unsent: list[tuple[int, Task, VerificationResult]] = []
        while waiting:
            worker = min(self.workers, key=lambda w: len(w.sent))
            if len(worker.sent) >= _SENT_PER_WORKER:
                break
            index, task = waiting.popleft()
            data = _pickled(task)
            if isinstance(data, VerificationResult):
                unsent.append((index, task, data))
                continue
            worker.send(index, task, data)
            if worker.given == max(WORKBOOKS_PER_WORKER - _SERVER_AHEAD, 1):
                # Its successor comes from the fork server (``fork_server``): started now, its
                # imports are done by then, and the batch does not wait for them.
                start_worker_server(len(self.workers))
            if worker.given >= WORKBOOKS_PER_WORKER:
                # It answers what it has, then ends; a fresh one (a fork of the small fork
                # server) takes its place now.
                worker.retire()
                self.workers.remove(worker)
                self.workers.append(_Worker(self.context))
                self.retired.append(worker)
        return unsent

    def busy(self) -> bool:
        return any(w.sent for w in (*self.workers, *self.retired))

    def collect(self) -> list[tuple[int, Task, VerificationResult]]:
        """Wait for at least one answer; every (index, task, result) come back."""
        every = [*self.workers, *self.retired]
        waited = [w.connection for w in every if w.sent]
        waited += [w.process.sentinel for w in every]
        ready = set(wait(waited))
        answers: list[tuple[int, Task, VerificationResult]] = []
        for worker in every:
            ended = worker.process.sentinel in ready
            # One answer per worker and wait: a second one ready makes the next wait return at
            # once (asking with poll() would cost a wait of its own each time).
            if worker.connection in ready and not ended and not self._received(worker, answers):
                ended = True
            if ended:
                # Every answer it sent before it ended counts; then the rest is lost with it.
                while worker.sent and worker.connection.poll() and self._received(worker, answers):
                    pass
                self._lost(worker, answers)
        return answers

    @staticmethod
    def _received(worker: _Worker, answers: list[tuple[int, Task, VerificationResult]]) -> bool:
        """Read the answer to the oldest task ``worker`` has; False when its pipe is closed."""
        try:
            answer = worker.connection.recv()
        except (EOFError, OSError):
            return False
        index, task = worker.sent.popleft()
        answers.append((index, task, _answered(task, answer)))
        return True

    def _lost(self, worker: _Worker, answers: list[tuple[int, Task, VerificationResult]]) -> None:
        """A worker has ended: what it still had is verified again, each task alone."""
        worker.end()
        for index, task in worker.sent:
            answers.append((index, task, _alone(self.context, task)))
        worker.sent.clear()
        if worker in self.retired:
            self.retired.remove(worker)
        else:
            self.workers.remove(worker)
            self.workers.append(_Worker(self.context))

    def close(self) -> None:
        """Every worker answers what it has been sent (answers dropped) and ends."""
        _close([*self.workers, *self.retired])


def in_parallel(
    tasks: Iterator[Task], jobs: int
) -> Generator[tuple[Task, VerificationResult], None, None]:
    """(task, result) in task order, ``jobs`` processes at a time, a bounded window in flight."""
    pool = _Pool(jobs)
    window = jobs * _WINDOW_PER_JOB
    waiting: deque[tuple[int, Task]] = deque()
    finished: dict[int, tuple[Task, VerificationResult]] = {}
    taken = handed_on = 0
    exhausted = False
    try:
        while True:
            while not exhausted and taken - handed_on < window:
                task = next(tasks, None)
                if task is None:
                    exhausted = True
                    break
                waiting.append((taken, task))
                taken += 1
            for index, task, result in pool.dispatch(waiting):
                finished[index] = (task, result)
            if not pool.busy() and not finished:
                return
            if pool.busy():
                for index, task, result in pool.collect():
                    finished[index] = (task, result)
            while handed_on in finished:
                yield finished.pop(handed_on)
                handed_on += 1
    finally:
        pool.close()
