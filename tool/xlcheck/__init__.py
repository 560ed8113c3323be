"""xlcheck: fill-in templates and verification for 部门整体支出绩效自评 workbooks."""

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
