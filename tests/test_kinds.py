"""The sheet kinds pairs/signoff, grid, text, indicators and totals: parsing (with key paths),
geometry, formulas, and how each finds its block again in a workbook a unit edited."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests import sheet_edits
from tests.conftest import fill_cells
from xlcheck import SpecError, VerifyOptions, load_spec, verify_workbook, write_template
from xlcheck.formulas import template_formulas
from xlcheck.layout import SheetView, kind_named, kind_names, lay_out
from xlcheck.layout.fitting import BlockFit
from xlcheck.layout.grid import NOT_APPLICABLE_TEXT
from xlcheck.spec_loading import parse_spec

NATIONAL = lay_out(load_spec("national-project"))
SHEET = "项目支出绩效自评表"


def _spec(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "kinds",
        "version": "1",
        "year": 2023,
        "title": "表",
        "sheets": [{"name": "表", "blocks": list(blocks)}],
    }


GRID: dict[str, Any] = {
    "kind": "grid",
    "key": "funds",
    "columns": [
        {"column": "budget", "label": "预算数", "type": "amount"},
        {"column": "spent", "label": "执行数", "type": "amount"},
        {
            "column": "rate",
            "label": "执行率",
            "type": "percent",
            "derive": {"ratio": ["spent", "budget"]},
        },
    ],
    "rows": [
        {"key": "total", "label": "合计", "total_of": ["a", "b"]},
        {"key": "a", "label": "其中：甲"},
        {"key": "b", "label": "乙", "cells": {"rate": "not_applicable"}},
    ],
}
INDICATORS: dict[str, Any] = {
    "kind": "indicators",
    "key": "ind",
    "levels": [
        {
            "key": "out",
            "name": "产出指标",
            "weight": 90,
            "groups": [{"key": "q", "name": "数量指标"}],
        }
    ],
}


def _broken(path: list[str | int], value: Any, base: dict[str, Any]) -> dict[str, Any]:
    raw = _spec(copy.deepcopy(base))
    node: Any = raw["sheets"][0]["blocks"][0]
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return raw


BAD = [
    (
        "grid-total-of-unknown-row",
        GRID,
        ["rows", 0, "total_of"],
        ["a", "z"],
        "rows[0].total_of",
        "没有可加总的行",
    ),
    (
        "grid-cell-unknown-column",
        GRID,
        ["rows", 2, "cells"],
        {"zz": "input"},
        "cells.zz",
        "表中没有列",
    ),
    (
        "grid-cell-bad-state",
        GRID,
        ["rows", 2, "cells"],
        {"rate": "grey"},
        "cells.rate",
        "not_applicable",
    ),
    ("grid-column-rows-unknown", GRID, ["columns", 2, "rows"], ["x"], "columns[2].rows", "没有行"),
    (
        "indicators-unknown-role",
        INDICATORS,
        ["columns"],
        [
            {"role": "level1"},
            {"role": "level2"},
            {"role": "name"},
            {"role": "weight"},
            {"role": "score"},
            {"role": "bogus"},
        ],
        "columns[5].role",
        "未知的列",
    ),
    (
        "indicators-missing-score",
        INDICATORS,
        ["columns"],
        [{"role": "level1"}, {"role": "level2"}, {"role": "name"}, {"role": "weight"}],
        "columns",
        "score",
    ),
    (
        "indicators-bad-method",
        INDICATORS,
        ["scoring"],
        {"at_least": "linear"},
        "scoring.at_least",
        "proportional",
    ),
    (
        "indicators-share-above-one",
        INDICATORS,
        ["scoring"],
        {"qualitative": [{"name": "好", "share": 2}]},
        "share",
        "0 到 1",
    ),
    ("indicators-zero-rows", INDICATORS, ["rows"], 0, "rows", "1 到 50"),
]


@pytest.mark.parametrize(
    ("base", "path", "value", "key_path", "words"),
    [case[1:] for case in BAD],
    ids=[case[0] for case in BAD],
)
def test_kind_spec_errors_name_the_key_path(
    base: dict[str, Any], path: list[str | int], value: Any, key_path: str, words: str
) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(_broken(path, value, base), Path("bad.yaml"))
    assert key_path in caught.value.key_path and words in str(caught.value)


def test_totals_cell_needs_sums_or_derive() -> None:
    raw = _spec(
        {"kind": "totals", "rows": [{"label": "总分", "cells": [{"key": "t", "label": "总分"}]}]}
    )
    with pytest.raises(SpecError, match="sums"):
        parse_spec(raw, Path("bad.yaml"))


def test_text_area_must_be_text() -> None:
    raw = _spec({"kind": "text", "areas": [{"key": "x", "label": "金额", "type": "amount"}]})
    with pytest.raises(SpecError, match="text"):
        parse_spec(raw, Path("bad.yaml"))


def test_grid_total_row_sums_its_parts_and_greys_what_does_not_apply() -> None:
    layout = lay_out(parse_spec(_spec(GRID), Path("grid.yaml")))
    total = layout.by_key["funds.total.spent"]
    assert total.spec.derive is not None and total.spec.derive.field_keys() == (
        "funds.a.spent",
        "funds.b.spent",
    )
    assert layout.by_key["funds.total.rate"].spec.derive is not None
    assert "funds.b.rate" not in layout.by_key
    grey = [c for c in layout.sheets[0].cells if c.style == "not_applicable"]
    assert [(c.row_number, c.text) for c in grey] == [(6, NOT_APPLICABLE_TEXT)]
    # Blank (not 0.00) until a part is filled.
    assert template_formulas(layout)["funds.total.spent"] == '=IF(COUNT(C5:C6)=0,"",SUM(C5:C6))'


def test_national_funds_block_formulas() -> None:
    formulas = template_formulas(NATIONAL)
    assert formulas["project[1].funds.total.executed"] == '=IF(COUNT(F7:F9)=0,"",SUM(F7:F9))'
    # N(): the total above shows "" while its parts are blank.
    assert formulas["project[1].funds.total.rate"] == '=IF(N(E6)=0,"",N(F6)/E6)'
    # MIN skips a blank ratio's "" in a referenced cell; N() counts it 0, as recompute does.
    # The score is blank while the rate is (the weight, a fixed 10, does not count).
    assert formulas["project[1].funds.total.score"] == '=IF(COUNT(H6)=0,"",MIN(N(H6),1)*G6)'
    assert formulas["project[1].total_score"] == '=IF(COUNT(I6,H13:H25)=0,"",SUM(I6,H13:H25))'
    assert formulas["project[1].total_weight"] == "=SUM(G6,G13:G25)"


def test_national_label_paths_use_the_forms_words() -> None:
    paths = {f.label_path for f in NATIONAL.fields}
    for path in (
        f"{SHEET}/资金/年度资金总额/全年执行数",
        f"{SHEET}/资金/其中：当年财政拨款/全年预算数",
        f"{SHEET}/年度总体目标/预期目标",
        f"{SHEET}/绩效指标/产出指标/数量指标第1行/年度指标值",
        f"{SHEET}/绩效指标/满意度指标/服务对象满意度指标第1行/得分",
        f"{SHEET}/总分",
        f"{SHEET}/总分/分值合计",
        f"{SHEET}/填报日期",
    ):
        assert path in paths, path


def test_national_roles_resolve_to_the_first_project() -> None:
    assert NATIONAL.role("spending") == "project[1].funds.total.executed"
    assert NATIONAL.role("total_score") == "project[1].total_score"
    assert NATIONAL.by_key["project[1].total_score"].weight == 100


def test_national_sheet_prints_landscape_one_page_wide_without_hidden_columns() -> None:
    sheet = NATIONAL.sheets[0]
    assert sheet.landscape
    assert all(width >= 7 for width in sheet.widths)
    assert len(sheet.widths) == sheet.last_column == 9


def test_written_template_merges_labels_and_sizes_text_rows(tmp_path: Path) -> None:
    path = write_template(tmp_path / "t.xlsx", template="national-project")
    sheet = openpyxl.load_workbook(path)[SHEET]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    # 项目资金（万元） beside the grid, 产出指标 over its eight rows, 数量指标 over its three.
    assert {"A5:A9", "B13:B20", "C13:C15", "B11:E11"} <= merged
    goal = NATIONAL.by_key["project[1].goal_expected"]
    height = sheet.row_dimensions[goal.row_number].height
    assert height is not None and height >= 15 * 4  # the spec's four lines
    assert sheet["G7"].value == NOT_APPLICABLE_TEXT


def test_signoff_is_found_when_a_name_is_written_into_its_label(tmp_path: Path) -> None:
    path = write_template(tmp_path / "t.xlsx", template="national-project")
    fill_cells(path, {"project[1].project_name": "甲项目"}, template="national-project")
    book = openpyxl.load_workbook(path)
    sheet_edits.insert_rows(book, SHEET, 1)  # everything one row lower
    book[SHEET]["E29"] = "单位负责人：张三"  # the name written into the label cell
    book[SHEET]["F30"] = "0759-1234567"  # 联系电话, one row below its template place
    book.save(path)
    result = verify_workbook(path, options=VerifyOptions(annotate=False))
    assert {f.code for f in result.findings} & {"rows-unrecognised", "rows-moved"} == {"rows-moved"}
    assert result.all_values["project[1].sign_phone"] == "0759-1234567"


def test_indicator_group_grows_to_the_rows_a_unit_inserted() -> None:
    block = NATIONAL.sheets[0].blocks[3]
    kind = kind_named("indicators")
    assert kind is not None and block.kind == "indicators"
    grid: list[list[Any]] = [[] for _ in range(11)]
    grid.append(
        [
            "绩效指标",
            "一级指标",
            "二级指标",
            "三级指标",
            "年度指标值",
            "实际完成值",
            "分值",
            "得分",
            "偏差原因分析及改进措施",
        ]
    )
    labels = [
        "数量指标",
        "",
        "",
        "",
        "",
        "质量指标",
        "",
        "时效指标",
        "成本指标",
        "",
        "经济效益指标",
    ]
    labels += ["社会效益指标", "生态效益指标", "可持续影响指标", "服务对象满意度指标"]
    for label in labels:
        grid.append(["", "", label])
    grid.append(["总分"])
    view = SheetView(SHEET, grid, lambda *_: None, 0)
    fit = kind.fit(block, view, 10)
    assert isinstance(fit, BlockFit) and not fit.in_place and not fit.notes
    rows = fit.placement.group_rows or {}
    assert rows["quantity"] == (13, 14, 15, 16, 17)
    assert rows["quality"] == (18, 19)
    assert rows["served"] == (27,)
    assert fit.next_row == 28


SPEC_FORMAT = Path(__file__).resolve().parent.parent / "docs" / "spec-format.md"


def _documented_keys(kind: str) -> set[str]:
    """The keys in the first table under ``### `kind: <kind>``` of docs/spec-format.md."""
    text = SPEC_FORMAT.read_text(encoding="utf-8")
    lines = text.split(f"### `kind: {kind}`", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| key |"))
    keys = set()
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        keys.add(line.split("`")[1])
    return keys


@pytest.mark.parametrize("kind", kind_names())
def test_spec_format_lists_every_key_of_every_kind(kind: str) -> None:
    registered = kind_named(kind)
    assert registered is not None
    assert _documented_keys(kind) == set(registered.spec_keys) | {"kind", "title"}


def test_layout_input_and_derived_fields_split_its_fields_in_order() -> None:
    # Reading the cells and the rules walk these instead of asking every field is_input.
    inputs = [f for f in NATIONAL.fields if f.is_input]
    derived = [f for f in NATIONAL.fields if not f.is_input]
    assert inputs and derived
    assert list(NATIONAL.input_fields) == inputs
    assert list(NATIONAL.derived_fields) == derived
    assert NATIONAL.input_keys == {f.key for f in inputs}


@pytest.mark.parametrize(
    ("start_row", "stop_row"),
    [
        (1, None),
        (0, None),
        (3, None),
        (4, None),
        (6, None),
        (9, None),
        (2, 4),
        (2, 3),
        (4, 2),
        (1, 9),
    ],
    ids=[
        "from-the-top",
        "from-row-0",
        "at-a-match",
        "past-a-match",
        "last-row",
        "beyond-the-sheet",
        "stops-after-a-match",
        "stops-at-a-match",
        "stop-above-start",
        "stop-beyond-the-sheet",
    ],
)
def test_sheet_view_find_in_column_is_the_first_match_in_the_rows_asked(
    start_row: int, stop_row: int | None
) -> None:
    grid: list[list[str | None]] = [
        ["项目"],
        ["合计"],
        ["预算数"],
        [None],
        ["预 算 数"],
        [],
        ["其他"],
    ]
    view = SheetView(SHEET, grid, lambda *_: None, 0)
    stop = len(grid) + 1 if stop_row is None else min(stop_row, len(grid) + 1)
    texts = view.column(1)
    expected = next((r for r in range(max(start_row, 1), stop) if texts[r - 1] == "预算数"), None)
    assert view.find_in_column(1, "预算数", start_row, stop_row) == expected
