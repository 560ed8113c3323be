"""Rebuild the national 项目支出绩效自评表 example the way a unit fills it.

1. ``xlcheck template -t national-project --data national-project-2022.json``: one sheet per
   project, pre-filled with the figures of two published forms (池州市贵池区棠溪镇, 2022 年度).
2. As both published forms have it, the 年度资金总额 row typed as 0 (年初预算数, 全年预算数,
   全年执行数, 执行率, 得分) over its formulas, while the 其中：本年财政拨款 row holds the amounts.
3. Opened, recalculated and saved by LibreOffice (when installed), as a returned workbook is.
4. ``xlcheck verify`` writes the annotated copy beside it.

Run from the repository root: ``python examples/build_national_example.py``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import openpyxl
from returned_workbook import save_as_returned, verify_example

from xlcheck import load_prefill, load_spec, write_template

HERE = Path(__file__).resolve().parent
DATA = HERE / "national-project-2022.json"
WORKBOOK = HERE / "national-project-2022.xlsx"
#: The cells the published forms show as 0 in the 年度资金总额 row.
TYPED_ZERO = ("initial", "full", "executed", "rate", "score")


def main() -> int:
    spec = load_spec("national-project")
    prefill = load_prefill(DATA, spec)
    layout = prefill.layout(spec)
    with tempfile.TemporaryDirectory() as scratch:
        filled = Path(scratch) / "filled.xlsx"
        write_template(filled, template=spec.id, prefill=prefill, force=True)
        book = openpyxl.load_workbook(filled)
        for sheet in (s for s in layout.sheets if s.key_prefix):  # the project sheets
            for column in TYPED_ZERO:
                placed = layout.by_key[f"{sheet.key_prefix}funds.total.{column}"]
                book[placed.sheet].cell(placed.row_number, placed.column_number).value = 0
        book.save(filled)
        save_as_returned(filled, WORKBOOK)
    verify_example(WORKBOOK)
    return 0


if __name__ == "__main__":
    sys.exit(main())
