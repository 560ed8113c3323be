"""The summary (汇总表): rows problems first, duplicates, xlsx sheets and chart, CSV/JSON, merge."""

from __future__ import annotations

import csv
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result

from tests.conftest import FillWorkbook, seed_values
from tests.test_sources import make_mail, write_eml
from xlcheck.api import VerifyOptions, verify_batch
from xlcheck.cli import cli
from xlcheck.exchange.summary import build_summary
from xlcheck.exchange.summary_rows import SummaryBuilder, mark_duplicates


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _explain(result: Result) -> str:
    return f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def _batch(make_workbook: FillWorkbook, tmp_path: Path) -> list[Path]:
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK garbage")
    return [
        make_workbook(name="clean.xlsx"),
        make_workbook(seed_values(), name="wrong.xlsx"),
        broken,
        make_workbook(name="other.xlsx", overrides={"unit_name": "湛江市财政局"}),
    ]


def test_build_summary_puts_problems_first_and_flags_duplicates(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    results = verify_batch(
        _batch(make_workbook, tmp_path), options=VerifyOptions(annotate=False), jobs=1
    )

    summary = build_summary(results)

    assert [Path(r["file"]).name for r in summary.rows] == [
        "broken.xlsx",
        "wrong.xlsx",
        "clean.xlsx",
        "other.xlsx",
    ]
    clean = summary.rows[2]
    assert clean["unit"] == "湛江市信访局" and clean["year"] == 2023
    assert clean["budget"] == 1133.49 and clean["execution_rate"] == 0.9972
    assert clean["total_score"] == 100 and clean["grade"] == "优"
    # clean.xlsx and wrong.xlsx are the same unit and year; the other unit is no duplicate.
    assert "同单位同年度共 2 份" in summary.rows[1]["duplicate"]
    assert "同单位同年度共 2 份" in clean["duplicate"]
    assert summary.rows[3]["duplicate"] is None
    assert {f["file"] for f in summary.findings} == {str(tmp_path / "wrong.xlsx")}


def test_duplicates_name_the_newer_mail(make_workbook: FillWorkbook, tmp_path: Path) -> None:
    content = make_workbook().read_bytes()
    old = write_eml(
        tmp_path / "old.eml", make_mail({"a.xlsx": content}, date="Mon, 8 Jan 2024 09:00:00 +0800")
    )
    new = write_eml(
        tmp_path / "new.eml", make_mail({"b.xlsx": content}, date="Tue, 9 Jan 2024 09:00:00 +0800")
    )

    summary = build_summary(verify_batch([new, old], options=VerifyOptions(annotate=False), jobs=1))

    by_name = {Path(r["file"]).name: r for r in summary.rows}
    assert by_name["a.xlsx"]["duplicate"].endswith("较新的是 " + by_name["b.xlsx"]["file"])
    assert "此份最新" in by_name["b.xlsx"]["duplicate"]


def test_cli_summary_workbook_has_four_sheets_filter_freeze_links_and_totals(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    summary_path = tmp_path / "汇总表.xlsx"
    sources = [str(p) for p in _batch(make_workbook, tmp_path)]

    result = run(
        "verify", *sources, "--out-dir", str(out), "--summary", str(summary_path), "-j", "2"
    )

    assert result.exit_code == 3, _explain(result)
    book = openpyxl.load_workbook(summary_path)
    assert book.sheetnames == ["汇总表", "问题清单", "分布图", "文件与来源"]
    rows = book["汇总表"]
    assert rows.freeze_panes == "B2"
    assert rows.auto_filter.ref is not None and rows.auto_filter.ref.startswith("A1:")
    headers = [c.value for c in rows[1]]
    assert headers[:3] == ["单位", "年度", "状态"]
    assert {"预算执行率\n（重算）", "总分", "等级", "批注副本"} <= set(headers)
    assert "最后保存的软件" not in headers  # technical columns on their own sheet
    assert rows.cell(2, headers.index("状态") + 1).value == "无法校验"
    link = rows.cell(3, headers.index("批注副本") + 1)
    # Relative, so the folder can move; xlsxwriter writes Excel's own backslash form.
    assert link.hyperlink is not None
    assert str(link.hyperlink.target).replace("\\", "/") == "out/wrong.checked.xlsx"
    assert str(rows.cell(6, 1).value).startswith("合计")
    assert str(rows.cell(6, headers.index("预算数\n（万元）") + 1).value).startswith(
        "=SUBTOTAL(109,"
    )
    findings = book["问题清单"]
    finding_headers = [c.value for c in findings[1]]
    assert findings.max_row > 1
    assert findings.cell(2, finding_headers.index("文件") + 1).value == str(tmp_path / "wrong.xlsx")
    # 应为 and 实际 as the workbook shows them (text such as 99.72%), not as stored (0.9972).
    shown = {
        (row[finding_headers.index("应为")], row[finding_headers.index("实际")])
        for row in findings.iter_rows(min_row=2, values_only=True)
        if row[finding_headers.index("代码")] == "total-above-maximum"
    }
    assert shown == {("100 分", "101 分")}
    sources_sheet = book["文件与来源"]
    source_headers = [c.value for c in sources_sheet[1]]
    assert source_headers[:2] == ["单位", "年度"] and "最后保存的软件" in source_headers
    # The same workbooks in the same order on both sheets.
    assert [c.value for c in sources_sheet["A"]][1:5] == [c.value for c in rows["A"]][1:5]
    with zipfile.ZipFile(summary_path) as package:
        assert len([n for n in package.namelist() if n.startswith("xl/charts/chart")]) == 2


def test_cli_summary_csv_and_json_merge_into_one(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    first, second = make_workbook(name="one.xlsx"), make_workbook(seed_values(), name="two.xlsx")
    shard_json, shard_csv = tmp_path / "shard1.json", tmp_path / "shard2.csv"
    assert run("verify", str(first), "--no-annotate", "--summary", str(shard_json)).exit_code == 0
    assert run("verify", str(second), "--no-annotate", "--summary", str(shard_csv)).exit_code == 1
    with shard_csv.open(encoding="utf-8-sig") as handle:
        assert next(csv.DictReader(handle))["unit"] == "湛江市信访局"

    merged = run(
        "summary", "merge", str(shard_json), str(shard_csv), "-o", str(tmp_path / "all.json")
    )

    assert merged.exit_code == 0, _explain(merged)
    document = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    assert [Path(r["file"]).name for r in document["workbooks"]] == ["two.xlsx", "one.xlsx"]
    assert all(r["duplicate"] for r in document["workbooks"])  # same unit and year across shards
    assert document["workbooks"][0]["errors"] >= 1


def test_cli_summary_merge_rejects_a_file_that_is_no_summary(tmp_path: Path) -> None:
    bogus = tmp_path / "x.json"
    bogus.write_text("{}", encoding="utf-8")

    result = run("summary", "merge", str(bogus), "-o", str(tmp_path / "m.xlsx"))

    assert result.exit_code == 3, _explain(result)
    assert "不是 xlcheck 汇总文件" in result.stderr
    assert "Traceback" not in result.output


def test_cli_existing_summary_without_force_is_refused_before_the_batch(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    summary_path = tmp_path / "s.xlsx"
    summary_path.write_bytes(b"old")

    result = run("verify", str(make_workbook()), "--summary", str(summary_path))

    assert result.exit_code == 3, _explain(result)
    assert not (tmp_path / "filled.checked.xlsx").exists()


def _row(unit: str, year: int | None, received: str | None, file: str) -> dict[str, Any]:
    return {"unit": unit, "year": year, "received": received, "file": file, "status": "ok"}


def test_duplicates_need_the_same_year() -> None:
    rows = [_row("甲", 2023, None, "a.xlsx"), _row("甲", 2024, None, "b.xlsx")]

    mark_duplicates(rows)

    assert [r["duplicate"] for r in rows] == [None, None]


def test_newer_compares_instants_not_text() -> None:
    """09:00 in Beijing is 01:00 UTC: the mail stamped 02:30+00:00 came later, although its
    text sorts first."""
    beijing = _row("甲", 2023, "2024-01-09T09:00:00+08:00", "beijing.xlsx")
    utc = _row("甲", 2023, "2024-01-09T02:30:00+00:00", "utc.xlsx")
    rows = [beijing, utc]

    mark_duplicates(rows)

    assert "此份最新" in str(utc["duplicate"])
    assert str(beijing["duplicate"]).endswith("较新的是 utc.xlsx")


def test_summary_findings_stream_through_a_spool_in_order(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    results = verify_batch(
        [make_workbook(seed_values(), name="wrong.xlsx")],
        options=VerifyOptions(annotate=False),
        jobs=1,
    )
    builder = SummaryBuilder()
    for result in results * 3:
        builder.add(result)

    summary = builder.finish()

    expected = [f.code for f in results[0].findings] * 3
    assert len(summary.findings) == len(expected)
    assert [f["code"] for f in summary.findings] == expected
    assert [f["code"] for f in summary.findings] == expected  # read twice, same rows


def test_links_to_the_copies_are_relative_to_the_summary_as_relpath_makes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xlcheck.exchange.summary_workbook import _LinkTargets

    monkeypatch.chdir(tmp_path)
    summary_folder = tmp_path / "out"
    copies = [
        str(summary_folder / "a.checked.xlsx"),
        str(summary_folder / "sub" / "b.checked.xlsx"),
        str(tmp_path / "c.checked.xlsx"),
        str(tmp_path / "other" / "./d.checked.xlsx"),
        "e.checked.xlsx",
        "out/f.checked.xlsx",
        "../g.checked.xlsx",
        str(summary_folder / "sub" / ".."),
    ]
    targets = _LinkTargets(summary_folder)

    for copy in copies * 2:  # the second time from the folders already made relative
        assert targets(copy) == os.path.relpath(copy, summary_folder), copy
