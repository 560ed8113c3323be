"""The JSON report's text is ``json.dumps(..., indent=2)``'s, though built another way."""

from __future__ import annotations

import enum
import json
import pickle
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FillWorkbook, seed_values
from xlcheck.api import VerifyOptions, verify_batch
from xlcheck.report import IndentedJson, render_json, to_document


class Level(enum.IntEnum):
    HIGH = 3


class Name(str):
    pass


#: Every kind of value json treats its own way, nested as deep as a result nests and deeper.
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -7,
    10**30,
    1.5,
    -0.0,
    1e-12,
    1e300,
    float("nan"),
    float("inf"),
    float("-inf"),
    "",
    "湛江市信访局",
    'quote " backslash \\ tab \t newline \n',
    "\x00\x1f\x7f\x85\u2028\u2029\ud800 e\u0301 😀",
    Level.HIGH,
    Name("a str subclass"),
    Path("/tmp/自评表.xlsx"),
    {},
    [],
    (),
    [[], {}, [[]], {"a": {}}],
    (1, "two", (3.0, None)),
    {"nested": {"deeper": {"deepest": [1, {"x": [2, 3]}]}}},
    OrderedDict([("b", 1), ("a", [True, None])]),
    {7: "int key", 2.5: "float key", None: "none key", True: "bool key"},
    {"outer": {3: ["a number key, deep"]}},
    [{"path": Path("a.xlsx"), "findings": [{"expected": 0.9972, "actual": "99.72%"}]}],
]


@pytest.mark.parametrize("ascii_only", [False, True])
@pytest.mark.parametrize("value", ODD_VALUES, ids=[repr(v)[:40] for v in ODD_VALUES])
def test_indented_json_is_json_dumps_with_indent(value: Any, ascii_only: bool) -> None:
    expected = json.dumps(value, ensure_ascii=ascii_only, indent=2, default=str)
    assert IndentedJson(ascii_only=ascii_only).dumps(value) == expected
    for level in (1, 3):  # as a value nested that deep: each line after the first moves right
        nested = IndentedJson(ascii_only=ascii_only).dumps(value, level)
        assert nested == expected.replace("\n", "\n" + "  " * level)


@pytest.mark.parametrize("ascii_only", [False, True])
def test_the_report_of_real_results_is_json_dumps_with_indent(
    make_workbook: FillWorkbook, tmp_path: Path, ascii_only: bool
) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK garbage")
    inputs = [make_workbook(seed_values(), name="wrong.xlsx"), make_workbook(), broken]
    results = verify_batch(inputs, options=VerifyOptions(annotate=False), jobs=1)
    results = pickle.loads(pickle.dumps(results))  # as a batch's parent receives them
    assert any(r.findings for r in results)

    for lang in ("zh", "en"):
        document = to_document(results, lang)
        expected = json.dumps(document, ensure_ascii=ascii_only, indent=2, default=str)
        assert render_json(results, lang, ascii_only=ascii_only) == expected
