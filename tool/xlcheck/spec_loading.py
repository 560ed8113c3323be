"""Loading a spec: built-in id or path → YAML → sheets parsed by their kinds → every
cross-reference checked. The one home of spec loading; everything else receives a valid ``Spec``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from xlcheck.errors import SpecError
from xlcheck.layout import Layout, kind_named, kind_names, lay_out
from xlcheck.spec.model import (
    CheckSpec,
    Grade,
    Grading,
    LinkSpec,
    RepeatSpec,
    SheetSpec,
    Spec,
)
from xlcheck.spec.nodes import SpecNode, flag, integer, key, keys, number, sheet_name, text, texts
from xlcheck.spec_cache import cached_spec

#: Checks a spec may declare: the verb and the operands it takes.
CHECK_VERBS = ("equal", "at_most", "year_of", "year_end", "row_count")
# The keys the parser accepts at each place of a spec (docs/spec-format.md lists each set; a test
# compares the page with these).
SPEC_KEYS = frozenset(
    {
        "id",
        "version",
        "title",
        "year",
        "description",
        "roles",
        "grading",
        "sheets",
        "checks",
        "links",
    }
)
SHEET_KEYS = frozenset({"name", "title", "note", "landscape", "repeat", "blocks", "layout"})
REPEAT_KEYS = frozenset({"key", "name_field", "max"})
LINK_KEYS = frozenset({"table", "name", "amount", "template", "detail_name", "detail_amount"})
GRADING_KEYS = frozenset({"max_score", "bonus_max", "grades"})
CHECK_KEYS = frozenset({*CHECK_VERBS, "message", "message_en", "severity"})


@functools.cache
def builtin_spec_dirs() -> tuple[Path, ...]:
    """Where built-in specs live: inside the installed package, or the source checkout's folder
    (looked up once: a batch asks for every workbook)."""
    package = Path(__file__).resolve().parent
    return tuple(
        p
        for p in (package / "workbook_templates", package.parents[1] / "workbook_templates")
        if p.is_dir()
    )


def builtin_spec_path(spec_id: str) -> Path | None:
    """The file of the built-in spec ``spec_id``, or None when no built-in spec has that id."""
    for folder in builtin_spec_dirs():
        path = folder / f"{spec_id}.yaml"
        if path.is_file():
            return path
    return None


def builtin_spec_ids() -> list[str]:
    ids: set[str] = set()
    for folder in builtin_spec_dirs():
        ids.update(
            p.name.removesuffix(".yaml") for p in folder.glob("*.yaml") if p.name.count(".") == 1
        )
    return sorted(ids)


def resolve_spec_path(template: str | Path) -> Path:
    """A spec file path from a built-in template id or a path to a YAML file."""
    candidate = Path(template)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise SpecError(candidate, "", "找不到该规格文件")
        return candidate
    path = builtin_spec_path(str(template))
    if path is not None:
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


def read_yaml(path: Path, content: bytes | None = None) -> Any:
    """A YAML data file (a spec, a report template) read with the safe loader; ``content`` is
    the file's bytes when the caller has read them already.

    Raises:
        SpecError: the file cannot be read or is not YAML.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        text = path.read_text(encoding="utf-8") if content is None else content.decode("utf-8")
        return yaml.load(text, Loader=loader)
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(path, "", f"无法读取：{exc}") from exc
    except yaml.YAMLError as exc:
        raise SpecError(path, "", f"不是有效的 YAML：{exc}") from exc


@functools.lru_cache(maxsize=32)
def _parse_spec_file(path_text: str, mtime_ns: int, size: int) -> Spec:
    """The spec in one file version (``mtime_ns`` and ``size`` only key the cache)."""
    path = Path(path_text)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise SpecError(path, "", f"无法读取：{exc}") from exc

    def parse() -> Spec:
        raw = read_yaml(path, content)
        digest = hashlib.sha256(
            json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str).encode()
        )
        return parse_spec(raw, path, spec_hash=digest.hexdigest()[:16])

    return cached_spec(path, content, parse)


def parse_spec(raw: Any, source: Path, *, spec_hash: str = "") -> Spec:
    """Validate raw YAML data and build the spec, cross-checking every field key it mentions."""
    root = SpecNode(raw, "", source).mapping(set(SPEC_KEYS))
    spec = Spec(
        id=root.need("id", text),
        version=root.need("version", text),
        title=root.need("title", text),
        year=root.need("year", integer),
        sheets=tuple(_sheet(s) for s in root.need("sheets", lambda n: n.items())),
        checks=tuple(_check(c) for c in root.get("checks", lambda n: n.items(), [])),
        description=root.get("description", text, ""),
        roles=root.get("roles", _roles, ()),
        grading=root.get("grading", _grading, Grading()),
        links=tuple(_link(n) for n in root.get("links", lambda n: n.items(), [])),
        spec_hash=spec_hash,
        source=source,
    )
    check_references(spec, root)
    return spec


def _sheet(node: SpecNode) -> SheetSpec:
    if not isinstance(node.value, dict):
        raise node.fail("应为键值表（mapping）")
    if node.has("layout") == node.has("blocks"):
        raise node.fail("应给出 layout（整张表一个版式）或 blocks（自上而下的若干块），二者选一")
    if node.has("layout"):
        # A sheet of one block: the block's keys sit on the sheet itself.
        kind = _kind(node.child("layout"))
        node.mapping(set(SHEET_KEYS | kind.spec_keys))
        block_node = SpecNode(
            {k: v for k, v in node.value.items() if k in kind.spec_keys}, node.path, node.source
        )
        blocks = (kind.parse(block_node),)
    else:
        node.mapping(set(SHEET_KEYS))
        blocks = tuple(_block(b) for b in node.need("blocks", lambda n: n.items()))
    return SheetSpec(
        name=node.need("name", sheet_name),
        title=node.get("title", text, ""),
        blocks=blocks,
        note=node.get("note", text, ""),
        repeat=node.get("repeat", _repeat, None),
        landscape=node.get("landscape", flag, None),
    )


def _kind(node: SpecNode) -> Any:
    name = text(node)
    kind = kind_named(name)
    if kind is None:
        raise node.fail(f"未知版式 {name!r}；可用：{', '.join(kind_names())}")
    return kind


def _block(node: SpecNode) -> Any:
    if not isinstance(node.value, dict):
        raise node.fail("应为键值表（mapping）")
    kind = node.need("kind", _kind)
    node.mapping({"kind", "title"} | kind.spec_keys)
    return kind.parse(node)


def _repeat(node: SpecNode) -> RepeatSpec:
    node.mapping(set(REPEAT_KEYS))
    maximum = node.get("max", integer, 200)
    if not 1 <= maximum <= 250:
        raise node.child("max").fail("max 应在 1 到 250 之间（一个工作簿的工作表数有限）")
    return RepeatSpec(node.need("key", key), node.need("name_field", text), maximum)


def _link(node: SpecNode) -> LinkSpec:
    node.mapping(set(LINK_KEYS))
    return LinkSpec(
        table=node.need("table", key),
        name=node.need("name", key),
        amount=node.need("amount", key),
        template=node.need("template", text),
        detail_name=node.need("detail_name", text),
        detail_amount=node.need("detail_amount", text),
    )


def _grading(node: SpecNode) -> Grading:
    node.mapping(set(GRADING_KEYS))
    grades = []
    for grade in node.need("grades", lambda n: n.items()):
        grade.mapping({"name", "min", "aliases"})
        grades.append(
            Grade(
                grade.need("name", text), grade.need("min", number), grade.get("aliases", texts, ())
            )
        )
    if sorted(grades, key=lambda g: -g.minimum) != grades:
        raise node.child("grades").fail("等级应按 min 从高到低排列")
    return Grading(
        max_score=node.get("max_score", number, 100.0),
        bonus_max=node.get("bonus_max", number, 0.0),
        grades=tuple(grades),
    )


def _roles(node: SpecNode) -> tuple[tuple[str, str], ...]:
    if not isinstance(node.value, dict):
        raise node.fail("应为键值表（mapping）：角色 → 字段键")
    return tuple((str(role), text(node.child(str(role)))) for role in node.value)


def _check(node: SpecNode) -> CheckSpec:
    node.mapping(set(CHECK_KEYS))
    verbs = [v for v in CHECK_VERBS if v in node.value]
    if len(verbs) != 1:
        raise node.fail(f"应恰好给出一种检查：{', '.join(CHECK_VERBS)}")
    verb = verbs[0]
    body = node.child(verb)
    severity = node.get("severity", text, "error")
    if severity not in ("error", "warning"):
        raise node.child("severity").fail("应为 error 或 warning")
    message = node.get("message", text, "")
    message_en = node.get("message_en", text, message)
    if message and verb not in ("equal", "at_most"):
        raise node.child("message").fail(f"{verb} 的提示由 xlcheck 生成，不能自定义 message")
    offset = 0
    if verb in ("equal", "at_most"):
        operands = keys(body)
        if len(operands) != 2:
            raise body.fail("需要恰好两个字段")
        left, right = operands
    elif verb == "year_of":
        body.mapping({"date", "year"})
        left, right = body.need("date", text), ""
        year = body.get("year", text, "evaluated")
        if year not in ("evaluated", "following"):
            raise body.child("year").fail(
                "应为 evaluated（评价年度内）或 following（评价年度的下一年）"
            )
        offset = 1 if year == "following" else 0
    elif verb == "year_end":
        left, right = text(body), ""
    else:
        body.mapping({"table", "stated"})
        left, right = body.need("table", text), body.need("stated", text)
    return CheckSpec(verb, left, right, message, message_en, severity, offset)


def check_references(spec: Spec, root: SpecNode | None = None) -> Layout:
    """Lay the spec out and check every key it references: derivation operands, alternative
    bases, scoring metrics, checks, roles, repeated sheets' names; no duplicate keys or sheet
    names, no derivations in a cycle.

    Raises:
        SpecError: naming the problem's key path.
    """
    source = spec.source or ""
    names = Counter(s.name for s in spec.sheets)
    duplicate_sheet = next((n for n, count in names.items() if count > 1), None)
    if duplicate_sheet is not None:
        raise SpecError(source, "sheets", f"工作表名 {duplicate_sheet} 重复")
    layout = lay_out(spec)
    counts = Counter(f.key for f in layout.fields)
    duplicate = next((k for k, count in counts.items() if count > 1), None)
    if duplicate is not None:
        raise SpecError(source, duplicate, f"字段键 {duplicate} 重复")
    known = layout.by_key
    for placed in layout.fields:
        derive = placed.spec.derive
        for operand in derive.field_keys() if derive else ():
            if operand not in known:
                raise SpecError(source, f"{placed.key}.derive", f"引用了不存在的字段 {operand}")
        for operand in derive.alt_bases if derive else ():
            if operand not in known:
                raise SpecError(
                    source, f"{placed.key}.derive.alt_bases", f"引用了不存在的字段 {operand}"
                )
        rule = placed.spec.rule
        if rule is not None and rule.metric not in known:
            raise SpecError(
                source, f"{placed.key}.rule.metric", f"引用了不存在的字段 {rule.metric}"
            )
    tables = {f.table for f in layout.fields if f.table}
    for index, check in enumerate(spec.checks):
        wanted = [check.left] if check.relation != "row_count" else []
        wanted += [check.right] if check.right else []
        if check.relation == "row_count" and check.left not in tables:
            raise SpecError(source, f"checks[{index}]", f"没有键为 {check.left} 的表")
        for operand in wanted:
            if not layout.instances_of(operand):
                raise SpecError(source, f"checks[{index}]", f"引用了不存在的字段 {operand}")
    for index, link in enumerate(spec.links):
        for column in (link.name, link.amount):
            if f"{link.table}[1].{column}" not in known:
                raise SpecError(
                    source, f"links[{index}]", f"没有表 {link.table}，或表中没有列 {column}"
                )
    for role, field_key in spec.roles:
        if layout.role(role) is None:
            raise SpecError(source, f"roles.{role}", f"引用了不存在的字段 {field_key}")
    for index, sheet in enumerate(spec.sheets):
        if sheet.repeat and not layout.instances_of(sheet.repeat.name_field):
            raise SpecError(
                source,
                f"sheets[{index}].repeat.name_field",
                f"工作表中没有字段 {sheet.repeat.name_field}",
            )
    layout.dependencies_first()  # raises on cycles
    return layout
