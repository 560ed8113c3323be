"""Where every field of a spec lives: sheet, row and column, label path, resolved operands.

The template writer and the reader both place fields through ``lay_out``, so a generated
workbook and its verification can never disagree on geometry.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace

from xlcheck.errors import SpecError
from xlcheck.findings import CellRef, column_letters
from xlcheck.spec import (
    Derivation,
    FieldSpec,
    FormSheetSpec,
    ScoringSheetSpec,
    SectionSpec,
    SheetSpec,
    Spec,
    TableSheetSpec,
)

TITLE_ROW = 1
NOTE_ROW = 2
HEADER_ROW = 3
FIRST_BODY_ROW = 4

FORM_HEADERS = ("项目", "数值", "单位", "说明")
SCORING_HEADERS = ("一级指标", "二级指标", "三级指标", "分值", "评分标准", "自评得分", "扣分原因")
# Scoring sheet columns (1-based), named for what they hold.
LEVEL1_COL, LEVEL2_COL, LEVEL3_COL, WEIGHT_COL, CRITERIA_COL, SCORE_COL, REASON_COL = range(1, 8)


@dataclass(frozen=True)
class PlacedField:
    """A field with its cell. ``spec.derive`` operands are full field keys here."""

    key: str
    spec: FieldSpec
    sheet: str
    sheet_index: int
    row_number: int
    column_number: int
    label_path: str
    #: For table cells: the table key and 1-based row within the table (0 for the totals row).
    table: str | None = None
    table_row: int | None = None
    #: For scoring cells: the indicator key and its weight.
    indicator: str | None = None
    weight: float | None = None

    @property
    def cell_ref(self) -> str:
        return f"{column_letters(self.column_number)}{self.row_number}"

    @property
    def location(self) -> CellRef:
        return CellRef(self.sheet_index, self.row_number, self.column_number, self.sheet)

    @property
    def short_label(self) -> str:
        """The label a message uses: the field's own, or with its indicator for scoring cells."""
        parts = self.label_path.split("/")
        if (
            self.indicator is not None
            or parts[-1] in ("小计", "合计")
            or parts[-2:-1] in (["小计"], ["合计"])
        ):
            return "".join(parts[-2:]) if len(parts) > 2 else parts[-1]
        if self.table_row:
            return f"第{self.table_row}行{parts[-1]}"
        return parts[-1]

    @property
    def indicator_name(self) -> str:
        """For scoring cells: the third-level indicator's name (e.g. 预算执行率)."""
        return self.label_path.split("/")[-2]

    @property
    def is_input(self) -> bool:
        return self.spec.derive is None


@dataclass(frozen=True)
class SheetLayout:
    sheet: SheetSpec
    index: int
    headers: tuple[str, ...]
    #: Section headings of form sheets: (row_number, title).
    sections: tuple[tuple[int, str], ...]
    last_row: int
    last_column: int
    #: Rows carrying fixed text the writer puts in (row_number, column_number) → text.
    labels: dict[tuple[int, int], str]
    #: Rows a unit inserted among the template's rows (only in a layout placed in a workbook).
    inserted_rows: frozenset[int] = frozenset()


# Identity equality: a layout is built once per spec (``lay_out`` caches it), and hashing by
# identity keeps the caches keyed on it cheap.
@dataclass(frozen=True, eq=False)
class Layout:
    spec: Spec
    fields: tuple[PlacedField, ...]
    sheets: tuple[SheetLayout, ...]

    @functools.cached_property
    def by_key(self) -> dict[str, PlacedField]:
        return {f.key: f for f in self.fields}

    @functools.cached_property
    def by_sheet(self) -> dict[str, SheetLayout]:
        return {s.sheet.name: s for s in self.sheets}

    def dependencies_first(self) -> list[PlacedField]:
        """Derived fields ordered so that every operand comes before its user."""
        ordered: list[PlacedField] = []
        state: dict[str, int] = {}

        def visit(placed: PlacedField, trail: tuple[str, ...]) -> None:
            if state.get(placed.key) == 2:
                return
            if state.get(placed.key) == 1:
                raise SpecError(
                    self.spec.source or "",
                    placed.key,
                    f"计算关系成环：{' → '.join((*trail, placed.key))}",
                )
            state[placed.key] = 1
            derive = placed.spec.derive
            for operand in derive.operands if derive else ():
                operand_field = self.by_key[operand]
                if not operand_field.is_input:
                    visit(operand_field, (*trail, placed.key))
            state[placed.key] = 2
            ordered.append(placed)

        for placed in self.fields:
            if not placed.is_input:
                visit(placed, ())
        return ordered


def _form(sheet: FormSheetSpec, index: int) -> tuple[list[PlacedField], SheetLayout]:
    placed: list[PlacedField] = []
    sections: list[tuple[int, str]] = []
    labels: dict[tuple[int, int], str] = {}
    section = ""
    row_number = FIRST_BODY_ROW
    for row in sheet.rows:
        if isinstance(row, SectionSpec):
            section = row.title
            sections.append((row_number, row.title))
        else:
            group = row.group or section
            path = "/".join(p for p in (sheet.name, group, row.label) if p)
            placed.append(PlacedField(row.key, row, sheet.name, index, row_number, 2, path))
            labels[(row_number, 1)] = row.label
            if row.unit:
                labels[(row_number, 3)] = row.unit
        row_number += 1
    layout = SheetLayout(sheet, index, FORM_HEADERS, tuple(sections), row_number - 1, 4, labels)
    return placed, layout


def _row_key(table: str, row: int, column: str) -> str:
    return f"{table}[{row}].{column}"


def table_total_key(table: str, column: str) -> str:
    return f"{table}.total.{column}"


def _table(
    sheet: TableSheetSpec,
    index: int,
    first_row: int = FIRST_BODY_ROW,
    summed: tuple[int, int] | None = None,
) -> tuple[list[PlacedField], SheetLayout]:
    """Lay out a table; ``summed`` (first and last table row) narrows what the totals add up."""
    placed: list[PlacedField] = []
    labels: dict[tuple[int, int], str] = {}
    first_summed, last_summed = summed or (1, sheet.capacity)
    for row in range(1, sheet.capacity + 1):
        row_number = first_row + row - 1
        labels[(row_number, 1)] = str(row)
        for offset, column in enumerate(sheet.columns):
            derive = column.derive
            if derive is not None:
                derive = replace(
                    derive, operands=tuple(_row_key(sheet.key, row, c) for c in derive.operands)
                )
            placed.append(
                PlacedField(
                    _row_key(sheet.key, row, column.key),
                    replace(column, derive=derive, required=False),
                    sheet.name,
                    index,
                    row_number,
                    2 + offset,
                    f"{sheet.name}/第{row}行/{column.label}",
                    table=sheet.key,
                    table_row=row,
                )
            )
    total_row = first_row + sheet.capacity
    labels[(total_row, 1)] = "合计"
    for offset, column in enumerate(sheet.columns):
        if column.key in sheet.totals:
            operands = tuple(
                _row_key(sheet.key, r, column.key) for r in range(first_summed, last_summed + 1)
            )
            derive = Derivation("sum", operands)
        elif column.derive is not None and column.derive.verb == "ratio":
            # A ratio column's total is the ratio of the totals, not a sum of ratios.
            derive = replace(
                column.derive,
                operands=tuple(table_total_key(sheet.key, c) for c in column.derive.operands),
            )
        else:
            continue
        placed.append(
            PlacedField(
                table_total_key(sheet.key, column.key),
                replace(column, derive=derive, required=False),
                sheet.name,
                index,
                total_row,
                2 + offset,
                f"{sheet.name}/合计/{column.label}",
                table=sheet.key,
                table_row=0,
            )
        )
    headers = ("序号", *(c.label + (f"（{c.unit}）" if c.unit else "") for c in sheet.columns))
    return placed, SheetLayout(sheet, index, headers, (), total_row, len(headers), labels)


def _scoring(sheet: ScoringSheetSpec, index: int) -> tuple[list[PlacedField], SheetLayout]:
    placed: list[PlacedField] = []
    labels: dict[tuple[int, int], str] = {}
    row_number = FIRST_BODY_ROW
    subtotal_keys: list[str] = []
    subtotal_weight_keys: list[str] = []
    name = sheet.name

    def add(key: str, spec: FieldSpec, row: int, col: int, path: str, **extra: object) -> None:
        placed.append(PlacedField(key, spec, name, index, row, col, path, **extra))  # type: ignore[arg-type]

    for part in sheet.parts:
        score_keys: list[str] = []
        weight_keys: list[str] = []
        for ind in part.indicators:
            labels.update(
                {
                    (row_number, LEVEL1_COL): part.name,
                    (row_number, LEVEL2_COL): ind.level2,
                    (row_number, LEVEL3_COL): ind.name,
                    (row_number, CRITERIA_COL): ind.criteria,
                }
            )
            base = f"{name}/{part.name}/{ind.level2}/{ind.name}"
            weight = FieldSpec(
                f"weight.{ind.key}",
                "分值",
                "score",
                derive=Derivation("constant", constant=ind.weight),
            )
            score = FieldSpec(
                f"score.{ind.key}",
                "自评得分",
                "score",
                required=True,
                minimum=0,
                maximum=ind.weight,
                rule=ind.rule,
                help=f"0 到 {ind.weight:g} 分",
            )
            reason = FieldSpec(
                f"reason.{ind.key}", "扣分原因", "text", help="得分低于分值时请写明扣分原因"
            )
            add(
                weight.key,
                weight,
                row_number,
                WEIGHT_COL,
                f"{base}/分值",
                indicator=ind.key,
                weight=ind.weight,
            )
            add(
                score.key,
                score,
                row_number,
                SCORE_COL,
                f"{base}/自评得分",
                indicator=ind.key,
                weight=ind.weight,
            )
            add(
                reason.key,
                reason,
                row_number,
                REASON_COL,
                f"{base}/扣分原因",
                indicator=ind.key,
                weight=ind.weight,
            )
            score_keys.append(score.key)
            weight_keys.append(weight.key)
            row_number += 1
        labels.update({(row_number, LEVEL1_COL): part.name, (row_number, LEVEL3_COL): "小计"})
        part_weight = sum(i.weight for i in part.indicators)
        add(
            f"subtotal_weight.{part.key}",
            FieldSpec(
                f"subtotal_weight.{part.key}",
                "分值小计",
                "score",
                derive=Derivation("sum", tuple(weight_keys)),
            ),
            row_number,
            WEIGHT_COL,
            f"{name}/{part.name}/小计/分值",
            weight=part_weight,
        )
        add(
            f"subtotal.{part.key}",
            FieldSpec(
                f"subtotal.{part.key}",
                "得分小计",
                "score",
                derive=Derivation("sum", tuple(score_keys)),
            ),
            row_number,
            SCORE_COL,
            f"{name}/{part.name}/小计/自评得分",
            weight=part_weight,
        )
        subtotal_keys.append(f"subtotal.{part.key}")
        subtotal_weight_keys.append(f"subtotal_weight.{part.key}")
        row_number += 1
    labels[(row_number, LEVEL1_COL)] = "总分"
    add(
        "total_weight",
        FieldSpec(
            "total_weight",
            "分值合计",
            "score",
            derive=Derivation("sum", tuple(subtotal_weight_keys)),
        ),
        row_number,
        WEIGHT_COL,
        f"{name}/总分/分值",
    )
    add(
        "total_score",
        FieldSpec("total_score", "总分", "score", derive=Derivation("sum", tuple(subtotal_keys))),
        row_number,
        SCORE_COL,
        f"{name}/总分/自评得分",
        weight=sheet.max_score + sheet.bonus_max,
    )
    row_number += 1
    labels[(row_number, LEVEL1_COL)] = "等级"
    add(
        "grade",
        FieldSpec(
            "grade",
            "等级",
            "choice",
            choices=tuple(g.name for g in sheet.grades),
            derive=Derivation("grade", ("total_score",)),
        ),
        row_number,
        SCORE_COL,
        f"{name}/等级",
    )
    return placed, SheetLayout(
        sheet, index, SCORING_HEADERS, (), row_number, len(SCORING_HEADERS), labels
    )


def scoring_sheet(spec: Spec) -> ScoringSheetSpec | None:
    return next((s for s in spec.sheets if isinstance(s, ScoringSheetSpec)), None)


@functools.lru_cache(maxsize=16)
def lay_out(spec: Spec) -> Layout:
    """Place every field of ``spec`` and check that each key it references exists.

    Raises:
        SpecError: duplicate keys or sheet names, unknown operands, metrics or check fields,
            more than one scoring sheet, or derivations that form a cycle.
    """
    source = spec.source or ""
    fields: list[PlacedField] = []
    sheets: list[SheetLayout] = []
    names: set[str] = set()
    for index, sheet in enumerate(spec.sheets):
        if sheet.name in names:
            raise SpecError(source, f"sheets[{index}].name", f"工作表名 {sheet.name} 重复")
        names.add(sheet.name)
        if isinstance(sheet, FormSheetSpec):
            placed, sheet_layout = _form(sheet, index)
        elif isinstance(sheet, TableSheetSpec):
            placed, sheet_layout = _table(sheet, index)
        else:
            placed, sheet_layout = _scoring(sheet, index)
        fields.extend(placed)
        sheets.append(sheet_layout)
    if sum(isinstance(s, ScoringSheetSpec) for s in spec.sheets) > 1:
        raise SpecError(source, "sheets", "一个模板只能有一张评分表（layout: scoring）")
    layout = Layout(spec, tuple(fields), tuple(sheets))
    keys = layout.by_key
    if len(keys) != len(fields):
        counts = Counter(f.key for f in fields)
        duplicate = next(key for key, count in counts.items() if count > 1)
        raise SpecError(source, duplicate, f"字段键 {duplicate} 重复")
    for field in fields:
        derive = field.spec.derive
        for operand in derive.operands if derive else ():
            if operand not in keys:
                raise SpecError(source, f"{field.key}.derive", f"引用了不存在的字段 {operand}")
        for operand in derive.alt_bases if derive else ():
            if operand not in keys:
                raise SpecError(
                    source, f"{field.key}.derive.alt_bases", f"引用了不存在的字段 {operand}"
                )
        if field.spec.rule and field.spec.rule.metric not in keys:
            raise SpecError(
                source, f"{field.key}.rule.metric", f"引用了不存在的字段 {field.spec.rule.metric}"
            )
    for index, check in enumerate(spec.checks):
        for operand in (check.left, check.right):
            if operand not in keys:
                raise SpecError(source, f"checks[{index}]", f"引用了不存在的字段 {operand}")
    layout.dependencies_first()  # raises on cycles
    return layout


@dataclass(frozen=True)
class SheetPlacement:
    """Where one template sheet stands in a workbook a unit has edited.

    Form and scoring sheets map template rows to workbook rows (``rows``); a table keeps its
    shape and moves as a block (``first_row``), grown or shrunk to the rows the unit left between
    its header and its 合计 row (``capacity``).
    """

    #: The sheet's name in the workbook.
    name: str
    #: Form and scoring sheets: template row_number → workbook row_number, for every template row
    #: found (a row missing here was deleted, e.g. a section heading).
    rows: Mapping[int, int] | None = None
    #: Workbook rows the unit inserted among the template's rows.
    inserted_rows: frozenset[int] = frozenset()
    #: Tables: the first body row, the rows between header and 合计, and the table rows
    #: (first, last) that the 合计 row adds up when that is not all of them.
    first_row: int = FIRST_BODY_ROW
    capacity: int | None = None
    summed: tuple[int, int] | None = None


def place_layout(layout: Layout, placements: Mapping[str, SheetPlacement]) -> Layout:
    """``layout`` as it stands in one workbook: sheets renamed, rows moved, tables resized.

    Sheets are laid out by the same code as the template, so every derived field's formula
    (``formulas.template_formulas``) reads as Excel shows it after the unit's edits.

    Args:
        placements: template sheet name → where it is; sheets not named stay where they are.
    """
    spec = layout.spec
    sheets: list[SheetSpec] = []
    fields: list[PlacedField] = []
    sheet_layouts: list[SheetLayout] = []
    for index, (sheet, template_layout) in enumerate(zip(spec.sheets, layout.sheets, strict=True)):
        placement = placements.get(sheet.name)
        if placement is None:
            sheets.append(sheet)
            sheet_layouts.append(template_layout)
            fields.extend(f for f in layout.fields if f.sheet_index == index)
            continue
        moved: SheetSpec = replace(sheet, name=placement.name)
        if isinstance(moved, TableSheetSpec):
            moved = replace(moved, capacity=placement.capacity or moved.capacity)
            placed, sheet_layout = _table(moved, index, placement.first_row, placement.summed)
        else:
            if isinstance(moved, FormSheetSpec):
                placed, sheet_layout = _form(moved, index)
            else:
                placed, sheet_layout = _scoring(moved, index)
            placed, sheet_layout = _move_rows(placed, sheet_layout, placement.rows or {})
        sheets.append(moved)
        fields.extend(placed)
        sheet_layouts.append(replace(sheet_layout, inserted_rows=placement.inserted_rows))
    return Layout(replace(spec, sheets=tuple(sheets)), tuple(fields), tuple(sheet_layouts))


def _move_rows(
    placed: list[PlacedField], sheet_layout: SheetLayout, rows: Mapping[int, int]
) -> tuple[list[PlacedField], SheetLayout]:
    """Fields and labels at the workbook rows their template rows went to."""

    def row_of(row_number: int) -> int:
        return rows.get(row_number, row_number)

    moved = [replace(f, row_number=row_of(f.row_number)) for f in placed]
    labels = {(row_of(r), c): text for (r, c), text in sheet_layout.labels.items()}
    sections = tuple((rows[r], title) for r, title in sheet_layout.sections if r in rows)
    last_row = max((row_of(r) for r in range(1, sheet_layout.last_row + 1)), default=0)
    return moved, replace(sheet_layout, labels=labels, sections=sections, last_row=last_row)
