"""The library API: what verify keeps, refuses and reports, seen from a user's workbook."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.drawing.image import Image
from PIL import Image as PillowImage

from tests.conftest import FillWorkbook, fill_cells
from xlcheck import (
    TemplateMismatchError,
    VerifyOptions,
    list_fields,
    verify_workbook,
    write_template,
)
from xlcheck.layout import lay_out
from xlcheck.spec_loading import load_spec


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_verify_never_changes_the_input(make_workbook: FillWorkbook) -> None:
    path = make_workbook(overrides={"exec_rate": 0.9993})
    before = _digest(path)
    result = verify_workbook(path)
    assert _digest(path) == before
    assert result.annotated is not None and result.annotated != path


def test_verify_keeps_text_with_leading_zeros(make_workbook: FillWorkbook) -> None:
    path = make_workbook(overrides={"unit_code": "001"})
    result = verify_workbook(path, options=VerifyOptions(annotate=False))
    assert result.findings == ()


def test_verify_reports_key_figures_recomputed(make_workbook: FillWorkbook) -> None:
    result = verify_workbook(
        make_workbook(overrides={"exec_rate": 0.9993}), options=VerifyOptions(annotate=False)
    )
    assert result.values["execution_rate"] == 0.9972
    assert result.values["budget"] == 1133.49
    assert result.values["unit"] == "湛江市信访局"
    assert result.values["grade"] == "优"


def test_annotated_copy_keeps_a_pasted_seal_image(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    path = make_workbook(overrides={"score.petition_handling": 6})
    seal = tmp_path / "seal.png"
    PillowImage.new("RGB", (60, 60), "red").save(seal)
    book = openpyxl.load_workbook(path)
    book["基本信息"].add_image(Image(str(seal)), "D5")
    book.save(path)
    result = verify_workbook(path)
    assert result.annotated is not None
    media = [n for n in zipfile.ZipFile(result.annotated).namelist() if n.startswith("xl/media/")]
    assert media, "the seal image was lost"


def test_annotated_copy_marks_each_finding_and_keeps_formulas(make_workbook: FillWorkbook) -> None:
    path = make_workbook(overrides={"score.petition_handling": 6})
    result = verify_workbook(path)
    assert result.annotated is not None
    book = openpyxl.load_workbook(result.annotated)
    assert book.sheetnames[0] == "校验结果"
    cell = book["评分表"]["F25"]
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert (
        cell.comment is not None and "超过了分值" in cell.comment.text and "5" in cell.comment.text
    )
    assert "SUM(F8,F14,F21,F27)" in str(book["评分表"]["F28"].value)
    links = [
        c.hyperlink.location or c.hyperlink.target
        for row in book["校验结果"].iter_rows()
        for c in row
        if c.hyperlink
    ]
    assert "'评分表'!F25" in " ".join(str(link) for link in links)


def test_verify_refuses_a_workbook_from_another_version(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    spec_text = load_spec("zhanjiang-overall").source.read_text(encoding="utf-8")  # type: ignore[union-attr]
    newer = tmp_path / "zhanjiang-overall.yaml"
    newer.write_text(spec_text.replace('version: "2023.2"', 'version: "2024.1"'), encoding="utf-8")
    path = make_workbook()
    with pytest.raises(TemplateMismatchError) as caught:
        verify_workbook(path, options=VerifyOptions(template=newer, annotate=False))
    assert "2023.2" in str(caught.value) and "2024.1" in str(caught.value)


def test_verify_refuses_a_workbook_from_another_template(tmp_path: Path) -> None:
    spec = tmp_path / "other.yaml"
    spec.write_text(
        'id: other\nversion: "1"\ntitle: t\nyear: 2023\nsheets:\n  - {name: 表, layout: form, rows: [{key: a, label: A, type: amount}]}\n',
        encoding="utf-8",
    )
    path = write_template(tmp_path / "other.xlsx", template=spec)
    with pytest.raises(TemplateMismatchError, match="other"):
        verify_workbook(path, options=VerifyOptions(template="zhanjiang-overall", annotate=False))


def test_verify_with_an_own_spec_by_path(tmp_path: Path) -> None:
    spec = tmp_path / "mini.yaml"
    spec.write_text(
        'id: mini\nversion: "1"\ntitle: t\nyear: 2023\nsheets:\n  - name: 表\n    layout: form\n    rows:\n'
        "      - {key: a, label: A, type: amount}\n      - {key: b, label: B, type: amount}\n"
        "      - {key: t, label: 合计, type: amount, derive: {sum: [a, b]}}\n",
        encoding="utf-8",
    )
    path = write_template(tmp_path / "mini.xlsx", template=spec)
    fill_cells(path, {"a": 1.25, "b": 2.5, "t": 3.80}, template=str(spec))
    result = verify_workbook(path, options=VerifyOptions(template=spec, annotate=False))
    assert {f.code for f in result.findings} == {"formula-replaced", "derived-mismatch"}


def test_list_fields_covers_every_laid_out_cell() -> None:
    infos = list_fields()
    assert len(infos) == len(lay_out(load_spec("zhanjiang-overall")).fields)
    assert len({(i.sheet, i.cell) for i in infos}) == len(infos)


def test_verify_reads_excels_shared_formulas_as_their_cells_formulas(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    """Excel stores a filled-down formula once ("shared"); the copies must not read as altered."""
    import re

    source = make_workbook()
    sheet_part = "xl/worksheets/sheet3.xml"  # 项目支出: 执行率 in F4:F23, the same formula per row
    shared = tmp_path / "shared.xlsx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(shared, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == sheet_part:
                text = data.decode("utf-8")
                text, masters = re.subn(
                    r'(<c r="F4"[^>]*>)<f>([^<]*)</f>',
                    r'\1<f t="shared" ref="F4:F23" si="0">\2</f>',
                    text,
                )
                text, copies = re.subn(
                    r'(<c r="F(?:[5-9]|1\d|2[0-3])"[^>]*>)<f>[^<]*</f>',
                    r'\1<f t="shared" si="0"/>',
                    text,
                )
                assert (masters, copies) == (1, 19)
                data = text.encode("utf-8")
            zout.writestr(item, data)
    result = verify_workbook(shared, options=VerifyOptions(annotate=False))
    assert result.findings == ()


def test_per_layout_memos_of_a_check_are_bounded() -> None:
    # A relocated workbook brings a layout of its own: each memo keyed on a layout keeps a few.
    from xlcheck import recompute, verification
    from xlcheck.rules import bounds, scoring, tables

    memos = [
        verification._cell_types,
        verification._data_fields,
        verification._linked_fields,
        verification._role_fields,
        recompute._derivations,
        bounds._bounded_fields,
        scoring._score_fields,
        tables._table_rows,
    ]
    for memo in memos:
        assert memo.cache_info().maxsize == 16, memo
