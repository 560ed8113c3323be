"""Where a batch's worker processes come from, and how many workers a batch runs.

The command line forks a batch's first workers from itself as soon as it knows it will verify
more than one workbook (``fork_context``), while it is still small and has no other thread. Each
worker then imports what it needs on a core of its own while the command line imports the rest
of what a batch needs, expands its inputs, plans the copies and begins the summary.
A fork server would cost two more interpreters at start-up (the server and multiprocessing's
resource tracker, about 0.1 s of CPU on cores the workers need) and the first workers would wait
for its imports.

Every later worker (one renewed after ``WORKBOOKS_PER_WORKER`` workbooks, one verifying alone
what a dead worker had) comes from a fork server that has imported the libraries and the
verification modules and nothing else: forked from the command line by then, a worker would
carry the parent's grown memory, and the parent's later writes would leave those pages the
worker's own. The server is started a hundred workbooks before the first renewal, so its imports
are done when it is needed; a batch of fewer than about 1,800 workbooks never starts it.

Light to import: ``multiprocessing`` is imported when workers are wanted, not before (a single
workbook's ``verify`` never imports it).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

#: What a worker imports before its first workbook: the fork server imports it once for the
#: workers it forks; a worker forked from the command line imports it itself (``worker_pool``).
#: Without the rules, the recomputation and the relocation here, each worker's first workbook
#: would import them itself (about 30 ms).
#:
#: Nothing more, though a worker's first workbook costs twice a later one (137 M instructions
#: against 64 M, callgrind): a batch's first workers wait for this server, ready 40 to 110 ms
#: after the parent asks for them, so work moved here delays every worker by as much as it saves
#: each. Loading and laying out both built-in specs here took 90 M instructions and saved a
#: worker 44 M (it needs one spec). Nor can the main script be preloaded, which each worker runs
#: again (the ``xlcheck`` script imports the command line, 54 M instructions): Python 3.11's fork
#: server is never given its path, so ``"__main__"`` in this list does nothing.
PRELOAD = (
    "xlcheck.exchange.worker_pool",
    "xlcheck.reader",
    "xlcheck.annotator",
    "xlcheck.relocation",
    "xlcheck.recompute",
    "xlcheck.rules",
)


def default_jobs() -> int:
    """Worker processes when --jobs is not given: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


def worker_context() -> BaseContext:
    """The fork server's context, preloading ``PRELOAD``; on Windows, spawn (which inherits
    nothing anyway)."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context()
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return context


def fork_context(jobs: int | None) -> BaseContext | None:
    """The context forking a batch's first workers from this process, or None: the batch runs in
    this process (``jobs`` 1, or None on one core), or this is not Linux, or another thread runs
    (a fork would copy it half-way through whatever it was doing)."""
    if (default_jobs() if jobs is None else jobs) < 2 or not sys.platform.startswith("linux"):
        return None
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return None
    import multiprocessing

    return multiprocessing.get_context("fork")


def start_worker_server(jobs: int | None) -> None:
    """Start the fork server now, without waiting for its imports, so the first workers are
    ready when the first workbooks are. Nothing when the batch will run in this process
    (``jobs`` 1, or None on one core) or where there is no fork server."""
    if (default_jobs() if jobs is None else jobs) < 2:
        return
    if worker_context().get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    # No socket or process now (a full temp folder?): the pool tries again when the first
    # workbook is ready, and fails there as it always has.
    with contextlib.suppress(OSError):
        forkserver.ensure_running()
