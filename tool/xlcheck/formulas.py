"""The Excel formula text of each derived field, and formula text compared as Excel means it."""

from __future__ import annotations

import functools
import re

from xlcheck.findings import column_letters
from xlcheck.layout import Layout, PlacedField, scoring_sheet
from xlcheck.spec import Grade

_STRING = re.compile(r'"[^"]*"')
_QUOTED_SHEET = re.compile(r"'((?:[^']|'')+)'!")
_ABSOLUTE = re.compile(r"\$(?=[A-Z0-9])")


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
            or not _adjacent(run[-1].row_number, placed.row_number, layout, placed.sheet)
        ):
            flush()
        run.append(placed)
    flush()
    return terms


def _adjacent(row_number: int, next_row_number: int, layout: Layout, sheet: str) -> bool:
    """Whether only rows the unit inserted stand between two rows."""
    if next_row_number == row_number + 1:
        return True
    if next_row_number <= row_number:
        return False
    inserted = layout.by_sheet[sheet].inserted_rows
    return all(r in inserted for r in range(row_number + 1, next_row_number))


def grade_formula(total_ref: str, grades: tuple[Grade, ...]) -> str:
    """Nested IFs from the best grade down; blank while the total is 0 (nothing scored yet)."""
    expression = f'"{grades[-1].name}"' if grades else '""'
    for grade in reversed(grades[:-1]):
        expression = f'IF({total_ref}>={grade.minimum:g},"{grade.name}",{expression})'
    return f'IF({total_ref}=0,"",{expression})'


def excel_formula(
    placed: PlacedField, layout: Layout, grades: tuple[Grade, ...] = ()
) -> str | None:
    """The formula (with its leading ``=``) the template writes into a derived cell.

    Returns None for constants, which are written as plain values.
    """
    derive = placed.spec.derive
    if derive is None or derive.verb == "constant":
        return None
    operands = [layout.by_key[key] for key in derive.operands]
    refs = [_reference(o, placed.sheet) for o in operands]
    if derive.verb == "sum":
        return "=SUM({})".format(",".join(_sum_terms(operands, layout, placed.sheet)))
    if derive.verb == "difference":
        return f"={refs[0]}-{refs[1]}"
    if derive.verb == "ratio":
        return f'=IF(N({refs[1]})=0,"",{refs[0]}/{refs[1]})'
    if derive.verb == "grade":
        return "=" + grade_formula(refs[0], grades)
    raise AssertionError(f"unknown derivation {derive.verb}")


@functools.lru_cache(maxsize=16)
def template_formulas(layout: Layout) -> dict[str, str]:
    """Field key → the formula text the template writes, for every formula cell of ``layout``."""
    scoring = scoring_sheet(layout.spec)
    grades = scoring.grades if scoring else ()
    formulas = {f.key: excel_formula(f, layout, grades) for f in layout.fields if not f.is_input}
    return {key: text for key, text in formulas.items() if text is not None}


@functools.lru_cache(maxsize=4096)
def normalise_formula(formula: str) -> str:
    """Formula text with the differences spreadsheet apps introduce removed.

    LibreOffice drops quotes around Chinese sheet names, Excel and WPS may add ``$``, and any of
    them may change spacing or letter case outside string literals.
    """
    text = formula.strip().lstrip("=").lstrip("+")
    pieces: list[str] = []
    position = 0
    for match in _STRING.finditer(text):
        pieces.append(_normalise_code(text[position : match.start()]))
        pieces.append(match.group(0))
        position = match.end()
    pieces.append(_normalise_code(text[position:]))
    return "".join(pieces)


def _normalise_code(code: str) -> str:
    code = _QUOTED_SHEET.sub(lambda m: m.group(1).replace("''", "'") + "!", code)
    code = _ABSOLUTE.sub("", code)
    return re.sub(r"\s+", "", code).upper()
