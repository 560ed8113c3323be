"""xlcheck: fill-in templates and verification for 部门整体支出绩效自评 workbooks."""

import os as _os

__version__ = "0.1.0"

# python-docx (the 自评报告) depends on lxml, and openpyxl parses with lxml whenever it is
# installed: defusedxml then no longer guards its parsing, and malformed XML raises lxml's errors,
# which the reader does not expect (tests/test_fuzz.py found both). Keep openpyxl on the standard
# library parser with defusedxml, as without lxml; a user's own OPENPYXL_LXML setting wins. Only
# effective before openpyxl is first imported.
_os.environ.setdefault("OPENPYXL_LXML", "False")

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
from xlcheck.spec import Spec, load_spec

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
