"""Live checks inside the workbook: the formula of each 自查 row (通过, 未填写, or what is wrong
and by how much); ``live_marks`` marks the same problems on the cells themselves.

Both are plain Excel formulas that Excel, WPS and LibreOffice evaluate as a unit types (IF, AND,
OR, N, ROUND, FIXED, COUNT, SUM, SUMPRODUCT, ISNUMBER, LEN, YEAR, DATE, IFERROR); the conditional
formats reference other sheets, which Excel allows from 2010 on.

``verify`` stays the authority: it compares each 自查 formula's text with the one written here
(an altered one is ``formula-altered``) but does not recompute the text results. They say the
same as the findings verify reports at the cells themselves, and their wording depends on how the
app formats numbers (FIXED follows the locale's separators), so comparing them would only
report the same problem twice, or a difference of format.
"""

from __future__ import annotations

import dataclasses

from xlcheck.derivation_formulas import (
    adjacent_rows,
    cell_reference,
    count_terms,
    expression,
    grade_formula,
)
from xlcheck.layout import Layout, PlacedField
from xlcheck.spec import Grade

#: What a check shows while the cells it reads are empty.
NOT_FILLED = '"未填写"'
PASSED = '"通过"'


def number_text(value: float) -> str:
    """A number as a formula writes it: 100, 0.5."""
    return f"{value:g}"


class CheckWriter:
    """Formula text for one sheet (``home``): references, shown values, the checks' pieces."""

    def __init__(self, layout: Layout, home: str, grades: tuple[Grade, ...]) -> None:
        self.layout = layout
        self.home = home
        self.grades = grades

    def ref(self, key: str) -> str:
        return cell_reference(self.layout.by_key[key], self.home)

    def terms(self, keys: tuple[str, ...]) -> str:
        return count_terms(keys, self.layout, self.home)

    def below(self, above: str, key: str) -> bool:
        """Whether ``key``'s cell is the next one down from ``above``'s (rows a unit inserted
        between aside), so that both fall in one range."""
        first, second = self.layout.by_key[above], self.layout.by_key[key]
        return (
            first.sheet == second.sheet
            and first.column_number == second.column_number
            and adjacent_rows(first.row_number, second.row_number, self.layout, first.sheet)
        )

    def decimals(self, *keys: str) -> int:
        found = [self.layout.by_key[k].spec.decimals for k in keys]
        return min((d for d in found if d is not None), default=2)

    def shown(self, number: str, key: str) -> str:
        """A number as the field shows it: 99.72%, 1,131.12 万元, 5.00 分."""
        spec = self.layout.by_key[key].spec
        decimals = spec.decimals if spec.decimals is not None else 2
        if spec.value_type == "percent":
            return f'FIXED({number}*100,{max(decimals - 2, 0)})&"%"'
        unit = " 分" if spec.value_type == "score" else f" {spec.unit}" if spec.unit else ""
        text = f"FIXED({number},{decimals})"
        return f'{text}&"{unit}"' if unit else text

    def computed(self, key: str) -> str:
        """What a derived field's own formula gives, written on this sheet (without the guard
        that leaves it blank: N() of either is the same)."""
        target = self.layout.by_key[key]
        derive = target.spec.derive
        assert derive is not None
        here = dataclasses.replace(target, sheet=self.home)
        return expression(derive, here, self.layout, self.grades)

    def grade_accepted(self, grade: str, total: str) -> str:
        """True where the typed grade is the one the total earns (an alias such as 优秀 too)."""
        accepted = f'{grade}=""'
        for band in reversed(self.grades):
            names = ",".join(f'{grade}="{n}"' for n in (band.name, *band.aliases))
            test = f"OR({names})"
            accepted = (
                test
                if band is self.grades[-1]
                else (f"IF(N({total})>={band.minimum:g},{test},{accepted})")
            )
        return f'IF(N({total})=0,{grade}="",{accepted})'


def _formula_check(w: CheckWriter, key: str) -> str:
    cell, computed = w.ref(key), w.computed(key)
    spec = w.layout.by_key[key].spec
    if spec.value_type in ("text", "choice", "date"):
        return (
            f'IF(AND({cell}="",{computed}=""),{NOT_FILLED},IF({cell}={computed},{PASSED},'
            f'"表上为“"&{cell}&"”，应为“"&{computed}&"”"))'
        )
    d = w.decimals(key)
    expected = w.shown(f"N({computed})", key)
    return (
        f'IF({cell}="",IF(N({computed})=0,{NOT_FILLED},"表上为空，按公式应为 "&{expected}),'
        f"IF(ISNUMBER({cell}),IF(ROUND({cell},{d})=ROUND(N({computed}),{d}),{PASSED},"
        f'"表上为 "&{w.shown(cell, key)}&"，按公式应为 "&{expected}),'
        f'"表上为文字“"&{cell}&"”，按公式应为 "&{expected}))'
    )


def _relation_check(w: CheckWriter, kind: str, left: str, right: str) -> str:
    a, b = w.ref(left), w.ref(right)
    d = w.decimals(left, right)
    # Labels only, no sheet names: a unit may rename a sheet (Excel then updates the
    # references, not the text), and the 自查 row's description names the sheets.
    named_a = f"“{w.layout.by_key[left].short_label}”"
    named_b = f"“{w.layout.by_key[right].short_label}”"
    shown_a, shown_b = w.shown(f"N({a})", left), w.shown(f"N({b})", right)
    gap = w.shown(f"N({a})-N({b})", left)
    if kind == "equal":
        passes = f"ROUND(N({a}),{d})=ROUND(N({b}),{d})"
        message = f'"{named_a} "&{shown_a}&"，{named_b} "&{shown_b}&"，相差 "&{gap}'
    else:
        passes = f"ROUND(N({a}),{d})<=ROUND(N({b}),{d})"
        message = f'"{named_a} "&{shown_a}&" 超过了{named_b} "&{shown_b}&"，多 "&{gap}'
    return f'IF(AND({a}="",{b}=""),{NOT_FILLED},IF({passes},{PASSED},{message}))'


def _year(w: CheckWriter, operands: tuple[str | float, ...]) -> str:
    """The evaluated year: the workbook's year field when it holds one, else the spec's."""
    numbers = [o for o in operands if isinstance(o, float)]
    spec_year = number_text(numbers[0])
    keys = [o for o in operands if isinstance(o, str)]
    if len(keys) < 2:
        return spec_year
    year = w.ref(keys[1])
    return f"IF(N({year})>1900,N({year}),{spec_year})"


def _date_check(w: CheckWriter, kind: str, operands: tuple[str | float, ...]) -> str:
    date = w.ref(str(operands[0]))
    year = _year(w, operands)
    if kind == "year_end":
        test = f"{date}=DATE({year},12,31)"
        message = f'"应为 "&{year}&" 年 12 月 31 日"'
    else:
        offset = [o for o in operands if isinstance(o, float)][1]
        wanted = f"({year}+{number_text(offset)})" if offset else year
        test = f"YEAR({date})={wanted}"
        message = f'"日期在 "&YEAR({date})&" 年，应在 "&{wanted}&" 年"'
    return f'IF({date}="",{NOT_FILLED},IFERROR(IF({test},{PASSED},{message}),"不是日期"))'


def _column_ranges(w: CheckWriter, keys: list[str]) -> list[str]:
    """The cells of ``keys`` as one range per column (a table's body, column by column)."""
    by_column: dict[int, list[str]] = {}
    for key in keys:
        by_column.setdefault(w.layout.by_key[key].column_number, []).append(key)
    return [w.terms(tuple(column)) for column in by_column.values()]


def _row_count_check(w: CheckWriter, operands: tuple[str | float, ...]) -> str:
    stated, *columns = [str(o) for o in operands]
    cell = w.ref(stated)
    joined = "&".join(_column_ranges(w, columns))
    count = f"SUMPRODUCT(--(LEN({joined})>0))"
    return (
        f'IF({cell}="",{NOT_FILLED},IF(N({cell})={count},{PASSED},'
        f'"写的是 "&{cell}&" 个，表中填了 "&{count}&" 行"))'
    )


def score_pairs(operands: tuple[str | float, ...]) -> list[tuple[str, str | float]]:
    return [(str(operands[i]), operands[i + 1]) for i in range(0, len(operands), 2)]


def weighed_runs(
    w: CheckWriter, pairs: list[tuple[str, str | float]]
) -> tuple[list[list[tuple[str, str]]], list[tuple[str, float]]]:
    """Scores and their weight cells in runs of rows (one range each), and scores whose weight
    is a fixed number."""
    runs: list[list[tuple[str, str]]] = []
    fixed: list[tuple[str, float]] = []
    for score, weight in pairs:
        if isinstance(weight, float):
            fixed.append((score, weight))
            continue
        last = runs[-1][-1] if runs else None
        if last is not None and w.below(last[0], score) and w.below(last[1], weight):
            runs[-1].append((score, weight))
        else:
            runs.append([(score, weight)])
    return runs, fixed


def _over_weight(w: CheckWriter, pairs: list[tuple[str, str | float]]) -> str:
    """How many scores are above their weights: SUMPRODUCT over runs of rows, else cell by cell."""
    runs, fixed = weighed_runs(w, pairs)
    terms = [f"ISNUMBER({w.ref(s)})*({w.ref(s)}>{number_text(limit)})" for s, limit in fixed]
    for run in runs:
        scores = w.terms(tuple(s for s, _ in run))
        weights = w.terms(tuple(g for _, g in run))
        if len(run) == 1:
            terms.append(f"ISNUMBER({scores})*({scores}>{weights})")
        else:
            terms.append(f"SUMPRODUCT(ISNUMBER({scores})*({scores}>{weights}))")
    return "+".join(terms)


def _scores_check(w: CheckWriter, operands: tuple[str | float, ...]) -> str:
    pairs = score_pairs(operands)
    over = _over_weight(w, pairs)
    scores = w.terms(tuple(s for s, _ in pairs))
    return (
        f"IF(COUNT({scores})=0,{NOT_FILLED},IF(({over})=0,{PASSED},"
        f'"有 "&({over})&" 项得分超过分值"))'
    )


def _maximum_check(w: CheckWriter, total: str, maximum: float) -> str:
    cell, most = w.ref(total), number_text(maximum)
    return (
        f'IF({cell}="",{NOT_FILLED},IF(ROUND(N({cell}),2)<={most},{PASSED},'
        f'"总分 "&FIXED(N({cell}),2)&" 超过满分 {most} 分"))'
    )


def _grade_check(w: CheckWriter, grade: str, total: str) -> str:
    typed, score = w.ref(grade), w.ref(total)
    earned = grade_formula(score, w.grades)
    return (
        f'IF(AND({typed}="",N({score})=0),{NOT_FILLED},'
        f"IF({w.grade_accepted(typed, score)},{PASSED},"
        f'"等级为“"&{typed}&"”，总分 "&FIXED(N({score}),2)&" 应为“"&{earned}&"”"))'
    )


def _weights_check(w: CheckWriter, operands: tuple[str | float, ...]) -> str:
    keys = tuple(str(o) for o in operands if isinstance(o, str))
    wanted = number_text(float(operands[-1]))
    typed = tuple(k for k in keys if w.layout.by_key[k].is_input) or keys
    total = f"SUM({w.terms(keys)})"
    return (
        f"IF(COUNT({w.terms(typed)})=0,{NOT_FILLED},IF(ROUND({total},2)={wanted},{PASSED},"
        f'"分值合计 "&FIXED({total},2)&" 分，应为 {wanted} 分"))'
    )


def check_formula(placed: PlacedField, layout: Layout, grades: tuple[Grade, ...]) -> str:
    """The formula (without ``=``) of one 自查 result cell."""
    derive = placed.spec.derive
    assert derive is not None
    kind, operands = str(derive.constant), derive.operands
    plain = tuple(o for o in operands if isinstance(o, str | float))
    w = CheckWriter(layout, placed.sheet, grades)
    if kind == "formula":
        return _formula_check(w, str(plain[0]))
    if kind in ("equal", "at_most"):
        return _relation_check(w, kind, str(plain[0]), str(plain[1]))
    if kind in ("year_of", "year_end"):
        return _date_check(w, kind, plain)
    if kind == "row_count":
        return _row_count_check(w, plain)
    if kind == "scores":
        return _scores_check(w, plain)
    if kind == "maximum":
        return _maximum_check(w, str(plain[0]), float(plain[1]))
    if kind == "grade":
        return _grade_check(w, str(plain[0]), str(plain[1]))
    if kind == "weights":
        return _weights_check(w, plain)
    raise AssertionError(f"unknown live check {kind}")
