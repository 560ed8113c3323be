"""Spec loading: every built-in spec loads and writes; bad specs name the file and key path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from xlcheck import SpecError, load_spec, write_template
from xlcheck.layout import lay_out
from xlcheck.layout.scoring import ScoringBlock
from xlcheck.spec_loading import builtin_spec_ids, resolve_spec_path

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "workbook_templates").glob("*.yaml"))


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_every_builtin_spec_loads_and_writes(spec_path: Path, tmp_path: Path) -> None:
    spec = load_spec(spec_path)
    assert spec.id == spec_path.stem
    out = write_template(tmp_path / "t.xlsx", template=spec_path)
    assert out.stat().st_size > 0


def test_builtin_spec_ids_lists_the_default() -> None:
    assert "zhanjiang-overall" in builtin_spec_ids()


def test_default_spec_weights_add_up_to_its_maximum() -> None:
    spec = load_spec("zhanjiang-overall")
    scoring = next(b for s in spec.sheets for b in s.blocks if isinstance(b, ScoringBlock))
    weights = sum(i.weight for p in scoring.parts for i in p.indicators)
    assert weights == spec.grading.max_score == 100


def test_default_spec_has_a_home_for_every_seed_label() -> None:
    labels = {f.label_path for f in lay_out(load_spec("zhanjiang-overall")).fields}
    for label in (
        "数据表/实际支出/基本支出/工资福利支出",
        "数据表/实际支出/基本支出",
        "数据表/年初预算/预算数",
        "数据表/收入/上年结余",
        "数据表/收入/实际收入",
        "数据表/支出结构与执行/预算执行率",
        "数据表/支出结构与执行/支出收入比",
        "基本信息/人员情况/核定编制数",
        "评分表/总分/自评得分",
        "评分表/等级",
    ):
        assert label in labels


def test_spec_hash_is_stable_and_changes_with_content(tmp_path: Path) -> None:
    original = resolve_spec_path("zhanjiang-overall")
    copy = tmp_path / "copy.yaml"
    copy.write_text(original.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_spec(copy).spec_hash == load_spec(original).spec_hash
    copy.write_text(
        original.read_text(encoding="utf-8").replace("weight: 10", "weight: 9", 1), encoding="utf-8"
    )
    assert load_spec(copy).spec_hash != load_spec(original).spec_hash


def _minimal() -> dict[str, object]:
    return {
        "id": "mini",
        "version": "1",
        "title": "t",
        "year": 2023,
        "sheets": [
            {
                "name": "表",
                "layout": "form",
                "rows": [
                    {"key": "a", "label": "A", "type": "amount"},
                    {"key": "b", "label": "B", "type": "amount"},
                    {
                        "key": "total",
                        "label": "合计",
                        "type": "amount",
                        "derive": {"sum": ["a", "b"]},
                    },
                ],
            }
        ],
    }


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_minimal_spec_loads(tmp_path: Path) -> None:
    spec = load_spec(_write(tmp_path, _minimal()))
    layout = lay_out(spec)
    assert [f.key for f in layout.fields if f.sheet == "表"] == ["a", "b", "total"]
    # The generated 自查 sheet checks the total against its parts.
    assert [f.key for f in layout.fields if f.sheet == "自查"] == ["check.formula.total"]


def _break(mutation: str) -> dict[str, object]:
    data = _minimal()
    rows = data["sheets"][0]["rows"]  # type: ignore[index]
    if mutation == "unknown-key":
        rows[0]["colour"] = "red"
    elif mutation == "bad-type":
        rows[0]["type"] = "money"
    elif mutation == "unknown-operand":
        rows[2]["derive"] = {"sum": ["a", "c"]}
    elif mutation == "cycle":
        rows[0]["derive"] = {"sum": ["total"]}
    elif mutation == "duplicate-key":
        rows[1]["key"] = "a"
    elif mutation == "bad-sheet-name":
        data["sheets"][0]["name"] = "a/b"  # type: ignore[index]
    elif mutation == "missing-version":
        del data["version"]
    elif mutation == "ratio-arity":
        rows[2]["derive"] = {"ratio": ["a"]}
    elif mutation == "bad-key":
        rows[0]["key"] = "Budget Total"
    return data


@pytest.mark.parametrize(
    ("mutation", "key_path", "words"),
    [
        ("unknown-key", "sheets[0].rows[0]", "colour"),
        ("bad-type", "sheets[0].rows[0].type", "money"),
        ("unknown-operand", "total.derive", "c"),
        ("cycle", "", "成环"),
        ("duplicate-key", "", "重复"),
        ("bad-sheet-name", "sheets[0].name", "a/b"),
        ("missing-version", "version", "缺少"),
        ("ratio-arity", "sheets[0].rows[2].derive.ratio", "两个"),
        ("bad-key", "sheets[0].rows[0].key", "Budget Total"),
    ],
    ids=lambda v: str(v),
)
def test_load_spec_names_file_and_key_path(
    tmp_path: Path, mutation: str, key_path: str, words: str
) -> None:
    path = _write(tmp_path, _break(mutation))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    message = str(caught.value)
    assert str(path) in message
    assert key_path in message
    assert words in message


def test_load_spec_reports_yaml_syntax_errors(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError, match="YAML"):
        load_spec(path)


def test_load_spec_lists_builtins_for_an_unknown_id() -> None:
    with pytest.raises(SpecError, match="zhanjiang-overall"):
        load_spec("no-such-template")
