"""The 自查 sheet: generated from the spec and laid out after the spec's own sheets, one row per
live check a workbook can run on itself while a unit types (what it checks, and a formula that
shows 通过 or what is wrong).

Each result cell is a derived field whose derivation has the verb ``self_check``: its operands
are the fields (and numbers) the check reads, ``constant`` names the check. ``xlcheck.live_checks``
writes its formula, and verify expects exactly that formula, so a 自查 formula a unit altered is an
ordinary ``formula-altered`` finding. Its text result is not recomputed (see ``live_checks``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from xlcheck.layout.indicator_spec import IndicatorsBlock
from xlcheck.layout.indicators import IndicatorsLayout
from xlcheck.layout.model import BlockLayout, FixedCell, PlacedField, SheetLayout
from xlcheck.records import record
from xlcheck.spec.model import BlockSpec, CheckSpec, Derivation, FieldSpec, SheetSpec, Spec

#: The sheet's name (another is chosen if a spec sheet already has it).
SHEET_NAME = "自查"
SELF_CHECK_VERB = "self_check"
#: What a result field is to the rules: only its formula is checked.
SELF_CHECK_ROLE = "self_check"
TITLE_ROW, NOTE_ROW, HEADER_ROW = 1, 2, 3
NOTE = (
    "本表由公式自动检查本工作簿，无需填写：“通过”表示相符，“未填写”表示相关单元格还空着，"
    "其他文字说明哪里不符。表上标红的单元格也是这些问题。报送前请逐项核对；"
    "财政局以 xlcheck 重新计算的结果为准。"
)
HEADERS = (("序号", 6.0), ("检查内容", 58.0), ("结果", 58.0))


@record
class PlannedCheck:
    """One row of the 自查 sheet before it is placed."""

    key: str
    description: str
    kind: str
    operands: tuple[str | float, ...]


def _where(placed: PlacedField) -> str:
    return f"{placed.sheet}：{placed.short_label}"


def _in_words(derive: Derivation, by_key: dict[str, PlacedField]) -> str:
    """A derivation as a reader says it: 上年结余 + 实际收入, 实际支出 ÷ 预算数."""
    keys = [o for o in derive.operands if isinstance(o, str)]
    labels = {k: by_key[k].short_label for k in keys}
    if len(set(labels.values())) < len(labels):
        # Alike labels (four 小计自评得分): name each by the heading it stands under.
        labels = {k: by_key[k].label_path.split("/")[1] + by_key[k].short_label for k in keys}

    def name(operand: object) -> str:
        if isinstance(operand, str):
            return labels[operand]
        if isinstance(operand, Derivation):
            return f"（{_in_words(operand, by_key)}）"
        return f"{operand:g}" if isinstance(operand, float) else str(operand)

    names = [name(o) for o in derive.operands]
    if derive.verb == "sum":
        if len(names) > 3:
            return f"{names[0]} + … + {names[-1]}（{len(names)} 项之和）"
        return " + ".join(names)
    signs = {"difference": " − ", "product": " × ", "ratio": " ÷ "}
    if derive.verb in signs:
        return signs[derive.verb].join(names)
    if derive.verb == "copy":
        return f"所填的{names[0]}"
    return f"{derive.verb}({'，'.join(names)})"


def _fixed(key: str, by_key: dict[str, PlacedField], seen: frozenset[str] = frozenset()) -> bool:
    """A fixed value (分值) or a sum of fixed values: nothing a unit fills changes it."""
    derive = by_key[key].spec.derive
    if derive is None or key in seen:  # a cycle: the spec loader reports it
        return False
    if derive.verb == "constant":
        return True
    return derive.verb == "sum" and all(
        isinstance(o, str) and o in by_key and _fixed(o, by_key, seen | {key})
        for o in derive.operands
    )


def _derived_checks(fields: Sequence[PlacedField]) -> Iterator[PlannedCheck]:
    """Each total, subtotal, ratio and score formula against what its parts give (where a unit
    can type over it); a table's own rows are left to the cells' conditional formatting."""
    by_key = {f.key: f for f in fields}
    for placed in fields:
        derive = placed.spec.derive
        if (
            derive is None
            or derive.verb in ("constant", "grade", SELF_CHECK_VERB)
            or (placed.table_row or 0) > 0
            or any(k not in by_key for k in derive.field_keys())
            or _fixed(placed.key, by_key)
        ):
            continue
        yield PlannedCheck(
            f"check.formula.{placed.key}",
            f"{_where(placed)} = {_in_words(derive, by_key)}",
            "formula",
            (placed.key,),
        )


def _spec_checks(spec: Spec, by_key: dict[str, PlacedField]) -> Iterator[PlannedCheck]:
    """The checks the spec declares, once per pair of fields (per sheet written once per item)."""
    for number, check in enumerate(spec.checks, 1):
        for index, (left, right) in enumerate(_check_pairs(check, by_key), 1):
            suffix = f"[{index}]" if index > 1 else ""
            key = f"check.spec{number}{suffix}"
            planned = _spec_check(key, check, left, right, spec, by_key)
            if planned is not None:
                yield planned


def _instances(key: str, by_key: dict[str, PlacedField]) -> list[str]:
    if key in by_key:
        return [key]
    return [k for k in by_key if k.endswith("]." + key) and k.split("].", 1)[1] == key]


def _check_pairs(check: CheckSpec, by_key: dict[str, PlacedField]) -> list[tuple[str, str]]:
    if check.relation == "row_count":
        return [(check.left, stated) for stated in _instances(check.right, by_key)]
    lefts = _instances(check.left, by_key)
    if check.relation not in ("equal", "at_most"):
        return [(left, "") for left in lefts]
    rights = _instances(check.right, by_key)
    if len(lefts) == len(rights):
        return list(zip(lefts, rights, strict=True))
    if len(lefts) == 1:
        return [(lefts[0], r) for r in rights]
    if len(rights) == 1:
        return [(left, rights[0]) for left in lefts]
    return []


def _spec_check(
    key: str,
    check: CheckSpec,
    left: str,
    right: str,
    spec: Spec,
    by_key: dict[str, PlacedField],
) -> PlannedCheck | None:
    if check.relation in ("equal", "at_most"):
        sign = "=" if check.relation == "equal" else "≤"
        a, b = by_key[left], by_key[right]
        words = f"{a.sheet}“{a.short_label}” {sign} {b.sheet}“{b.short_label}”"
        return PlannedCheck(key, words, check.relation, (left, right))
    if check.relation == "row_count":
        stated = by_key[right]
        prefix = right[: len(right) - len(check.right)]
        table = prefix + check.left
        columns = [
            f.key for f in by_key.values() if f.table == table and f.table_row and f.is_input
        ]
        if not columns:
            return None
        return PlannedCheck(
            key,
            f"{_where(stated)} 与“{stated.sheet}”表中填写的行数相符",
            "row_count",
            (right, *columns),
        )
    date = by_key[left]
    year_key = spec.role("year")
    year_fields: tuple[str, ...] = ()
    if year_key is not None:
        own = left[: len(left) - len(check.left)] + year_key
        year_fields = (own,) if own in by_key else tuple(_instances(year_key, by_key)[:1])
    if check.relation == "year_end":
        words = f"{_where(date)} 是评价年度的 12 月 31 日"
    elif check.offset:
        words = f"{_where(date)} 在评价年度的下一年"
    else:
        words = f"{_where(date)} 在评价年度内"
    return PlannedCheck(
        key, words, check.relation, (left, *year_fields, float(spec.year), float(check.offset))
    )


def _adjacent(above: PlacedField, below: PlacedField, inserted: frozenset[int]) -> bool:
    """Whether two cells stand one above the other with only rows a unit inserted between
    (Excel grows a range over rows inserted inside it, so the 自查 rows stay the template's)."""
    return (
        below.sheet == above.sheet
        and below.column_number == above.column_number
        and below.row_number > above.row_number
        and all(r in inserted for r in range(above.row_number + 1, below.row_number))
    )


def _score_runs(
    fields: Sequence[PlacedField], inserted: dict[str, frozenset[int]]
) -> Iterator[list[PlacedField]]:
    """Scores with a weight, in runs of adjacent rows of one column (a 评分表 part, an indicator
    table), split where a row between holds no score (小计)."""
    run: list[PlacedField] = []
    for placed in fields:
        if placed.role != "score":
            continue
        if run and not _adjacent(run[-1], placed, inserted.get(placed.sheet, frozenset())):
            yield run
            run = []
        run.append(placed)
    if run:
        yield run


def _score_checks(
    fields: Sequence[PlacedField], inserted: dict[str, frozenset[int]]
) -> Iterator[PlannedCheck]:
    weights = {f.group: f for f in fields if f.role == "weight" and f.group}
    for run in _score_runs(fields, inserted):
        operands: list[str | float] = []
        for score in run:
            weight = weights.get(score.group) if score.group else None
            if weight is not None:
                operands += [score.key, weight.key]
            elif score.weight is not None:
                operands += [score.key, score.weight]
        if not operands:
            continue
        paths = [f.label_path.split("/")[1:-1] for f in run]
        common = [p[0] for p in zip(*paths, strict=False) if len(set(p)) == 1]
        name = common[-1] if common else run[0].short_label
        yield PlannedCheck(
            f"check.scores.{run[0].key}",
            f"{run[0].sheet}：{name} 各项得分不超过分值",
            "scores",
            tuple(operands),
        )


def _total_checks(spec: Spec, fields: Sequence[PlacedField]) -> Iterator[PlannedCheck]:
    grading = spec.grading
    maximum = grading.max_score + grading.bonus_max
    for placed in fields:
        if placed.role == "total_score":
            yield PlannedCheck(
                f"check.maximum.{placed.key}",
                f"{placed.sheet}：总分不超过满分 {maximum:g} 分",
                "maximum",
                (placed.key, maximum),
            )
        derive = placed.spec.derive
        if derive is not None and derive.verb == "grade" and derive.field_keys():
            yield PlannedCheck(
                f"check.grade.{placed.key}",
                f"{placed.sheet}：等级与总分相符（{grading.bands_text()}）",
                "grade",
                (placed.key, derive.field_keys()[0]),
            )


def _weight_checks(spec: Spec, sheets: Sequence[SheetLayout]) -> Iterator[PlannedCheck]:
    """Indicator tables whose 分值 the unit writes: each 一级's rows add up to its weight, and
    all 分值 on the sheet to the maximum."""
    for sheet in sheets:
        tables = [b for b in sheet.blocks if isinstance(b, IndicatorsLayout)]
        for block in tables:
            assert isinstance(block.spec, IndicatorsBlock)
            weights = {f.group: f.key for f in block.fields if f.role == "weight"}
            for level in block.spec.levels:
                keys = [
                    weights[g] for g, lv in block.row_levels if lv == level.key and g in weights
                ]
                if level.weight is None or not keys:
                    continue
                yield PlannedCheck(
                    f"check.weights.{sheet.key_prefix}{block.spec.key}.{level.key}",
                    f"{sheet.name}：{level.name}各行分值合计为 {level.weight:g} 分",
                    "weights",
                    (*keys, level.weight),
                )
        if tables:
            every = [f.key for b in sheet.blocks for f in b.fields if f.role == "weight"]
            maximum = spec.grading.max_score
            yield PlannedCheck(
                f"check.weights.{sheet.key_prefix}total",
                f"{sheet.name}：全部分值合计为满分 {maximum:g} 分",
                "weights",
                (*every, maximum),
            )


def planned_checks(spec: Spec, sheets: Sequence[SheetLayout]) -> list[PlannedCheck]:
    """Every row of the 自查 sheet, sheet by sheet as the workbook has them."""
    fields = [f for s in sheets for b in s.blocks for f in b.fields]
    by_key = {f.key: f for f in fields}
    planned = [
        *_derived_checks(fields),
        *_score_checks(fields, {s.name: s.inserted_rows for s in sheets}),
        *_total_checks(spec, fields),
        *_weight_checks(spec, sheets),
        *_spec_checks(spec, by_key),
    ]
    order = {s.name: s.index for s in sheets}

    def position(check: PlannedCheck) -> tuple[int, int]:
        first = next((by_key[o] for o in check.operands if isinstance(o, str)), None)
        return (order.get(first.sheet, 0), first.row_number) if first else (0, 0)

    return sorted(planned, key=position)


def _free_name(sheets: Sequence[SheetLayout]) -> str:
    taken = {s.name for s in sheets}
    name, number = SHEET_NAME, 1
    while name in taken:
        number += 1
        name = f"{SHEET_NAME}{number}"
    return name


def lay_out_self_check(spec: Spec, sheets: Sequence[SheetLayout]) -> SheetLayout | None:
    """The 自查 sheet after ``sheets`` (None when there is nothing to check)."""
    checks = planned_checks(spec, sheets)
    if not checks:
        return None
    name = _free_name(sheets)
    index = len(sheets)
    cells = [
        FixedCell(HEADER_ROW, column, header, "header")
        for column, (header, _) in enumerate(HEADERS, 1)
    ]
    fields: list[PlacedField] = []
    for number, check in enumerate(checks, 1):
        row = HEADER_ROW + number
        cells += [
            FixedCell(row, 1, str(number), "label"),
            FixedCell(row, 2, check.description, "label"),
        ]
        derive = Derivation(SELF_CHECK_VERB, check.operands, constant=check.kind)
        # No label of its own: nothing a report names (the description is in the label path).
        result = FieldSpec(check.key, "", "text", derive=derive)
        fields.append(
            PlacedField(
                check.key,
                result,
                name,
                index,
                row,
                3,
                f"{name}/{check.description}",
                role=SELF_CHECK_ROLE,
            )
        )
    last_row = HEADER_ROW + len(checks)
    block = BlockLayout(
        SELF_CHECK_VERB,
        BlockSpec(SELF_CHECK_VERB),
        0,
        HEADER_ROW,
        last_row,
        tuple(fields),
        tuple(cells),
        tuple(width for _, width in HEADERS),
        header_rows=(HEADER_ROW, HEADER_ROW),
    )
    title = f"{spec.title} 自查"
    every = [
        FixedCell(TITLE_ROW, 1, title, "title", columns=len(HEADERS)),
        FixedCell(NOTE_ROW, 1, NOTE, "note", columns=len(HEADERS)),
        *cells,
    ]
    return SheetLayout(
        SheetSpec(name, title, (block.spec,), note=NOTE),
        index,
        (block,),
        tuple(every),
        block.widths,
        last_row,
        len(HEADERS),
        print_title_rows=(TITLE_ROW, HEADER_ROW),
        frozen=(HEADER_ROW, 0),
        generated=True,
    )
