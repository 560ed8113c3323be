"""``@record`` behaves as ``@dataclass(frozen=True)`` does, but for the run-time guard, which the
type checker keeps instead."""

from __future__ import annotations

import dataclasses
import pickle
import textwrap
from pathlib import Path
from typing import Any

import pytest
from mypy import api as mypy_api

from xlcheck.records import record

ROOT = Path(__file__).resolve().parent.parent


def _pair(body: str, *, eq: bool = True, order: bool = False) -> tuple[Any, Any]:
    """The same class body declared with ``@record`` and with ``@dataclass(frozen=True)``."""
    made = []
    for decorate in (
        record(eq=eq, order=order),
        dataclasses.dataclass(frozen=True, eq=eq, order=order),
    ):
        namespace: dict[str, Any] = {"dataclasses": dataclasses, "Any": Any}
        exec(textwrap.dedent(body), namespace)  # the same source for both, fresh each time
        made.append(decorate(namespace["Point"]))
    return made[0], made[1]


BODIES = {
    "plain": """
        class Point:
            x: int
            y: int = 0
        """,
    "one field": """
        class Point:
            x: Any
        """,
    "no fields": """
        class Point:
            pass
        """,
    "hidden and uncompared": """
        class Point:
            x: int
            label: str = dataclasses.field(default="", compare=False)
            note: str = dataclasses.field(default="", repr=False)
            key: int = dataclasses.field(default=0, hash=False)
        """,
    "nested": """
        class Point:
            x: Any
            y: Any = None
        """,
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_a_record_compares_hashes_and_shows_itself_as_a_frozen_dataclass(body: str) -> None:
    ours, theirs = _pair(body)
    values = [
        {f.name: value for f in dataclasses.fields(theirs) if f.init} for value in (1, 2, (1, "a"))
    ]
    for one in values:
        for other in values:
            assert (ours(**one) == ours(**other)) == (theirs(**one) == theirs(**other))
            assert (ours(**one) != ours(**other)) == (theirs(**one) != theirs(**other))
        assert hash(ours(**one)) == hash(theirs(**one))
        assert repr(ours(**one)).replace("Point", "P") == repr(theirs(**one)).replace("Point", "P")
    assert ours(**values[0]) != theirs(**values[0])  # another class, as with dataclasses
    assert ours(**values[0]).__eq__(object()) is NotImplemented


def test_uncompared_fields_are_left_out_of_equality_and_hash() -> None:
    ours, theirs = _pair(BODIES["hidden and uncompared"])
    for made in (ours, theirs):
        assert made(1, label="a", key=1) == made(1, label="b", key=1)
        assert hash(made(1, key=1)) == hash(made(1, key=2))
        assert made(1, key=1) != made(1, key=2)
        assert "note" not in repr(made(1))


def test_eq_false_compares_by_identity_and_order_orders_by_fields() -> None:
    ours, theirs = _pair(BODIES["plain"], eq=False)
    for made in (ours, theirs):
        one = made(1)
        assert one == one and one != made(1)
        assert hash(one) == object.__hash__(one)
    ours, theirs = _pair(BODIES["plain"], order=True)
    assert sorted([ours(2), ours(1, 5), ours(1)]) == [ours(1), ours(1, 5), ours(2)]
    assert ours(1) < ours(2) and not ours(2) <= ours(1)
    with pytest.raises(ValueError, match="eq must be true if order is true"):
        _pair(BODIES["plain"], eq=False, order=True)


def test_a_nested_record_is_shown_whole_and_a_cycle_is_shown_as_dots() -> None:
    for made in _pair(BODIES["nested"]):
        assert repr(made(made(1), "y")) == "Point(x=Point(x=1, y=None), y='y')"
        cyclic = made([])
        cyclic.x.append(cyclic)
        assert repr(cyclic) == "Point(x=[...], y=None)"


def test_a_record_survives_pickling_as_the_spec_cache_keeps_it() -> None:
    from xlcheck.findings import CellRef, Finding, Severity

    finding = Finding("R1", Severity.ERROR, "错", "wrong", CellRef(0, 3, 2, "数据表"), expected=1.5)
    back = pickle.loads(pickle.dumps(finding))
    assert back == finding and hash(back) == hash(finding) and repr(back) == repr(finding)


def test_assigning_to_a_record_field_is_a_type_error(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        textwrap.dedent(
            """
            from xlcheck.findings import Finding, Severity
            from xlcheck.records import record

            @record(slots=True)
            class Slotted:
                x: int

            finding = Finding("R1", Severity.ERROR, "错", "wrong")
            finding.code = "R2"
            Slotted(1).x = 2
            """
        ),
        encoding="utf-8",
    )
    out, _, status = mypy_api.run(
        ["--strict", "--no-incremental", "--config-file", str(ROOT / "pyproject.toml"), str(probe)]
    )
    assert status == 1, out
    assert 'Property "code" defined in "Finding" is read-only' in out
    assert 'Property "x" defined in "Slotted" is read-only' in out
