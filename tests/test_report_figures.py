"""Stated figures: the forms people write them, what is masked, and which field each one is."""

from __future__ import annotations

import pytest

from xlcheck.layout import lay_out
from xlcheck.narrative.figures import chinese_number, find_figures, normalise_text
from xlcheck.narrative.mentions import Labeller
from xlcheck.narrative.outline import load_report_template
from xlcheck.narrative.report_text import ReportParagraph
from xlcheck.spec_loading import load_spec


def _figures(text: str) -> list[tuple[float, int, str]]:
    return [(f.value, f.decimals, f.unit) for f in find_figures(normalise_text(text))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("预算数 1,133.49 万元", [(1133.49, 2, "万元")]),
        ("预算数 １１３３．４９万元", [(1133.49, 2, "万元")]),
        ("实际收入 11,311,200 元", [(11311200.0, 0, "元")]),
        ("执行率百分之九十九点七二", [(99.72, 2, "%")]),
        ("占百分之72.44", [(72.44, 2, "%")]),
        ("整体支出 99.93％", [(99.93, 2, "%")]),
        ("内设 5 个科（室），分别为办公室", [(5.0, 0, "个")]),
    ],
    ids=[
        "separators",
        "full-width",
        "yuan",
        "percent-in-words",
        "percent-words-digits",
        "full-width-percent",
        "not-fen-bie",
    ],
)
def test_find_figures_reads_the_forms_people_write(
    text: str, expected: list[tuple[float, int, str]]
) -> None:
    assert _figures(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "根据《湛江市财政局关于开展 2024 年市级财政资金绩效自评工作的通知》(湛财绩〔2024〕5 号)要求",
        "并在2024年7月30日之前按时完成",
        "按照国家信访局“135”施工路线图",
        "1.我局今年开展了部门整体支出绩效自评。",
        "主要支出项目共：“信访工作经费等7项”。",
    ],
    ids=["notice", "date", "quoted", "list-number", "quoted-name"],
)
def test_find_figures_masks_numbers_that_are_not_figures(text: str) -> None:
    assert _figures(text) == []


def test_find_figures_marks_changes_and_weights() -> None:
    figures = find_figures(
        "实际支出 1130.30 万元，比上年增长 5.2%，下降 2.1 个百分点；预算编制部分得 20 分（分值 20 分）。"
    )
    assert [(f.value, f.change, f.weight) for f in figures] == [
        (1130.30, False, False), (5.2, True, False), (2.1, True, False), (20.0, False, False), (20.0, False, True),
    ]  # fmt: skip


def test_chinese_number() -> None:
    assert chinese_number("九十九点九三") == (99.93, 2)
    assert chinese_number("七十二") == (72.0, 0)
    assert chinese_number("一百") == (100.0, 0)
    assert chinese_number("好") is None


@pytest.fixture(scope="module")
def labeller() -> Labeller:
    spec = load_spec("zhanjiang-overall")
    return Labeller(lay_out(spec), load_report_template(spec))


def _keys(
    labeller: Labeller, *texts: str, heading: str | None = None
) -> list[tuple[str | None, str]]:
    paragraphs = [ReportParagraph(1, heading, heading=True)] if heading else []
    paragraphs += [ReportParagraph(len(paragraphs) + i + 1, t) for i, t in enumerate(texts)]
    return [(m.key, m.written) for m in labeller.mentions(paragraphs)]


def test_labels_tell_a_budget_line_from_spending_by_context(labeller: Labeller) -> None:
    assert _keys(labeller, "年初预算按基本支出和项目支出编制，基本支出 489.82 万元；项目支出 356.69 万元。") == [
        ("budget_basic", "489.82 万元"), ("budget_project", "356.69 万元"),
    ]  # fmt: skip
    assert _keys(labeller, "实际支出 1130.30 万元。按用途划分，基本支出 818.78 万元，项目支出 311.52 万元。") == [
        ("spend_total", "1130.30 万元"), ("spend_basic", "818.78 万元"), ("spend_project", "311.52 万元"),
    ]  # fmt: skip


def test_labels_leave_an_undecidable_figure_unnamed(labeller: Labeller) -> None:
    assert _keys(labeller, "基本支出 818.78 万元。") == [(None, "818.78 万元")]


def test_labels_total_word_needs_its_context(labeller: Labeller) -> None:
    assert _keys(labeller, "三公经费合计 5.00 万元。") == [(None, "5.00 万元")]
    assert _keys(labeller, "年初预算：公用经费 47.48 万元；合计 1133.49 万元。")[-1] == (
        "budget_total",
        "1133.49 万元",
    )


def test_labels_skip_last_years_figures_and_changes(labeller: Labeller) -> None:
    assert _keys(
        labeller, "上年实际支出 1074.43 万元，本年实际支出 1130.30 万元，同比增长 5.2%。"
    ) == [("spend_total", "1130.30 万元")]


def test_labels_need_the_label_right_before_the_figure(labeller: Labeller) -> None:
    # 领导职数 names 4 posts; "设局长 1 名" states one of them.
    assert _keys(labeller, "局领导职数设局长 1 名、副局长 3 名。") == [
        (None, "1 名"),
        (None, "3 名"),
    ]


def test_labels_shares_and_counts(labeller: Labeller) -> None:
    assert _keys(
        labeller,
        "实际支出 1130.30 万元，其中项目支出 311.52 万元，占 27.56%，主要支出项目有信访工作经费等 7 项。",
        heading="2.预算执行情况",
    ) == [
        ("spend_total", "1130.30 万元"), ("spend_project", "311.52 万元"), ("share_project", "27.56%"), ("count:projects", "7 项"),
    ]  # fmt: skip
    assert _keys(labeller, "项目支出决算占实际支出的 27.56%。")[-1] == ("share_project", "27.56%")


@pytest.mark.parametrize(
    ("text", "grades"),
    [
        ("自评得分为101分，自评优秀。", ["优"]),
        ("自评等级为“良”。", ["良"]),
        ("绩效自评结果为良好，", ["良"]),
        ("自评中发现问题。", []),
        ("自评工作过程。", []),
    ],
    ids=["you-xiu", "quoted", "liang-hao", "zhong-in-a-word", "no-grade"],
)
def test_grades_stated(labeller: Labeller, text: str, grades: list[str]) -> None:
    spec = load_spec("zhanjiang-overall")
    found = labeller.grades([ReportParagraph(1, text)], spec.grading.grades)
    assert [g.grade for g in found] == grades
