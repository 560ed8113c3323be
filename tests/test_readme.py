"""The README's commands run as written, and say what they print (issue: first contact)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from xlcheck.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(heading: str) -> str:
    return README.split(heading + "\n", 1)[1].split("\n## ", 1)[0]


def _run_in_root(arguments: list[str], out: Path) -> tuple[int, str]:
    """Run ``xlcheck ARGUMENTS`` from the repository root, the README's ``out/`` moved to ``out``."""
    moved = [a.replace("out/", f"{out}/") if a.startswith("out/") else a for a in arguments]
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(cli, moved)
    finally:
        os.chdir(cwd)
    return result.exit_code, result.output


def test_the_quick_start_prints_what_the_readme_says(tmp_path: Path) -> None:
    quick_start = _section("## 快速开始 / Quick start")
    command = next(line for line in quick_start.splitlines() if "xlcheck verify" in line)
    arguments = shlex.split(command.split("xlcheck ", 1)[1])
    assert any(a.startswith("out/") for a in arguments), (
        "the copy must not overwrite a tracked file"
    )

    code, output = _run_in_root(arguments, tmp_path)

    sentence = quick_start.split("它报告", 1)[1].split("各项含义", 1)[0]
    counts = re.search(r"(\d+) 个错误、(\d+) 个警告", sentence)
    assert counts is not None
    assert f"共 {counts[1]} 个错误、{counts[2]} 个警告。" in output
    assert f"退出码是 {code}" in sentence
    # Each code the sentence names, with the cell it names last before it.
    said: list[tuple[str, str]] = []
    cell = ""
    for match in re.finditer(r"([^\s：；（，、]+![A-Z]+\d+)|`([a-z]+(?:-[a-z]+)+)`", sentence):
        if match[1]:
            cell = match[1]
        else:
            said.append((cell, match[2]))
    lines = [line for line in output.splitlines() if line.rstrip().endswith("]")]
    assert len(said) == len(lines) == int(counts[1]) + int(counts[2])
    for cell, finding_code in said:
        assert any(f" {cell} " in line and f"[{finding_code}]" in line for line in lines), cell
    assert (tmp_path / "示例.checked.xlsx").stat().st_size > 0


def test_the_report_check_example_prints_what_the_readme_shows(tmp_path: Path) -> None:
    block = _section("## 自评报告：起草与核对 / The 自评报告: draft and check").split(
        "```text\n$ "
    )[1]
    command, shown = block.split("```", 1)[0].split("\n", 1)
    arguments = shlex.split(command.split("xlcheck ", 1)[1])

    code, output = _run_in_root(arguments, tmp_path)

    assert code == 1
    assert output.replace(f"{tmp_path}/", "out/") == shown


def test_the_library_snippet_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snippet = _section("## 作为 Python 库 / Library use").split("```python\n")[1].split("```")[0]
    shutil.copy(ROOT / "examples" / "zhanjiang-xinfang-2023.xlsx", tmp_path / "填好的.xlsx")
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(snippet, "README.md", "exec"), {})  # the README's own code, as written

    lines = printed.getvalue().splitlines()
    assert lines[0].startswith("errors 3 1 ")
    assert (tmp_path / "模板.xlsx").exists() and (tmp_path / "填好的.checked.xlsx").exists()
    assert any("total-above-maximum" in line for line in lines[1:])
