"""The Excel formula text of one derivation: cell references, ranges, and the blank guard."""

from __future__ import annotations

from xlcheck.findings import column_letters
from xlcheck.layout import Layout, PlacedField
from xlcheck.recompute import blank_guard, may_be_blank
from xlcheck.spec import Derivation, Grade, Operand


def _reference(target: PlacedField, home_sheet: str) -> str:
    cell = f"{column_letters(target.column_number)}{target.row_number}"
    if target.sheet == home_sheet:
        return cell
    return "'{}'!{}".format(target.sheet.replace("'", "''"), cell)


def _sum_terms(fields: list[PlacedField], layout: Layout, home_sheet: str) -> list[str]:
    """Operands as ranges where they stand in one unbroken column run, else single cells.

    Rows a unit inserted inside a run do not break it: Excel grows ``SUM(B5:B14)`` to
    ``SUM(B5:B15)`` when a row is inserted within the range.
    """
    terms: list[str] = []
    run: list[PlacedField] = []

    def flush() -> None:
        if not run:
            return
        if len(run) == 1:
            terms.append(_reference(run[0], home_sheet))
        else:
            start, end = _reference(run[0], home_sheet), _reference(run[-1], home_sheet)
            terms.append(f"{start}:{end.split('!')[-1]}")
        run.clear()

    for placed in fields:
        if run and (
            placed.sheet != run[-1].sheet
            or placed.column_number != run[-1].column_number
            or not adjacent_rows(run[-1].row_number, placed.row_number, layout, placed.sheet)
        ):
            flush()
        run.append(placed)
    flush()
    return terms


def adjacent_rows(row_number: int, next_row_number: int, layout: Layout, sheet: str) -> bool:
    """Whether only rows the unit inserted stand between two rows."""
    if next_row_number == row_number + 1:
        return True
    if next_row_number <= row_number:
        return False
    inserted = layout.by_sheet[sheet].inserted_rows
    return all(r in inserted for r in range(row_number + 1, next_row_number))


def grade_formula(total_ref: str, grades: tuple[Grade, ...]) -> str:
    """Nested IFs from the best grade down; blank while the total is 0 or blank (nothing scored)."""
    expression = f'"{grades[-1].name}"' if grades else '""'
    for grade in reversed(grades[:-1]):
        expression = f'IF({total_ref}>={grade.minimum:g},"{grade.name}",{expression})'
    # N(): a blank total is "" (text), which compares above every number in Excel.
    return f'IF(N({total_ref})=0,"",{expression})'


def _number(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e15 else repr(value)


def cell_reference(target: PlacedField, home_sheet: str) -> str:
    """How a formula on ``home_sheet`` refers to ``target``'s cell."""
    return _reference(target, home_sheet)


def count_terms(keys: tuple[str, ...], layout: Layout, home_sheet: str) -> str:
    """``a,B5:B14,…``: the cells of ``keys`` as SUM or COUNT arguments, runs as ranges."""
    return ",".join(_sum_terms([layout.by_key[k] for k in keys], layout, home_sheet))


def expression(
    derive: Derivation,
    placed: PlacedField,
    layout: Layout,
    grades: tuple[Grade, ...],
) -> str:
    """The formula text of a derivation (without ``=``); nested derivations in parentheses."""

    def reference(key: str, *, counted: bool) -> str:
        """A field's cell; in arithmetic, ``N()`` round one that can show "" (``may_be_blank``)."""
        text = _reference(layout.by_key[key], placed.sheet)
        return f"N({text})" if counted and may_be_blank(key, layout) else text

    def operand(value: Operand, *, counted: bool = True) -> str:
        if isinstance(value, str):
            return reference(value, counted=counted)
        if isinstance(value, Derivation):
            inner = expression(value, placed, layout, grades)
            if value.verb in ("ratio", "copy", "grade"):
                return f"N({inner})" if counted else inner
            return inner if value.verb in ("min", "max", "round", "sum") else f"({inner})"
        return _number(value)

    if derive.verb == "sum":
        if all(isinstance(o, str) for o in derive.operands):
            keys = tuple(str(o) for o in derive.operands)
            return f"SUM({count_terms(keys, layout, placed.sheet)})"
        return "SUM({})".format(",".join(operand(o) for o in derive.operands))
    if derive.verb == "copy":
        source = operand(derive.operands[0], counted=False)
        return f'IF({source}="","",{source})'
    parts = [operand(o) for o in derive.operands]
    if derive.verb == "difference":
        return f"{parts[0]}-{parts[1]}"
    if derive.verb == "product":
        return "*".join(parts)
    if derive.verb == "ratio":
        denominator = operand(derive.operands[1], counted=False)
        return f'IF(N({denominator})=0,"",{parts[0]}/{denominator})'
    if derive.verb in ("min", "max"):
        # MIN and MAX skip text and blanks in referenced cells (an empty ratio's "" would make
        # MIN(rate,1) give 1): N() counts them as 0, as SUM does and recompute does.
        counted = [
            part if isinstance(o, float) or part.startswith("N(") else f"N({part})"
            for o, part in zip(derive.operands, parts, strict=True)
        ]
        return f"{derive.verb.upper()}({','.join(counted)})"
    if derive.verb == "round":
        return f"ROUND({parts[0]},{derive.decimals})"
    if derive.verb == "grade":
        return grade_formula(operand(derive.operands[0], counted=False), grades)
    raise AssertionError(f"unknown derivation {derive.verb}")


def guarded(derive: Derivation, placed: PlacedField, layout: Layout, body: str) -> str:
    """``body`` blank while none of the cells ``blank_guard`` names holds a number."""
    guard = blank_guard(derive, layout)
    if not guard:
        return body
    return f'IF(COUNT({count_terms(guard, layout, placed.sheet)})=0,"",{body})'
