"""Edits made by real LibreOffice: a headless soffice driven through UNO by the system python3.

Round-trip tests need what LibreOffice itself writes after a unit types into cells, inserts or
deletes rows, renames a sheet and saves: not the same edits simulated with openpyxl. The UNO
bridge (Debian's python3-uno) exists only for the SYSTEM ``/usr/bin/python3``, so the edits run
in a subprocess (``tests/uno_worker.py``) that starts its own soffice with a private profile.

Use::

    from tests import libreoffice_uno as lo

    lo.edit_workbook(
        source,
        target,  # .xlsx, .ods or .xls: the format LibreOffice stores
        [
            lo.set_value("数据表", "B5", 100),
            lo.set_string("基本信息", "B3", "湛江市信访局"),
            lo.unprotect_sheet("项目支出"),
            lo.delete_rows("项目支出", 5, 1),
            lo.rename_sheet("数据表", "2023年数据"),
        ],
    )

Several workbooks in ONE soffice start (about two seconds each start): ``edit_workbooks``.
Operations are applied in order; row numbers are 1-based as Excel shows them. ``available()``
says whether LibreOffice and python3-uno are installed (tests skip, or fail in CI, without).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.libreoffice import make_profile, soffice

#: The interpreter that has python3-uno (Debian's package installs it for the system python).
SYSTEM_PYTHON = Path("/usr/bin/python3")
WORKER = Path(__file__).resolve().parent / "uno_worker.py"
#: What LibreOffice can store, by the target's suffix (it reads .xlsb but cannot write it).
STORABLE_SUFFIXES = (".xlsx", ".xls", ".ods")

#: One edit, as the worker reads it from JSON.
Operation = dict[str, Any]


def set_string(sheet: str, cell: str, text: str) -> Operation:
    """Type ``text`` into ``sheet!cell`` (``XCell.setString``: text, never a formula)."""
    return {"op": "set_string", "sheet": sheet, "cell": cell, "value": text}


def set_value(sheet: str, cell: str, number: float) -> Operation:
    """Enter a number into ``sheet!cell`` (``XCell.setValue``)."""
    return {"op": "set_value", "sheet": sheet, "cell": cell, "value": number}


def set_formula(sheet: str, cell: str, formula: str) -> Operation:
    """Enter a formula such as ``=SUM(B1:B3)`` into ``sheet!cell`` (``XCell.setFormula``)."""
    return {"op": "set_formula", "sheet": sheet, "cell": cell, "value": formula}


def insert_rows(sheet: str, row_number: int, count: int = 1) -> Operation:
    """Insert ``count`` empty rows before ``row_number`` (``getRows().insertByIndex``)."""
    return {"op": "insert_rows", "sheet": sheet, "row_number": row_number, "count": count}


def delete_rows(sheet: str, row_number: int, count: int = 1) -> Operation:
    """Delete ``count`` rows from ``row_number`` down (``getRows().removeByIndex``)."""
    return {"op": "delete_rows", "sheet": sheet, "row_number": row_number, "count": count}


def rename_sheet(sheet: str, name: str) -> Operation:
    """Rename a sheet (``XNamed.setName``)."""
    return {"op": "rename_sheet", "sheet": sheet, "name": name}


def unprotect_sheet(sheet: str, password: str = "") -> Operation:
    """Lift a sheet's protection, as a unit does before deleting or inserting rows in it
    (xlcheck's templates protect every sheet without a password; LibreOffice refuses row edits
    on a protected sheet)."""
    return {"op": "unprotect_sheet", "sheet": sheet, "password": password}


@dataclass(frozen=True)
class Edit:
    """One workbook to open, edit and store under ``target`` (format from its suffix)."""

    source: Path
    target: Path
    operations: Sequence[Operation] = ()


def available() -> bool:
    """Whether LibreOffice and the system python3 with python3-uno are both installed."""
    if soffice() is None or not SYSTEM_PYTHON.is_file():
        return False
    probe = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import uno"], capture_output=True, check=False
    )
    return probe.returncode == 0


def edit_workbooks(edits: Sequence[Edit], *, timeout: float = 300) -> list[Path]:
    """Apply each edit in one LibreOffice start; returns the targets in order.

    Raises:
        ValueError: a target LibreOffice cannot store (.xlsb, .csv...).
        RuntimeError: LibreOffice or python3-uno is missing, or the worker failed (its
            output is in the message).
    """
    executable = soffice()
    if executable is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    for edit in edits:
        if edit.target.suffix.lower() not in STORABLE_SUFFIXES:
            raise ValueError(f"LibreOffice cannot store {edit.target.suffix}: {edit.target}")
    if not edits:
        return []
    with tempfile.TemporaryDirectory(prefix="xlcheck-uno-") as scratch:
        scratch_path = Path(scratch)
        profile = make_profile(scratch_path / "profile")
        jobs: list[dict[str, Any]] = []
        for number, edit in enumerate(edits):
            # Plain ASCII names inside the scratch folder: LibreOffice's URLs stay simple.
            staged = scratch_path / f"in{number}{edit.source.suffix.lower()}"
            shutil.copyfile(edit.source, staged)
            stored = scratch_path / f"out{number}{edit.target.suffix.lower()}"
            jobs.append(
                {"source": str(staged), "target": str(stored), "operations": list(edit.operations)}
            )
        request = {
            "soffice": executable,
            "profile": profile.resolve().as_uri(),
            "pipe": f"xlcheck-{uuid.uuid4().hex}",
            "pid_file": str(scratch_path / "soffice.pid"),
            "jobs": jobs,
        }
        jobs_file = scratch_path / "jobs.json"
        jobs_file.write_text(json.dumps(request, ensure_ascii=False), encoding="utf-8")
        try:
            completed = subprocess.run(
                [str(SYSTEM_PYTHON), str(WORKER), str(jobs_file)],
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**os.environ, "HOME": str(scratch_path), "PYTHONPATH": ""},
                check=False,
            )
        except subprocess.TimeoutExpired:
            _kill_soffice(scratch_path / "soffice.pid")
            raise
        if completed.returncode != 0:
            raise RuntimeError(
                f"the UNO worker failed ({completed.returncode}): {completed.stderr[-3000:]}"
            )
        for edit, job in zip(edits, jobs, strict=True):
            edit.target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(job["target"], edit.target)
    return [edit.target for edit in edits]


def _kill_soffice(pid_file: Path) -> None:
    """Stop the soffice the worker started (its own process group), when the worker timed out."""
    if pid_file.is_file():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(pid_file.read_text(encoding="ascii")), signal.SIGKILL)


def edit_workbook(
    source: Path, target: Path, operations: Sequence[Operation] = (), *, timeout: float = 300
) -> Path:
    """``edit_workbooks`` for one workbook."""
    return edit_workbooks([Edit(source, target, operations)], timeout=timeout)[0]
