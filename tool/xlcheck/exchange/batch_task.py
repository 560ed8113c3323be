"""One workbook's work in a batch: the ``Task`` a worker receives and ``verify_one``, which turns
whatever stops the workbook into its own ``unreadable`` row."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import field

from xlcheck.errors import XlcheckError
from xlcheck.exchange.sources import WorkbookInput
from xlcheck.findings import VerificationResult
from xlcheck.records import record
from xlcheck.verification import VerifyOptions, verify_workbook


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


@record
class Task:
    """One workbook for a worker: the input, its options (copy path set) and what to send back.

    Attributes:
        link_patterns: None sends every value back (``collect``); else, per template id, the
            pattern of the keys the links across workbooks read: only those values come back.
    """

    item: WorkbookInput
    options: VerifyOptions
    link_patterns: Mapping[str, str] | None = field(default=None)


def verify_one(task: Task) -> VerificationResult:
    """Verify one workbook (in a worker process); whatever stops it is an ``unreadable`` result."""
    item, options = task.item, task.options
    if item.problem is not None:
        return unreadable_result(item, item.problem.reason_for(item.path, options.lang))
    try:
        result = verify_workbook(item.path, options=options, linked_only=task.link_patterns)
    except XlcheckError as exc:
        return unreadable_result(item, exc.reason_for(item.path, options.lang))
    except Exception as exc:
        # A batch of hundreds must not die on one odd file: an unexpected failure is an xlcheck
        # bug, reported as such on that workbook's row so it can be sent to the maintainers.
        return unreadable_result(item, internal_error_reason(exc, options.lang))
    return dataclasses.replace(result, mail=item.mail) if item.mail is not None else result
