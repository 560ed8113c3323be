"""The last steps every example build shares: the filled workbook opened, recalculated and saved
by LibreOffice, as a workbook a unit sends back is, then verified with its annotated copy."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from xlcheck import VerifyOptions, verify_workbook

ROOT = Path(__file__).resolve().parent.parent


def save_as_returned(filled: Path, workbook: Path) -> None:
    """``filled`` recalculated and saved by LibreOffice at ``workbook`` (copied as it is, with a
    note, where LibreOffice is not installed)."""
    sys.path.insert(0, str(ROOT))
    from tests.libreoffice import recalculate, soffice

    if soffice() is not None:
        recalculate(filled, workbook)
    else:
        print(
            "LibreOffice not found: the example is saved without recalculated values",
            file=sys.stderr,
        )
        shutil.copyfile(filled, workbook)


def verify_example(workbook: Path) -> None:
    """Verify the example and write its annotated copy beside it; print what it found."""
    result = verify_workbook(workbook, options=VerifyOptions(force=True))
    print(
        f"{workbook.name}: {result.errors} errors, {result.warnings} warnings -> {result.annotated}"
    )
