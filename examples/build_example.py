"""Rebuild the shipped example the way a unit fills the template.

1. ``xlcheck template --data zhanjiang-xinfang-2023.json``: the template pre-filled with every
   number the seed report (湛江市信访局 2023 年度整体绩效自评报告) states, and self-scores adding
   up to the report's 101.
2. The report's 99.93% typed over the 预算执行率 formula, as the unit did (openpyxl).
3. Opened, recalculated and saved by LibreOffice (when installed), as a returned workbook is.
4. ``xlcheck verify`` writes the annotated copy beside it.

Run from the repository root: ``python examples/build_example.py``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import openpyxl
from returned_workbook import save_as_returned, verify_example

from xlcheck import load_prefill, load_spec, write_template
from xlcheck.layout import lay_out

HERE = Path(__file__).resolve().parent
DATA = HERE / "zhanjiang-xinfang-2023.json"
WORKBOOK = HERE / "zhanjiang-xinfang-2023.xlsx"
#: 实际支出 ÷ 实际收入 = 1130.30 ÷ 1131.12, typed where 实际支出 ÷ 预算数 belongs.
TYPED_EXECUTION_RATE = 0.9993


def main() -> int:
    spec = load_spec("zhanjiang-overall")
    placed = lay_out(spec).by_key["exec_rate"]
    with tempfile.TemporaryDirectory() as scratch:
        filled = Path(scratch) / "filled.xlsx"
        write_template(filled, template=spec.id, prefill=load_prefill(DATA, spec), force=True)
        book = openpyxl.load_workbook(filled)
        book[placed.sheet].cell(
            placed.row_number, placed.column_number
        ).value = TYPED_EXECUTION_RATE
        book.save(filled)
        save_as_returned(filled, WORKBOOK)
    verify_example(WORKBOOK)
    return 0


if __name__ == "__main__":
    sys.exit(main())
