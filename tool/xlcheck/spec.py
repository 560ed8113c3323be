"""Template specs: frozen dataclasses, ``load_spec`` and every check on a spec's content."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from xlcheck.errors import SpecError

VALUE_TYPES = ("text", "integer", "number", "amount", "percent", "date", "choice", "score")
NUMERIC_TYPES = ("integer", "number", "amount", "percent", "score")
#: Roles a spec may give its fields: ``template --year/--unit`` fill ``year``/``unit``, and
#: summaries show the figures of the others.
ROLES = ("year", "unit", "budget", "income", "spending", "execution_rate", "total_score", "grade")
DERIVATIONS = ("sum", "difference", "ratio", "constant", "grade")
#: Displayed decimals per type when a field does not say: 万元 amounts with 2 decimals,
#: percentages as 99.72%, i.e. 4 decimals of the stored fraction.
DEFAULT_PRECISION = {"integer": 0, "amount": 2, "number": 2, "percent": 4, "score": 2}


@dataclass(frozen=True)
class Derivation:
    """How a derived value is computed: one verb of the spec vocabulary and its operands.

    ``operands`` are field keys (in a table row: column keys of the same row).
    """

    verb: str
    operands: tuple[str, ...] = ()
    constant: float | str | None = None
    #: For ``ratio``: other denominators a unit might wrongly have used (e.g. income for budget).
    alt_bases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScoreRule:
    """How an indicator's expected score follows from a metric (a field key).

    ``method`` is ``proportional`` (weight × min(metric / full_at, 1)), ``bands`` (first band whose
    bound the metric meets gives ``share`` × weight) or ``deduct`` (full marks up to ``limit``,
    then ``points`` off per ``step`` over it).
    """

    metric: str
    method: str
    full_at: float = 1.0
    bands: tuple[tuple[str, float, float], ...] = ()  # (bound kind, bound, share of the weight)
    limit: float = 1.0
    step: float = 0.01
    points: float = 0.0


@dataclass(frozen=True)
class FieldSpec:
    """One input or derived cell as the spec declares it (before layout gives it a cell)."""

    key: str
    label: str
    value_type: str
    group: str = ""
    unit: str | None = None
    precision: int | None = None
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    derive: Derivation | None = None
    rule: ScoreRule | None = None
    help: str = ""

    @property
    def decimals(self) -> int | None:
        return (
            self.precision if self.precision is not None else DEFAULT_PRECISION.get(self.value_type)
        )


@dataclass(frozen=True)
class SectionSpec:
    """A heading row in a form sheet; it sets the label group of the fields below it."""

    title: str


@dataclass(frozen=True)
class FormSheetSpec:
    name: str
    title: str
    rows: tuple[FieldSpec | SectionSpec, ...]
    note: str = ""


@dataclass(frozen=True)
class TableSheetSpec:
    """A list of rows (projects) with per-row derived columns and a totals row."""

    name: str
    title: str
    key: str
    capacity: int
    columns: tuple[FieldSpec, ...]
    totals: tuple[str, ...]
    #: Columns that must be filled in every row that is used at all.
    row_required: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class IndicatorSpec:
    key: str
    level2: str
    name: str
    weight: float
    criteria: str
    rule: ScoreRule | None = None


@dataclass(frozen=True)
class PartSpec:
    key: str
    name: str
    indicators: tuple[IndicatorSpec, ...]


@dataclass(frozen=True)
class Grade:
    name: str
    minimum: float
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScoringSheetSpec:
    name: str
    title: str
    parts: tuple[PartSpec, ...]
    max_score: float = 100.0
    bonus_max: float = 0.0
    grades: tuple[Grade, ...] = ()
    note: str = ""


SheetSpec = FormSheetSpec | TableSheetSpec | ScoringSheetSpec


@dataclass(frozen=True)
class CheckSpec:
    """A relation between two fields: ``equal`` or ``at_most``."""

    relation: str
    left: str
    right: str
    message: str
    message_en: str
    severity: str = "error"


# Identity equality: ``load_spec`` returns one object per spec file version, and the caches
# keyed on a spec (its layout) hash it by identity instead of walking every field.
@dataclass(frozen=True, eq=False)
class Spec:
    id: str
    version: str
    title: str
    year: int
    sheets: tuple[SheetSpec, ...]
    checks: tuple[CheckSpec, ...] = ()
    description: str = ""
    #: What some fields mean to xlcheck itself (``year``, ``unit``, ``budget``...) → field key.
    roles: tuple[tuple[str, str], ...] = ()
    spec_hash: str = ""
    source: Path | None = field(default=None, compare=False)

    def role(self, role: str) -> str | None:
        """The key of the field playing ``role``, if the spec names one."""
        return dict(self.roles).get(role)

    def sheet(self, name: str) -> SheetSpec:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise KeyError(name)


def builtin_spec_dirs() -> list[Path]:
    """Where built-in specs live: inside the installed package, or the source checkout's folder."""
    package = Path(__file__).resolve().parent
    return [
        p
        for p in (package / "workbook_templates", package.parents[1] / "workbook_templates")
        if p.is_dir()
    ]


def builtin_spec_ids() -> list[str]:
    ids: set[str] = set()
    for folder in builtin_spec_dirs():
        ids.update(p.stem for p in folder.glob("*.yaml"))
    return sorted(ids)


def resolve_spec_path(template: str | Path) -> Path:
    """A spec file path from a built-in template id or a path to a YAML file."""
    candidate = Path(template)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise SpecError(candidate, "", "找不到该规格文件")
        return candidate
    for folder in builtin_spec_dirs():
        path = folder / f"{template}.yaml"
        if path.is_file():
            return path
    known = "、".join(builtin_spec_ids()) or "（无）"
    raise SpecError(str(template), "", f"没有名为 {template} 的内置模板；可用的有：{known}")


def load_spec(template: str | Path) -> Spec:
    """Load and validate a spec by built-in id or path.

    A batch verifies hundreds of workbooks against one spec, so a parsed spec is kept for as long
    as its file is unchanged (same path, size and modification time).

    Raises:
        SpecError: naming the file and the key path of the first problem.
    """
    path = resolve_spec_path(template)
    try:
        status = path.stat()
    except OSError as exc:
        raise SpecError(path, "", f"无法读取：{exc}") from exc
    return _parse_spec_file(str(path), status.st_mtime_ns, status.st_size)


@functools.lru_cache(maxsize=32)
def _parse_spec_file(path_text: str, mtime_ns: int, size: int) -> Spec:
    """The spec in one file version (``mtime_ns`` and ``size`` only key the cache)."""
    import yaml

    path = Path(path_text)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(path, "", f"无法读取：{exc}") from exc
    except yaml.YAMLError as exc:
        raise SpecError(path, "", f"不是有效的 YAML：{exc}") from exc
    from xlcheck.spec_parser import parse_spec

    digest = hashlib.sha256(
        json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str).encode()
    )
    return parse_spec(raw, path, spec_hash=digest.hexdigest()[:16])
