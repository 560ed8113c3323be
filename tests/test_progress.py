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


def _on_terminal(
    command: list[str], *, stdout_too: bool
) -> tuple[subprocess.CompletedProcess[bytes], str]:
    """Run ``command`` with stderr (and, with ``stdout_too``, stdout) on a pseudo-terminal: the
    finished process (stdout captured when not on the terminal) and what the terminal received."""
    controller, terminal = pty.openpty()
    try:
        completed = subprocess.run(
            command,
            stdout=terminal if stdout_too else subprocess.PIPE,
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
    return completed, drawn.decode("utf-8", "replace")


@pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a pseudo-terminal (POSIX)")
def test_progress_bar_is_drawn_when_stderr_is_a_terminal(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    first = make_workbook(name="a.xlsx")
    shutil.copyfile(first, tmp_path / "b.xlsx")
    completed, text = _on_terminal(
        [*_xlcheck(), "verify", str(tmp_path), "--no-annotate", "-j", "1"], stdout_too=False
    )
    assert completed.returncode == 0, completed.stdout
    assert "校验 [" in text and "2/2" in text
    assert "校验 [" not in completed.stdout.decode("utf-8")


def _screen(drawn: str) -> list[str]:
    """The lines a terminal shows after ``drawn``: "\r" returns to the line's start and later text
    overwrites it, "ESC[K" erases to the line's end."""
    lines, column, index = [""], 0, 0
    drawn = drawn.replace("\r\n", "\n")  # the terminal's own line ends
    while index < len(drawn):
        if drawn.startswith("\x1b[K", index):
            lines[-1] = lines[-1][:column]
            index += 3
            continue
        character = drawn[index]
        if character == "\r":
            column = 0
        elif character == "\n":
            lines.append("")
            column = 0
        else:
            line = lines[-1]
            lines[-1] = line[:column] + character + line[column + 1 :]
            column += 1
        index += 1
    return lines


@pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a pseudo-terminal (POSIX)")
def test_the_bar_and_stderr_never_overwrite_or_run_into_the_report(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    """Both streams on one terminal: every line of the report stays on screen whole (the bar was
    once drawn over each block's last line, the 批注副本 line, and an unreadable file's stderr
    line ran into its report line)."""
    folder = tmp_path / "in"
    folder.mkdir()
    first = make_workbook(name="a.xlsx")
    shutil.copyfile(first, folder / "a.xlsx")
    shutil.copyfile(first, folder / "b.xlsx")
    (folder / "c.xlsx").write_text("单位,金额\n", encoding="utf-8")
    command = [*_xlcheck(), "verify", str(folder), "-j", "1", "--out-dir"]
    piped = subprocess.run(
        [*command, str(tmp_path / "piped")], capture_output=True, check=False, timeout=120
    )
    report = piped.stdout.decode("utf-8").replace("piped", "shown").splitlines()
    _, drawn = _on_terminal([*command, str(tmp_path / "shown")], stdout_too=True)
    screen = _screen(drawn)

    assert any("批注副本" in line for line in report)
    for line in filter(None, report):
        assert line in screen, (line, screen)
    unreadable = next(line for line in report if "c.xlsx" in line)
    assert unreadable in screen


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
