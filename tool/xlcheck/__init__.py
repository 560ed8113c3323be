"""xlcheck: fill-in templates, verification and the 自评报告 of performance self-evaluation
workbooks (部门整体支出 and 项目支出绩效自评表), each described by a spec.

The public names below are imported on first use (PEP 562), so ``import xlcheck.cli`` (every
command, ``--help`` included) does not pay for the API and what it imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name → the module that defines it.
_HOMES = {
    "FieldInfo": "xlcheck.api",
    "VerifyOptions": "xlcheck.api",
    "annotated_path": "xlcheck.api",
    "list_fields": "xlcheck.api",
    "load_prefill": "xlcheck.api",
    "verify_paths": "xlcheck.api",
    "verify_workbook": "xlcheck.api",
    "write_template": "xlcheck.api",
    "OutputExistsError": "xlcheck.errors",
    "SpecError": "xlcheck.errors",
    "TemplateMismatchError": "xlcheck.errors",
    "WorkbookError": "xlcheck.errors",
    "XlcheckError": "xlcheck.errors",
    "CellRef": "xlcheck.findings",
    "Finding": "xlcheck.findings",
    "Severity": "xlcheck.findings",
    "TemplateIdentity": "xlcheck.findings",
    "VerificationResult": "xlcheck.findings",
    "Spec": "xlcheck.spec",
    "load_spec": "xlcheck.spec_loading",
    "__version__": "xlcheck.version",
}

__all__ = [
    "CellRef",
    "FieldInfo",
    "Finding",
    "OutputExistsError",
    "Severity",
    "Spec",
    "SpecError",
    "TemplateIdentity",
    "TemplateMismatchError",
    "VerificationResult",
    "VerifyOptions",
    "WorkbookError",
    "XlcheckError",
    "__version__",
    "annotated_path",
    "list_fields",
    "load_prefill",
    "load_spec",
    "verify_paths",
    "verify_workbook",
    "write_template",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'xlcheck' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # imported once; later lookups find it directly
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


if TYPE_CHECKING:
    from xlcheck.api import (
        FieldInfo,
        VerifyOptions,
        annotated_path,
        list_fields,
        load_prefill,
        verify_paths,
        verify_workbook,
        write_template,
    )
    from xlcheck.errors import (
        OutputExistsError,
        SpecError,
        TemplateMismatchError,
        WorkbookError,
        XlcheckError,
    )
    from xlcheck.findings import CellRef, Finding, Severity, TemplateIdentity, VerificationResult
    from xlcheck.spec import Spec
    from xlcheck.spec_loading import load_spec
    from xlcheck.version import __version__
