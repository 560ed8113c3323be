"""A plain (non-editable) install ships the built-in template specs inside the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_every_builtin_spec(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    (wheel,) = tmp_path.glob("xlcheck-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for spec in (ROOT / "workbook_templates").glob("*.yaml"):
        assert f"xlcheck/workbook_templates/{spec.name}" in names
    assert "xlcheck/py.typed" in names
