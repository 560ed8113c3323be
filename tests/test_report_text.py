"""Reading reports: paragraphs in reading order, lines cut by pages joined back."""

from __future__ import annotations

from pathlib import Path

import docx

from xlcheck.narrative.report_text import join_lines, read_report


def test_join_lines_closes_a_number_cut_by_a_line_break() -> None:
    assert join_lines(["其中工资福利支出 708.6", "3 万元，对个人和家庭的补助 65.45 万元。"]) == [
        ("其中工资福利支出 708.63 万元，对个人和家庭的补助 65.45 万元。", False)
    ]


def test_join_lines_closes_a_paragraph_cut_by_a_page() -> None:
    lines = ["年初预算按基本支出和项目支出编制，按功能分类科目，基", "", "", "本支出 489.82 万元。"]
    assert join_lines(lines) == [
        ("年初预算按基本支出和项目支出编制，按功能分类科目，基本支出 489.82 万元。", False)
    ]


def test_join_lines_keeps_short_lines_and_headings_apart() -> None:
    lines = [
        "评价年度：2023 年度",
        "",
        "评价单位：湛江市信访局",
        "",
        "## 二、自评工作开展情况",
        "正文。",
    ]
    assert join_lines(lines) == [
        ("评价年度：2023 年度", False),
        ("评价单位：湛江市信访局", False),
        ("二、自评工作开展情况", True),
        ("正文。", False),
    ]


def test_read_report_markdown_drops_emphasis(tmp_path: Path) -> None:
    report = tmp_path / "r.md"
    report.write_text("# 标题\n\n**机构设置:**核定行政编制 22 人。\n", encoding="utf-8")
    paragraphs = read_report(report)
    assert [(p.number, p.text, p.heading) for p in paragraphs] == [
        (1, "标题", True),
        (2, "机构设置:核定行政编制 22 人。", False),
    ]


def test_read_report_docx_reads_tables_in_order_and_closes_line_breaks(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("一、单位基本情况", level=1)
    paragraph = document.add_paragraph("实际支出 1,130.")
    paragraph.add_run().add_break()
    paragraph.add_run("30 万元。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "一级指标", "自评得分"
    table.cell(1, 0).text, table.cell(1, 1).text = "预算编制", "20"
    document.add_paragraph("")
    document.add_paragraph("结束。")
    path = tmp_path / "r.docx"
    document.save(str(path))
    paragraphs = read_report(path)
    assert [p.text for p in paragraphs] == [
        "一、单位基本情况", "实际支出 1,130.30 万元。", "一级指标", "自评得分", "预算编制", "20", "结束。",
    ]  # fmt: skip
    assert paragraphs[0].heading
    assert paragraphs[5].cell is not None and (
        paragraphs[5].cell.row,
        paragraphs[5].cell.column,
    ) == (1, 1)
    assert [p.number for p in paragraphs] == list(range(1, 8))
