"""xlcheck: fill-in templates and verification for 部门整体支出绩效自评 workbooks."""

__version__ = "0.1.0"

from xlcheck.api import (  # noqa: E402 - the version must exist before submodules import it
    FieldInfo,
    VerifyOptions,
    annotated_path,
    list_fields,
    load_prefill,
    verify_paths,
    verify_workbook,
    write_template,
)
from xlcheck.errors import (  # noqa: E402
    OutputExistsError,
    SpecError,
    TemplateMismatchError,
    WorkbookError,
    XlcheckError,
)
from xlcheck.findings import CellRef, Finding, Severity, TemplateIdentity, VerificationResult  # noqa: E402
from xlcheck.spec import Spec, load_spec  # noqa: E402

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
