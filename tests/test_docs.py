"""Docs that cannot drift: the finding catalogue, the README's commands, the CI command."""

from __future__ import annotations

import re
from pathlib import Path

from xlcheck.narrative import catalogue as report_catalogue
from xlcheck.rules import all_rules, render_catalogue

ROOT = Path(__file__).resolve().parent.parent
FINDINGS_DOC = ROOT / "docs" / "findings.md"


def test_rule_codes_are_unique_kebab_case_and_documented() -> None:
    codes = [r.code for r in all_rules()]
    assert len(codes) == len(set(codes))
    for entry in all_rules():
        assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", entry.code), entry.code
        assert (
            entry.title
            and entry.title_en
            and entry.description
            and entry.message
            and entry.message_en
        )


def test_report_codes_are_unique_kebab_case_documented_and_apart_from_the_rules() -> None:
    codes = [r.code for r in report_catalogue.all_report_rules()]
    assert not set(codes) & {r.code for r in all_rules()}
    for entry in report_catalogue.all_report_rules():
        assert re.fullmatch(r"report(-[a-z0-9]+)+", entry.code), entry.code
        assert entry.title and entry.title_en and entry.description
        assert entry.message and entry.message_en


def _findings_doc() -> str:
    """The workbook rules' catalogue, then the report findings' (``report check``)."""
    return render_catalogue() + "\n" + report_catalogue.render_catalogue()


def test_findings_doc_is_generated_from_the_registry(update_golden: bool) -> None:
    if update_golden:
        FINDINGS_DOC.write_text(_findings_doc(), encoding="utf-8")
    assert FINDINGS_DOC.read_text(encoding="utf-8") == _findings_doc(), "run pytest --update-golden"


def _test_command() -> str:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return next(line for line in lines if "pytest" in line and not line.startswith("#"))


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _test_command() in readme


def test_readme_names_every_command_and_exit_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in (
        "xlcheck template",
        "xlcheck fields",
        "xlcheck verify",
        "xlcheck report draft",
        "xlcheck report check",
    ):
        assert command in readme
    for code in ("0", "1", "2", "3"):
        assert re.search(rf"^\|\s*{code}\s*\|", readme, re.MULTILINE), code


def test_findings_doc_marks_every_code_a_spec_check_raises_as_spec_set() -> None:
    """A spec's checks choose their severity; the catalogue must not promise a fixed one."""
    from xlcheck.rules import checks
    from xlcheck.spec_loading import CHECK_VERBS, load_spec

    raised_by_checks = {
        checks.CROSS_CHECK_MISMATCH,
        checks.LIMIT_EXCEEDED,
        checks.DATE_OUTSIDE_YEAR,
        checks.DATE_NOT_YEAR_END,
        checks.ROW_COUNT_MISMATCH,
    }
    assert len(raised_by_checks) == len(CHECK_VERBS)
    assert {r.code for r in all_rules() if r.severity_from_spec} == {
        r.code for r in raised_by_checks
    }
    # The catalogue's example is true of the shipped spec.
    shipped = load_spec("zhanjiang-overall")
    assert any(c.relation == "at_most" and c.severity == "warning" for c in shipped.checks)
    assert "emits `limit-exceeded` as a warning" in FINDINGS_DOC.read_text(encoding="utf-8")


SPEC_FORMAT = ROOT / "docs" / "spec-format.md"


def _documented(heading: str, header: str = "| key |") -> set[str]:
    """The first backquoted word of each row of the first table under ``heading`` (up to a ':'
    or space inside the quotes: `equal: [a, b]` documents the key ``equal``)."""
    text = SPEC_FORMAT.read_text(encoding="utf-8")
    lines = text.split(heading + "\n", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    keys: set[str] = set()
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        for quoted in line.split("|")[1].split("`")[1::2]:
            keys.add(quoted.split(":")[0].split(" ")[0])
    return keys


def test_spec_format_lists_every_key_the_parser_accepts() -> None:
    from xlcheck.spec.nodes import DERIVATIONS, FIELD_KEYS
    from xlcheck.spec_loading import (
        CHECK_KEYS,
        GRADING_KEYS,
        LINK_KEYS,
        REPEAT_KEYS,
        SHEET_KEYS,
        SPEC_KEYS,
    )

    assert _documented("## The spec") == SPEC_KEYS
    assert _documented("### `grading`") == GRADING_KEYS
    assert _documented("## Sheets") == SHEET_KEYS
    assert _documented("### `repeat`: one sheet per item") == REPEAT_KEYS
    assert _documented("## Fields") == FIELD_KEYS
    assert _documented("## Derivations", "| verb |") == set(DERIVATIONS)
    assert _documented("## Checks") == CHECK_KEYS
    assert _documented("## Links across workbooks") == LINK_KEYS


def test_spec_format_names_every_role_xlcheck_understands() -> None:
    from xlcheck.spec import KNOWN_ROLES

    roles = SPEC_FORMAT.read_text(encoding="utf-8").split("**Roles**", 1)[1].split("\n\n", 1)[0]
    assert {role for role in KNOWN_ROLES if f"`{role}`" in roles} == set(KNOWN_ROLES)


def test_spec_format_lists_the_keys_a_scoring_block_generates() -> None:
    from xlcheck.layout import lay_out
    from xlcheck.spec_loading import load_spec

    layout = lay_out(load_spec("zhanjiang-overall"))
    block = next(b for b in layout.by_sheet["评分表"].blocks if b.kind == "scoring")
    scoring = [f.key for f in block.fields]
    generated = {k.split(".")[0] + (".<…>" if "." in k else "") for k in scoring}
    documented = {
        k.split(".")[0] + (".<…>" if "." in k else "")
        for k in _documented("### `kind: scoring`", "| generated key |")
    }
    assert documented == generated


CLI_DOC = ROOT / "docs" / "cli.md"


def _command_paths() -> list[tuple[str, ...]]:
    """Every command and group of the CLI, the group first, in the order ``--help`` lists them."""
    import click

    from xlcheck.cli import cli

    paths: list[tuple[str, ...]] = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        paths.append(path)
        if isinstance(command, click.Group):
            for name in command.list_commands(click.Context(command)):
                sub = command.get_command(click.Context(command), name)
                assert sub is not None
                walk(sub, (*path, name))

    walk(cli, ())
    return paths


def _cli_doc() -> str:
    from click.testing import CliRunner

    from xlcheck.cli import cli

    parts = [
        "# 命令参考 / Command reference\n",
        "每条命令的 `--help` 原文（中文在前，英文在后）。本页由测试生成，与命令行不符时测试失败；"
        "改了帮助文字后运行 `pytest tests/test_docs.py --update-golden`。\n"
        "Every command's `--help`, Chinese first, then English; generated by the tests, which fail "
        "when it differs from the command line.\n",
    ]
    for path in _command_paths():
        result = CliRunner().invoke(cli, [*path, "--help"], prog_name="xlcheck", terminal_width=100)
        assert result.exit_code == 0, result.output
        parts.append(
            f"## {' '.join(('xlcheck', *path))}\n\n```text\n{result.output.rstrip()}\n```\n"
        )
    return "\n".join(parts)


def test_cli_reference_is_the_help_of_every_command(update_golden: bool) -> None:
    commands = {" ".join(path) for path in _command_paths()}
    assert {"template", "fields", "verify", "collect", "summary merge", "report draft"} < commands
    assert "report check" in commands
    if update_golden:
        CLI_DOC.write_text(_cli_doc(), encoding="utf-8")
    assert CLI_DOC.read_text(encoding="utf-8") == _cli_doc(), "run pytest --update-golden"


def test_every_option_explains_itself_in_chinese_and_english() -> None:
    """``--help`` speaks both languages: each option's help has a Chinese and an English part."""
    import click

    from xlcheck.cli import cli

    for path in _command_paths():
        command: click.Command = cli
        for name in path:
            assert isinstance(command, click.Group)
            found = command.get_command(click.Context(command), name)
            assert found is not None
            command = found
        text = command.help or ""
        assert re.search(r"[\u4e00-\u9fff]", text) and re.search(r"\b[a-z]{3,}\b", text), path
        for parameter in command.params:
            if isinstance(parameter, click.Option):
                assert re.search(r"[\u4e00-\u9fff].*/ .*[a-z]", parameter.help or ""), (
                    path,
                    parameter.name,
                )
