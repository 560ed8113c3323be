"""The progress bar: drawn on a real terminal, absent from pipes."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FillWorkbook


def _xlcheck() -> list[str]:
    return [sys.executable, "-m", "xlcheck"]


@pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a pseudo-terminal (POSIX)")
def test_progress_bar_is_drawn_when_stderr_is_a_terminal(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    first = make_workbook(name="a.xlsx")
    shutil.copyfile(first, tmp_path / "b.xlsx")
    controller, terminal = pty.openpty()
    try:
        completed = subprocess.run(
            [*_xlcheck(), "verify", str(tmp_path), "--no-annotate", "-j", "1"],
            stdout=subprocess.PIPE,
            stderr=terminal,
            check=False,
            timeout=120,
        )
        os.close(terminal)
        terminal = -1
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal side is closed: everything was read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(controller)
        if terminal != -1:
            os.close(terminal)
    assert completed.returncode == 0, completed.stdout
    text = drawn.decode("utf-8", "replace")
    assert "校验 [" in text and "2/2" in text
    assert "校验 [" not in completed.stdout.decode("utf-8")


def test_no_progress_bar_in_a_pipe(make_workbook: FillWorkbook, tmp_path: Path) -> None:
    first = make_workbook(name="a.xlsx")
    shutil.copyfile(first, tmp_path / "b.xlsx")
    completed = subprocess.run(
        [*_xlcheck(), "verify", str(tmp_path), "--no-annotate", "-j", "1", "--format", "json"],
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0
    assert completed.stderr == b""
