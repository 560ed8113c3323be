"""Report templates: the outline, sentences and figure labels of a 自评报告, loaded from YAML data.

A report template belongs to one workbook template (spec) id and lives beside the specs, in
``workbook_templates/reports/<spec id>.yaml``; a bureau edits it as it edits a spec. Its sentences
name field keys in braces (``{budget_total}``); ``xlcheck report draft`` fills them from the
verified workbook and ``xlcheck report check`` reads its aliases to find figures in a report.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlcheck.errors import SpecError
from xlcheck.layout import Layout, lay_out, spec_blocks
from xlcheck.layout.scoring import ScoringBlock
from xlcheck.layout.table import TableBlock
from xlcheck.spec import Spec
from xlcheck.spec_loading import builtin_spec_dirs

#: Block kinds a report template's outline may use.
BLOCK_KINDS = ("title", "heading", "paragraph", "placeholder", "table", "page_break")
#: What ``each:`` may repeat a block over, besides the key of any table sheet.
REPEATS = ("parts", "deductions")
#: Placeholders in text: ``{field key}``, ``{count:table}``, ``{list:table.column}``, and in a
#: repeated block ``{part}``, ``{indicator}``, ``{deducted}`` and keys with ``*`` for the item.
REFERENCE = re.compile(r"\{([^{}]+)\}")
#: Text the unit must write, inside a sentence: ``[[财政局通知文号]]``.
UNIT_TEXT = re.compile(r"\[\[(.+?)\]\]")
_ITEM_WORDS = {"parts": ("part",), "deductions": ("indicator", "deducted")}


@dataclass(frozen=True)
class Block:
    """One element of the outline (see ``docs`` in the README's 自评报告 section).

    Attributes:
        kind: one of ``BLOCK_KINDS``.
        text: the sentence(s), with ``{…}`` references and ``[[…]]`` unit text.
        level: heading level (1–3).
        lead: bold words before a paragraph's text (机构设置：).
        align: ``center`` or empty.
        each: repeat the block per table row (table key), per scoring part, or per deduction.
        part: for ``each: deductions``, only that part's indicators.
        empty: text written instead when ``each`` has nothing to repeat over.
        when: keys that must have values for the block to be written at all.
        table: for tables, a table sheet's key or ``scoring``.
        columns: for a table sheet's table, the column keys shown, in order.
        path: where the block is in the YAML file, for error messages.
    """

    kind: str
    text: str = ""
    level: int = 1
    lead: str = ""
    align: str = ""
    each: str | None = None
    part: str | None = None
    empty: str = ""
    when: tuple[str, ...] = ()
    table: str | None = None
    columns: tuple[str, ...] = ()
    path: str = ""


@dataclass(frozen=True)
class ReportTemplate:
    """A workbook template's report: outline to draft, and the words to find its figures by.

    Attributes:
        template: the spec id it belongs to.
        blocks: the outline, in order.
        aliases: field key → the other words reports use for it (the spec's label always counts).
        contexts: field key → words that, written before a figure, say it is this field's (年初预算
            for the budget line 基本支出 against the spending figure 基本支出).
        grade_words: words that introduce a grade (自评等级为…, 自评优秀).
        counts: table key → nouns counted ("主要支出项目…等 7 项").
        needs_context: aliases that name a field only after one of its context words (合计 is
            the budget total only in a paragraph about 年初预算).
    """

    template: str
    blocks: tuple[Block, ...]
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    contexts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    grade_words: tuple[str, ...] = ()
    counts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    needs_context: tuple[str, ...] = ()
    source: Path | None = None


def builtin_report_path(template_id: str) -> Path | None:
    """The built-in report template of a spec id, if one is shipped."""
    for folder in builtin_spec_dirs():
        path = folder / "reports" / f"{template_id}.yaml"
        if path.is_file():
            return path
    return None


def load_report_template(spec: Spec, outline: Path | None = None) -> ReportTemplate:
    """The report template for ``spec``: ``outline`` if given, else the built-in one.

    Raises:
        SpecError: no report template for the spec, or one that is malformed, names another
            template or references a field the spec does not have.
    """
    path = outline if outline is not None else builtin_report_path(spec.id)
    if path is None:
        raise SpecError(
            spec.id,
            "",
            f"模板 {spec.id} 没有报告模板（workbook_templates/reports/{spec.id}.yaml）；"
            "请用 --outline 指定一份",
        )
    try:
        status = path.stat()
    except OSError as exc:
        raise SpecError(path, "", f"无法读取：{exc}") from exc
    template = _parse_file(str(path), status.st_mtime_ns, status.st_size)
    if template.template != spec.id:
        raise SpecError(
            path, "template", f"这份报告模板属于 {template.template}，而工作簿模板是 {spec.id}"
        )
    _check_references(template, lay_out(spec))
    return template


@functools.lru_cache(maxsize=8)
def _parse_file(path_text: str, mtime_ns: int, size: int) -> ReportTemplate:
    import yaml

    path = Path(path_text)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(path, "", f"无法读取：{exc}") from exc
    except yaml.YAMLError as exc:
        raise SpecError(path, "", f"不是有效的 YAML：{exc}") from exc
    if not isinstance(raw, dict):
        raise SpecError(path, "", "报告模板应为一个映射（template、outline、aliases……）")
    return ReportTemplate(
        template=_text(raw, "template", path),
        blocks=tuple(
            _block(item, f"outline[{i}]", path)
            for i, item in enumerate(_list(raw, "outline", path))
        ),
        aliases=_word_lists(raw.get("aliases", {}), "aliases", path),
        contexts=_word_lists(raw.get("contexts", {}), "contexts", path),
        grade_words=tuple(_words(raw.get("grade_words", []), "grade_words", path)),
        counts=_word_lists(raw.get("counts", {}), "counts", path),
        needs_context=tuple(_words(raw.get("needs_context", []), "needs_context", path)),
        source=path,
    )


def _text(raw: Mapping[str, Any], key: str, path: Path) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SpecError(path, key, "应为非空文本")
    return value


def _list(raw: Mapping[str, Any], key: str, path: Path) -> list[Any]:
    value = raw.get(key)
    if not isinstance(value, list) or not value:
        raise SpecError(path, key, "应为非空列表")
    return value


def _words(value: Any, where: str, path: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
        raise SpecError(path, where, "应为词语列表")
    return list(value)


def _word_lists(value: Any, where: str, path: Path) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise SpecError(path, where, "应为 字段键: [词语……] 的映射")
    return {str(k): tuple(_words(v, f"{where}.{k}", path)) for k, v in value.items()}


def _block(item: Any, where: str, path: Path) -> Block:
    if item == "page_break":
        return Block("page_break", path=where)
    if not isinstance(item, dict):
        raise SpecError(path, where, "应为映射，如 {heading: 一、单位基本情况, level: 1}")
    kinds = [k for k in BLOCK_KINDS if k in item]
    if len(kinds) != 1:
        raise SpecError(path, where, f"应恰有一个块类型：{'、'.join(BLOCK_KINDS)}")
    kind = kinds[0]
    known = {kind, "level", "lead", "align", "each", "part", "empty", "when", "columns"}
    unknown = sorted(set(item) - known)
    if unknown:
        raise SpecError(path, f"{where}.{unknown[0]}", "未知的键")
    level = item.get("level", 1)
    if not isinstance(level, int) or not 1 <= level <= 3:
        raise SpecError(path, f"{where}.level", "标题级别应为 1、2 或 3")
    when = item.get("when", [])
    when = [when] if isinstance(when, str) else when
    body = item[kind]
    if kind == "table":
        return Block(
            kind,
            table=str(body),
            columns=tuple(_words(item.get("columns", []), f"{where}.columns", path))
            if "columns" in item
            else (),
            when=tuple(_words(when, f"{where}.when", path)),
            path=where,
        )
    if not isinstance(body, str):
        raise SpecError(path, f"{where}.{kind}", "应为文本")
    return Block(
        kind,
        text=_joined(body),
        level=level,
        lead=str(item.get("lead", "")),
        align=str(item.get("align", "")),
        each=item.get("each"),
        part=item.get("part"),
        empty=_joined(str(item.get("empty", ""))),
        when=tuple(_words(when, f"{where}.when", path)),
        path=where,
    )


#: Spaces between two Chinese characters: what YAML's folded lines (>-) leave where a long
#: sentence was wrapped. Chinese has no spaces between words; spaces beside figures stay.
_FOLDED_SPACE = re.compile(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")


def _joined(text: str) -> str:
    return _FOLDED_SPACE.sub("", text.strip())


def table_sheets(layout: Layout) -> dict[str, TableBlock]:
    """The spec's tables by table key (projects → the 项目支出 table)."""
    return {b.key: b for b in spec_blocks(layout.spec, TableBlock)}


def scoring_block(spec: Spec) -> ScoringBlock | None:
    """The spec's 评分表 block, if it has one."""
    return next(iter(spec_blocks(spec, ScoringBlock)), None)


_ROW_KEY = re.compile(r"^(?P<table>[^\[]+)\[(?P<row>\d+)\]\.(?P<column>.+)$")


def filled_rows(values: Mapping[str, Any], sheet: TableBlock) -> list[int]:
    """The rows of a table a workbook fills (any column that is not computed holds a value), by
    their number in the workbook, rows inserted beyond the template's capacity included."""
    inputs = {c.key for c in sheet.columns if c.derive is None}
    rows = set()
    for key, value in values.items():
        match = _ROW_KEY.match(key)
        if (
            match
            and match["table"] == sheet.key
            and match["column"] in inputs
            and value not in (None, "")
        ):
            rows.add(int(match["row"]))
    return sorted(rows)


def _check_references(template: ReportTemplate, layout: Layout) -> None:
    """Every key the template names exists in the spec, so a draft never writes a dangling {key}."""
    source = template.source or template.template
    keys = layout.by_key
    tables = table_sheets(layout)
    scoring = scoring_block(layout.spec)
    parts = [p.key for p in scoring.parts] if scoring else []
    indicators = [i.key for p in scoring.parts for i in p.indicators] if scoring else []
    for kind in ("aliases", "contexts"):
        for key in getattr(template, kind):
            if key not in keys:
                raise SpecError(source, f"{kind}.{key}", f"模板 {template.template} 没有字段 {key}")
    for key in template.counts:
        if key not in tables:
            raise SpecError(source, f"counts.{key}", f"模板没有键为 {key} 的表格")
    for block in template.blocks:
        each = block.each
        if each is not None and each not in REPEATS and each not in tables:
            raise SpecError(
                source, f"{block.path}.each", f"只能是 {'、'.join((*REPEATS, *tables))}"
            )
        if block.part is not None and block.part not in parts:
            raise SpecError(source, f"{block.path}.part", f"评分表没有部分 {block.part}")
        if each in REPEATS and scoring is None:
            raise SpecError(source, f"{block.path}.each", "模板没有评分表")
        sample = {"parts": parts[:1], "deductions": indicators[:1]}.get(each or "", ["1"])
        item = sample[0] if sample else "1"
        for reference in [*REFERENCE.findall(block.text), *REFERENCE.findall(block.empty)]:
            _check_reference(reference, item, each, keys, tables, source, block.path)
        for key in block.when:
            if key not in keys:
                raise SpecError(source, f"{block.path}.when", f"没有字段 {key}")
        if block.kind == "table":
            if block.table != "scoring" and block.table not in tables:
                raise SpecError(source, f"{block.path}.table", f"没有表格 {block.table}")
            if block.table in tables:
                known = {c.key for c in tables[block.table].columns}
                for column in block.columns:
                    if column not in known:
                        raise SpecError(source, f"{block.path}.columns", f"表格没有列 {column}")


def _check_reference(
    reference: str,
    item: str,
    each: str | None,
    keys: Mapping[str, Any],
    tables: Mapping[str, TableBlock],
    source: Path | str,
    where: str,
) -> None:
    if reference in _ITEM_WORDS.get(each or "", ()):
        return
    if ":" in reference:
        verb, _, argument = reference.partition(":")
        table, _, column = argument.partition(".")
        columns = {c.key for c in tables[table].columns} if table in tables else set()
        if (verb == "count" and table in tables and not column) or (
            verb == "list" and column in columns
        ):
            return
        raise SpecError(source, where, f"无法识别的引用 {{{reference}}}")
    key = reference.replace("*", item)
    if "*" in reference and each is None:
        raise SpecError(source, where, f"{{{reference}}} 中的 * 只能用在 each 块里")
    if key not in keys:
        raise SpecError(source, where, f"引用了不存在的字段 {{{reference}}}")
