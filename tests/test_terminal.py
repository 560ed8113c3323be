"""What reaches the terminal: no raw control characters, any console encoding, the language the
command was given, and a bug as one line with exit 3 (its traceback only when debugging)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import FillWorkbook, seed_values
from xlcheck import api, verification
from xlcheck.cli import cli
from xlcheck.cli_options import ExitCode
from xlcheck.exchange import batch_task


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def _explain(result: Result) -> str:
    return f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def test_control_characters_from_a_file_name_never_reach_the_terminal(
    make_workbook: FillWorkbook,
) -> None:
    path = make_workbook(name="单位\x1b[2J\x9b31m\u202e.xlsx", overrides={"staff_quota": "二十"})

    text = run("verify", str(path), "--no-annotate")
    as_json = run("verify", str(path), "--no-annotate", "--format", "json")

    assert text.exit_code == ExitCode.FINDINGS, _explain(text)
    for stream in (text.stdout, text.stderr, as_json.stdout):
        assert not {"\x1b", "\x9b", "\u202e"} & set(stream)
    assert "\\x1b[2J" in text.stdout
    assert json.loads(as_json.stdout)["results"][0]["path"] == str(path)


@pytest.mark.parametrize("encoding", ["latin-1", "gbk", "cp936", "ascii"])
def test_json_stays_valid_on_a_console_that_cannot_carry_utf8(
    make_workbook: FillWorkbook, encoding: str
) -> None:
    path = make_workbook(seed_values(), name="自评表.xlsx")
    command = [sys.executable, "-m", "xlcheck", "verify", str(path), "--no-annotate"]
    environment = {**os.environ, "PYTHONIOENCODING": encoding}

    utf8 = subprocess.run([*command, "--format", "json"], capture_output=True, check=False)
    narrow = subprocess.run(
        [*command, "--format", "json"], capture_output=True, env=environment, check=False
    )
    text = subprocess.run(command, capture_output=True, env=environment, check=False)

    assert narrow.returncode == utf8.returncode == ExitCode.FINDINGS, narrow.stderr
    assert json.loads(narrow.stdout.decode("ascii")) == json.loads(utf8.stdout.decode("utf-8"))
    assert text.returncode == ExitCode.FINDINGS and b"Traceback" not in text.stderr
    # click writes UTF-8 to a stream that claims ASCII (it takes that for a misconfigured locale).
    shown = text.stdout.decode("utf-8" if encoding == "ascii" else encoding)
    assert "模板" in shown or "\\u6a21\\u677f" in shown  # Chinese, or its escape where it cannot


@pytest.mark.parametrize(
    ("arguments", "english"),
    [
        (["verify", "{wb}", "--summary", "{wb}", "--force", "--lang", "en"], "refusing to write"),
        (["collect", "{wb}", "-o", "x.txt", "--lang", "en"], "cannot tell the output format"),
        (["summary", "merge", "{wb}", "-o", "m.xlsx", "--lang", "en"], "only .json or .csv"),
        (["template", "-o", "{wb}", "--lang", "en"], "already exists"),
        (["fields", "-t", "nonexistent-template", "--lang", "en"], "Invalid template spec"),
    ],
    ids=["verify", "collect", "summary-merge", "template", "fields"],
)
def test_lang_en_given_to_a_command_applies_to_its_errors(
    make_workbook: FillWorkbook, arguments: list[str], english: str
) -> None:
    workbook = make_workbook()

    result = run(*[a.format(wb=workbook) for a in arguments])

    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert english in result.stderr, _explain(result)
    if arguments[0] != "fields":  # SpecError's problem text has no English variant yet
        assert not any(
            "\u4e00" <= ch <= "\u9fff" for ch in result.stderr.replace(str(workbook), "")
        )


def _crash(*_: object, **__: object) -> None:
    raise ZeroDivisionError("a bug planted by the test")


@pytest.mark.parametrize(
    ("flags", "env", "traceback_shown"),
    [([], {}, False), (["--debug"], {}, True), ([], {"XLCHECK_DEBUG": "1"}, True)],
    ids=["plain", "debug-flag", "debug-env"],
)
def test_a_bug_exits_3_with_its_type_and_no_traceback_unless_debugging(
    monkeypatch: pytest.MonkeyPatch, flags: list[str], env: dict[str, str], traceback_shown: bool
) -> None:
    monkeypatch.setattr(api, "list_fields", _crash)

    result = run(*flags, "fields", env=env)

    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert "xlcheck 内部错误" in result.stderr and "ZeroDivisionError" in result.stderr
    assert ("Traceback" in result.stderr) is traceback_shown


def test_a_bug_on_one_workbook_is_its_row_and_the_batch_goes_on(
    make_workbook: FillWorkbook, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    good = make_workbook(name="good.xlsx")
    doomed = make_workbook(name="doomed.xlsx")
    real = verification.verify_workbook

    def verify_or_crash(path: Path, **options: object) -> object:
        if path.name == "doomed.xlsx":
            raise KeyError("planted")
        return real(path, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(batch_task, "verify_workbook", verify_or_crash)  # where the batch calls it
    summary = tmp_path / "s.json"

    result = run("verify", str(doomed), str(good), "-j", "1", "--summary", str(summary))

    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert "xlcheck 内部错误（KeyError" in result.stdout
    statuses = [r["status"] for r in json.loads(summary.read_text(encoding="utf-8"))["workbooks"]]
    assert sorted(statuses) == ["ok", "unreadable"]
