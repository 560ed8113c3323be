"""The written template as it prints and as it helps while typing: who wrote it, page footers,
borders, row heights from the text, dropdowns for every field with fixed choices."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.cell.cell import MergedCell

from tests.conftest import SEED_VALUES
from xlcheck import load_prefill, load_spec, write_template
from xlcheck.input_validation import validation_ranges
from xlcheck.layout import lay_out, row_heights
from xlcheck.layout.row_heights import DEFAULT_HEIGHT, LINE_HEIGHT, wrapped_lines

CASES = Path(__file__).resolve().parent / "cases"
#: Built-in templates, and test specs with a 指标性质 column and choice fields of their own.
TEMPLATES = [
    "zhanjiang-overall",
    "national-project",
    str(CASES / "variant-coefficient" / "spec.yaml"),
    str(CASES / "custom-spec" / "spec.yaml"),
]
TEMPLATE_IDS = ["zhanjiang", "national", "variant-coefficient", "custom-spec"]


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = load_spec("zhanjiang-overall")
    return write_template(
        tmp_path_factory.mktemp("paper") / "seed.xlsx", prefill=load_prefill(SEED_VALUES, spec)
    )


def test_template_names_xlcheck_as_the_application(seed: Path) -> None:
    app = zipfile.ZipFile(seed).read("docProps/app.xml").decode()
    assert re.search(r"<Application>xlcheck \d", app)
    assert "Microsoft Excel" not in app


def test_template_footer_numbers_pages_without_the_template_id(seed: Path) -> None:
    book = openpyxl.load_workbook(seed)
    spec = load_spec("zhanjiang-overall")
    for sheet in book.worksheets:
        footer = sheet.oddFooter
        assert footer is not None, sheet.title
        assert footer.center.text == "第 &P 页，共 &N 页", sheet.title
        assert spec.id not in (footer.left.text or ""), sheet.title


@pytest.mark.parametrize("template", TEMPLATES, ids=TEMPLATE_IDS)
def test_every_choice_field_has_a_dropdown_with_a_chinese_prompt(
    template: str, tmp_path: Path
) -> None:
    path = write_template(tmp_path / "t.xlsx", template=template)
    book = openpyxl.load_workbook(path)
    layout = lay_out(load_spec(template))
    choice_fields = [f for f in layout.fields if f.is_input and f.spec.choices]
    assert choice_fields or template == "zhanjiang-overall"
    for placed in choice_fields:
        lists = [
            dv
            for dv in book[placed.sheet].data_validations.dataValidation
            if dv.type == "list" and placed.cell_ref in dv.sqref
        ]
        assert len(lists) == 1, placed.key
        entries = lists[0].formula1.strip('"').split(",")
        assert entries == list(placed.spec.choices), placed.key
        assert re.search(r"[\u4e00-\u9fff]", lists[0].prompt or ""), placed.key


def test_dropdown_of_a_choice_field_refuses_other_text_and_of_a_text_field_only_offers() -> None:
    layout = lay_out(load_spec(TEMPLATES[2]))
    rules = {
        (r.column_number, r.first_row): r.options
        for r in validation_ranges(layout.fields)
        if r.options["validate"] == "list"
    }
    direction = next(f for f in layout.fields if f.role == "direction")
    actual = next(f for f in layout.fields if f.role == "actual")
    assert rules[(direction.column_number, direction.row_number)]["error_type"] == "stop"
    # 实际完成值 may be a number: the qualitative grades are offered, anything may be typed.
    assert rules[(actual.column_number, actual.row_number)]["show_error"] is False


def test_validation_covers_a_column_of_rows_as_one_range() -> None:
    layout = lay_out(load_spec("national-project"))
    ranges = {(r.first_row, r.last_row, r.column_number) for r in validation_ranges(layout.fields)}
    # The 实际完成值 of every indicator row: a row inserted among them takes the rule along.
    assert (13, 25, 6) in ranges


@pytest.mark.parametrize("template", TEMPLATES[:2], ids=TEMPLATE_IDS[:2])
def test_every_cell_of_a_bordered_block_has_a_border(template: str, tmp_path: Path) -> None:
    path = write_template(tmp_path / "t.xlsx", template=template)
    book = openpyxl.load_workbook(path)
    for sheet in lay_out(load_spec(template)).sheets:
        for block in sheet.blocks:
            if block.kind == "signoff":
                continue
            for row in range(block.first_row, block.last_row + 1):
                for column in range(1, block.last_column + 1):
                    cell = book[sheet.name].cell(row, column)
                    if isinstance(cell, MergedCell):
                        continue  # drawn with its merged range's first cell
                    assert cell.border.left.style, f"{sheet.name}!{cell.coordinate}"
                    assert cell.border.bottom.style, f"{sheet.name}!{cell.coordinate}"


def test_score_sheet_subtotal_rows_are_bordered_beside_their_figures(seed: Path) -> None:
    sheet = openpyxl.load_workbook(seed)["评分表"]
    for row in (8, 28, 29):  # 小计 of 预算编制, 总分, 等级
        for column in "BCEG":
            assert sheet[f"{column}{row}"].border.top.style, f"{column}{row}"


def test_rows_are_as_tall_as_their_wrapped_criteria_and_no_taller(seed: Path) -> None:
    layout = lay_out(load_spec("zhanjiang-overall"))
    sheet = openpyxl.load_workbook(seed)["评分表"]
    criteria_width = layout.by_sheet["评分表"].widths[4]
    sheet_cells = layout.by_sheet["评分表"].cells
    cells = [c for c in sheet_cells if c.column_number == 5 and c.style == "text" and c.text]
    assert {wrapped_lines(c.text, criteria_width) for c in cells} == {1, 2}
    for cell in cells:
        lines = wrapped_lines(cell.text, criteria_width)
        height = sheet.row_dimensions[cell.row_number].height or DEFAULT_HEIGHT
        assert height >= lines * LINE_HEIGHT if lines > 1 else height <= DEFAULT_HEIGHT, cell.text


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        ("预算执行率", 12, 1),
        ("可持续影响指标可持续影响指标", 12, 3),
        ("基建工程委托业务项目数量 1,131.12", 20, 2),
        ("第一行\n第二行", 30, 2),
        ("a" * 40, 12, 4),
        ("预算执行率" * 60, 12, 50),
    ],
    ids=[
        "fits",
        "cjk-wraps-anywhere",
        "number-kept-whole",
        "line-breaks",
        "long-word-broken",
        "long-text-not-kept",
    ],
)
def test_wrapped_lines_counts_lines_as_the_apps_wrap(text: str, width: float, lines: int) -> None:
    kept = row_heights._kept_wrapped_lines.cache_info().currsize

    assert wrapped_lines(text, width) == lines
    assert wrapped_lines(text, width) == lines  # the second time from memory, if kept
    # Short texts are kept (they recur over a summary's rows); a long one is counted each time.
    grown = row_heights._kept_wrapped_lines.cache_info().currsize - kept
    assert grown <= (1 if len(text) <= row_heights._KEPT_TEXT else 0)


def test_signoff_of_the_score_sheet_has_the_official_lines() -> None:
    layout = lay_out(load_spec("zhanjiang-overall"))
    signoff = next(b for b in layout.by_sheet["评分表"].blocks if b.kind == "signoff")
    assert [c.text for c in signoff.cells] == [
        "填报单位（盖章）",
        "单位负责人",
        "填表人",
        "财务负责人",
        "联系电话",
        "填报日期",
    ]
    unit = layout.by_key["sign_unit"]
    assert unit.spec.derive is not None and unit.spec.derive.field_keys() == ("unit_name",)
