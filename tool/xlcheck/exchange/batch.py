"""Many workbooks verified in parallel processes; results in input order, no failure fatal."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from xlcheck.errors import OutputExistsError, XlcheckError
from xlcheck.exchange.file_names import NameAllocator
from xlcheck.exchange.sources import CHECKED_SUFFIX, WorkbookInput
from xlcheck.findings import VerificationResult
from xlcheck.verification import VerifyOptions, verify_workbook

if TYPE_CHECKING:
    from concurrent.futures import Future

#: Called with (workbooks done, workbooks in all) after each workbook.
ProgressCallback = Callable[[int, int], None]


def default_jobs() -> int:
    """Worker processes when --jobs is not given: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


def plan_annotated_paths(
    inputs: Sequence[WorkbookInput], *, out_dir: Path | None, output: Path | None = None
) -> list[Path | None]:
    """Where each workbook's annotated copy goes; no two share a name.

    ``output`` (``-o``) names the copy of a single workbook. Otherwise copies go into ``out_dir``,
    or beside each workbook, as ``<name>.checked.xlsx``, numbered ``<name>-2.checked.xlsx`` when
    two workbooks (say two attachments called 自评表.xlsx) would share a name.
    """
    if output is not None and len(inputs) == 1:
        return [output]
    names = NameAllocator()
    planned: list[Path | None] = []
    for item in inputs:
        if item.problem is not None:
            planned.append(None)
            continue
        folder = out_dir if out_dir is not None else item.path.parent
        planned.append(names.allocate(folder, item.path.stem, CHECKED_SUFFIX))
    return planned


def _unreadable(item: WorkbookInput, reason: str) -> VerificationResult:
    return VerificationResult(
        path=item.path, template=None, unreadable_reason=reason, mail=item.mail
    )


def verify_one(item: WorkbookInput, options: VerifyOptions) -> VerificationResult:
    """Verify one workbook (in a worker process); whatever stops it is an ``unreadable`` result."""
    if item.problem is not None:
        return _unreadable(item, item.problem.render_line(options.lang))
    try:
        result = verify_workbook(item.path, options=options)
    except XlcheckError as exc:
        return _unreadable(item, exc.render_line(options.lang))
    except Exception as exc:
        # A batch of hundreds must not die on one odd file: an unexpected failure is an xlcheck
        # bug, reported as such on that workbook's row so it can be sent to the maintainers.
        message = f"{type(exc).__name__}: {exc}"
        reason = (
            f"xlcheck internal error ({message}); please report it"
            if options.lang == "en"
            else f"xlcheck 内部错误（{message}），请报告此问题"
        )
        return _unreadable(item, reason)
    return dataclasses.replace(result, mail=item.mail) if item.mail is not None else result


def _warm_up() -> None:
    """Import the heavy libraries once per worker process, not once per workbook."""
    import openpyxl  # noqa: F401
    import python_calamine  # noqa: F401

    import xlcheck.annotator
    import xlcheck.reader  # noqa: F401


def verify_inputs(
    inputs: Sequence[WorkbookInput],
    *,
    options: VerifyOptions,
    jobs: int | None = None,
    out_dir: Path | None = None,
    progress: ProgressCallback | None = None,
) -> list[VerificationResult]:
    """Verify every input, ``jobs`` at a time; results come back in input order.

    Args:
        options: the ``VerifyOptions`` for every workbook (its ``output`` only for a single input).
        jobs: worker processes; None uses every core, 1 verifies in this process.
        out_dir: folder for the annotated copies; None puts each beside its workbook.

    Raises:
        OutputExistsError: an annotated copy exists and ``options.force`` is false (checked
            before any work starts).
    """
    planned = plan_annotated_paths(inputs, out_dir=out_dir, output=options.output)
    if options.annotate and not options.force:
        for out in planned:
            if out is not None and out.exists():
                raise OutputExistsError(out)
    tasks = [
        (item, dataclasses.replace(options, output=out) if out is not None else options)
        for item, out in zip(inputs, planned, strict=True)
    ]
    jobs = default_jobs() if jobs is None else max(1, jobs)
    total = len(tasks)
    results: list[VerificationResult | None] = [None] * total
    if jobs == 1 or total <= 1:
        for index, (item, task_options) in enumerate(tasks):
            results[index] = verify_one(item, task_options)
            if progress is not None:
                progress(index + 1, total)
    else:
        # Only a batch pays for multiprocessing's import (issue #9: lean start-up).
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=min(jobs, total), initializer=_warm_up) as pool:
            futures: dict[Future[VerificationResult], int] = {
                pool.submit(verify_one, item, task_options): index
                for index, (item, task_options) in enumerate(tasks)
            }
            for done, future in enumerate(as_completed(futures), start=1):
                results[futures[future]] = future.result()
                if progress is not None:
                    progress(done, total)
    from xlcheck.cross_workbook import add_cross_workbook_findings

    return add_cross_workbook_findings(
        [r for r in results if r is not None], template=options.template
    )
