"""The ``scoring`` kind: the 评分表 — parts (一级指标) of indicators with a fixed weight each, the
unit's self-score and deduction reason per indicator, 小计 per part, 总分 and 等级.

Rows are recognised in an edited workbook by the indicator names (or 小计) in the 三级指标
column, and 总分 / 等级 in the first column.
"""

from __future__ import annotations

import functools
from dataclasses import replace

from xlcheck.layout.fitting import BlockFit, Misfit, SheetView, cell_text, fit_from_rows, move_rows
from xlcheck.layout.model import BlockLayout, BlockPlacement, FixedCell, PlacedField
from xlcheck.layout.registry import Frame, register
from xlcheck.records import record
from xlcheck.spec.model import BlockSpec, Derivation, FieldSpec, ScoreRule
from xlcheck.spec.nodes import SpecNode, key, number, score_rule, text

#: The scoring sheet's columns, named for what they hold, with their default headers and widths.
COLUMNS = (
    ("level1", "一级指标", 12.0),
    ("level2", "二级指标", 12.0),
    ("level3", "三级指标", 22.0),
    ("weight", "分值", 8.0),
    # Wide enough for most criteria on one line: the 评分表 then prints on one landscape page.
    ("criteria", "评分标准", 66.0),
    ("score", "自评得分", 10.0),
    ("reason", "扣分原因", 30.0),
)
LEVEL1_COL, LEVEL2_COL, LEVEL3_COL, WEIGHT_COL, CRITERIA_COL, SCORE_COL, REASON_COL = range(1, 8)


@record
class Indicator:
    key: str
    level2: str
    name: str
    weight: float
    criteria: str
    rule: ScoreRule | None = None


@record
class Part:
    key: str
    name: str
    indicators: tuple[Indicator, ...]


@record
class ScoringBlock(BlockSpec):
    parts: tuple[Part, ...] = ()
    #: Column headers by column name (一级指标 …), when a bureau prints other words.
    headers: tuple[tuple[str, str], ...] = ()
    #: Put before the generated keys (``score.<indicator>`` …) when a spec has several blocks.
    key: str = ""

    def header(self, column: str) -> str:
        default = next(h for name, h, _ in COLUMNS if name == column)
        return dict(self.headers).get(column, default)


def _indicator(node: SpecNode) -> Indicator:
    node.mapping({"key", "level2", "name", "weight", "criteria", "rule"})
    weight = node.need("weight", number)
    if weight < 0:
        raise node.child("weight").fail("分值不能为负")
    return Indicator(
        key=node.need("key", key),
        level2=node.need("level2", text),
        name=node.need("name", text),
        weight=weight,
        criteria=node.get("criteria", text, ""),
        rule=node.get("rule", score_rule, None),
    )


def _headers(node: SpecNode) -> tuple[tuple[str, str], ...]:
    node.mapping({name for name, _, _ in COLUMNS})
    return tuple((name, text(node.child(name))) for name, _, _ in COLUMNS if node.has(name))


@record
class ScoringLayout(BlockLayout):
    """A score table placed on its sheet."""

    @functools.cached_property
    def row_items(self) -> tuple[FixedCell, ...]:
        """The cell identifying each body row: the indicator name (or 小计), else 总分 / 等级.

        Relocation looks for them in every workbook of a batch; a template's block is made once.
        """
        by_row: dict[int, dict[int, FixedCell]] = {}
        for cell in self.cells:
            if cell.style != "header":
                by_row.setdefault(cell.row_number, {})[cell.column_number] = cell
        items = []
        for row in sorted(by_row):
            found = by_row[row].get(LEVEL3_COL) or by_row[row].get(LEVEL1_COL)
            if found is not None:
                items.append(found)
        return tuple(items)


class ScoringKind:
    name = "scoring"
    spec_keys = frozenset({"parts", "headers", "key"})

    def parse(self, node: SpecNode) -> ScoringBlock:
        parts = []
        for part in node.need("parts", lambda n: n.items()):
            part.mapping({"key", "name", "indicators"})
            indicators = tuple(_indicator(i) for i in part.need("indicators", lambda n: n.items()))
            parts.append(Part(part.need("key", key), part.need("name", text), indicators))
        return ScoringBlock(
            self.name,
            node.get("title", text, ""),
            parts=tuple(parts),
            headers=node.get("headers", _headers, ()),
            key=node.get("key", key, ""),
        )

    def lay_out(
        self, block: BlockSpec, frame: Frame, placement: BlockPlacement | None
    ) -> BlockLayout:
        assert isinstance(block, ScoringBlock)
        grading = frame.grading
        prefix = frame.key_prefix + (f"{block.key}." if block.key else "")
        name = frame.sheet
        header_row = frame.first_row
        cells = [
            FixedCell(header_row, n, block.header(column), "header")
            for n, (column, _, _) in enumerate(COLUMNS, 1)
        ]
        fields: list[PlacedField] = []

        def add(
            key_: str, spec: FieldSpec, row: int, column: int, path: str, **extra: object
        ) -> None:
            fields.append(
                PlacedField(
                    prefix + key_,
                    spec,
                    name,
                    frame.sheet_index,
                    row,
                    column,
                    path,
                    **extra,  # type: ignore[arg-type]
                )
            )

        row_number = header_row + 1
        subtotal_keys: list[str] = []
        subtotal_weight_keys: list[str] = []
        for part in block.parts:
            score_keys: list[str] = []
            weight_keys: list[str] = []
            for ind in part.indicators:
                cells += [
                    FixedCell(row_number, LEVEL1_COL, part.name, "label"),
                    FixedCell(row_number, LEVEL2_COL, ind.level2, "label"),
                    FixedCell(row_number, LEVEL3_COL, ind.name, "label"),
                    FixedCell(row_number, CRITERIA_COL, ind.criteria, "text"),
                ]
                base = f"{name}/{part.name}/{ind.level2}/{ind.name}"
                scored = {"group": prefix + ind.key, "weight": ind.weight}
                rule = ind.rule
                if rule is not None and frame.key_prefix and rule.metric in frame.sheet_keys:
                    rule = replace(rule, metric=frame.key(rule.metric))
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
                    rule=rule,
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
                    role="weight",
                    **scored,
                )
                add(
                    score.key,
                    score,
                    row_number,
                    SCORE_COL,
                    f"{base}/自评得分",
                    role="score",
                    **scored,
                )
                add(
                    reason.key,
                    reason,
                    row_number,
                    REASON_COL,
                    f"{base}/扣分原因",
                    role="reason",
                    **scored,
                )
                score_keys.append(prefix + score.key)
                weight_keys.append(prefix + weight.key)
                row_number += 1
            cells += [
                FixedCell(row_number, LEVEL1_COL, part.name, "label"),
                FixedCell(row_number, LEVEL3_COL, "小计", "total"),
            ]
            part_weight = sum(i.weight for i in part.indicators)
            for key_, label, operands, column, role in (
                (
                    f"subtotal_weight.{part.key}",
                    "分值小计",
                    weight_keys,
                    WEIGHT_COL,
                    "subtotal_weight",
                ),
                (f"subtotal.{part.key}", "得分小计", score_keys, SCORE_COL, "subtotal"),
            ):
                add(
                    key_,
                    FieldSpec(key_, label, "score", derive=Derivation("sum", tuple(operands))),
                    row_number,
                    column,
                    f"{name}/{part.name}/小计/{'分值' if column == WEIGHT_COL else '自评得分'}",
                    weight=part_weight,
                    role=role,
                    emphasis=True,
                )
            subtotal_keys.append(f"{prefix}subtotal.{part.key}")
            subtotal_weight_keys.append(f"{prefix}subtotal_weight.{part.key}")
            row_number += 1
        cells.append(FixedCell(row_number, LEVEL1_COL, "总分", "total"))
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
            role="total_weight",
            emphasis=True,
        )
        add(
            "total_score",
            FieldSpec(
                "total_score", "总分", "score", derive=Derivation("sum", tuple(subtotal_keys))
            ),
            row_number,
            SCORE_COL,
            f"{name}/总分/自评得分",
            weight=grading.max_score + grading.bonus_max,
            role="total_score",
            emphasis=True,
        )
        row_number += 1
        cells.append(FixedCell(row_number, LEVEL1_COL, "等级", "total"))
        add(
            "grade",
            FieldSpec(
                "grade",
                "等级",
                "choice",
                choices=tuple(g.name for g in grading.grades),
                derive=Derivation("grade", (prefix + "total_score",)),
            ),
            row_number,
            SCORE_COL,
            f"{name}/等级",
            role="grade",
            emphasis=True,
        )
        laid = ScoringLayout(
            self.name,
            block,
            0,
            header_row,
            row_number,
            tuple(fields),
            tuple(cells),
            tuple(width for _, _, width in COLUMNS),
            header_rows=(header_row, header_row),
            frozen_columns=LEVEL3_COL,
            landscape=True,
        )
        return move_rows(laid, placement) if placement is not None else laid

    def fit(self, laid: BlockLayout, view: SheetView, start_row: int) -> BlockFit | Misfit:
        assert isinstance(laid, ScoringLayout)
        headers = [c.text for c in laid.cells_by_style.get("header", ())]
        found_header = view.find_row(headers, start_row)
        rows: dict[int, int] = {}
        if found_header is not None:
            rows[laid.first_row] = found_header
        cursor = (found_header or start_row - 1) + 1
        items = laid.row_items
        for cell in items:
            found = view.find_in_column(cell.column_number, cell_text(cell.text), cursor)
            if found is None:
                return Misfit(cell.row_number, cell.column_number, cell.text)
            rows[cell.row_number] = found
            cursor = found + 1
        expected = {c.row_number for c in items}
        return fit_from_rows(
            laid, view, rows, expected | ({laid.first_row} if found_header else set())
        )


register(ScoringKind())
