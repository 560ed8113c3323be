"""Many workbooks verified, in parallel processes (``worker_pool``), results streamed in input
order, none fatal.

The parent holds no list of results: it keeps a bounded window of workbooks in flight and hands
each result on as soon as every earlier one has been handed on, so memory stays flat however
many workbooks a batch has. Of each result it keeps only the few values the links across
workbooks read (``cross_workbook``), whose findings come after the last result.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from pathlib import Path

from xlcheck.errors import XlcheckError
from xlcheck.exchange.batch_task import Task, verify_one
from xlcheck.exchange.copy_plan import CopyPlan
from xlcheck.exchange.fork_server import default_jobs
from xlcheck.exchange.sources import WorkbookInput
from xlcheck.findings import VerificationResult
from xlcheck.verification import VerifyOptions

#: Called with (workbooks done, workbooks in all) after each workbook.
ProgressCallback = Callable[[int, int], None]


def plan_annotated_paths(
    inputs: Sequence[WorkbookInput], *, out_dir: Path | None, output: Path | None = None
) -> list[Path | None]:
    """Where each workbook's annotated copy goes (without reserving anything); no two share a
    name and none is an input."""
    plan = CopyPlan(inputs, out_dir=out_dir, output=output, reserve=False)
    return [plan.target(index) for index in range(len(inputs))]


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
        keep_all_values: keep ``result.all_values`` (every field's value, for ``collect``);
            else keep only the values the links across workbooks read (see ``cross_workbook``).

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
    patterns: dict[str, str] | None = None
    if not keep_all_values:
        patterns = {}  # one workbook has nothing to link with
    if not keep_all_values and len(inputs) > 1:
        from xlcheck.cross_workbook import run_link_patterns

        patterns = run_link_patterns(options.template)
    return _verified(inputs, plan, options, jobs, progress, patterns)


def _verified(
    inputs: Sequence[WorkbookInput],
    plan: CopyPlan,
    options: VerifyOptions,
    jobs: int,
    progress: ProgressCallback | None,
    patterns: Mapping[str, str] | None,
) -> Generator[VerificationResult, None, None]:
    total = len(inputs)

    def tasks() -> Iterator[Task]:
        for index, item in enumerate(inputs):
            try:
                target = plan.claim(index, item) if options.annotate else None
            except XlcheckError as exc:
                yield Task(dataclasses.replace(item, problem=exc), options, patterns)
                continue
            if target is None:
                yield Task(item, options, patterns)
                continue
            # A reserved name is this run's own empty file: the copy replaces it.
            force = True if plan.reserves(item) else options.force
            task_options = dataclasses.replace(options, output=target, force=force)
            yield Task(item, task_options, patterns)

    if jobs == 1:
        worker_pool = sys.modules.get("xlcheck.exchange.worker_pool")
        if worker_pool is not None:  # workers started ahead for a batch of one workbook
            worker_pool.end_started_workers()
        results: Generator[tuple[Task, VerificationResult], None, None] = (
            (task, verify_one(task)) for task in tasks()
        )
    else:
        from xlcheck.exchange.worker_pool import in_parallel  # multiprocessing: batches only

        results = in_parallel(tasks(), jobs)
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
    """Every result of ``iter_verify`` as a list (for a library user with a few workbooks), with
    the findings across workbooks added.

    Raises:
        OutputExistsError, OutputRefusedError: see ``iter_verify``.
    """
    from xlcheck.cross_workbook import add_cross_workbook_findings

    results = iter_verify(inputs, options=options, jobs=jobs, out_dir=out_dir, progress=progress)
    return add_cross_workbook_findings(list(results), template=options.template)
