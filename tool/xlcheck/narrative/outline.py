"""Report templates: the outline, sentences and figure labels of a 自评报告, loaded from YAML data.

A report template belongs to one workbook template (spec) id and lives beside the specs, in
``workbook_templates/reports/<spec id>.yaml``; a bureau edits it as it edits a spec. Its sentences
name field keys in braces (``{budget_total}``); ``xlcheck report draft`` fills them from the
verified workbook and ``xlcheck report check`` reads its aliases to find figures in a report.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlcheck.errors import SpecError
from xlcheck.narrative.repeats import (
    Instance,
    indicator_blocks,
    repeats,
    scoring_block,
    table_sheets,
)
from xlcheck.spec import Spec
from xlcheck.spec_loading import builtin_spec_dirs

#: Block kinds a report template's outline may use (``blocks``: a group of blocks, repeated as
#: one with ``each``, e.g. a whole report part per project).
BLOCK_KINDS = ("title", "heading", "paragraph", "placeholder", "table", "page_break", "blocks")
#: What ``each:`` may repeat a block over, besides the key of a table, of an indicators block or
#: of a sheet written once per item.
REPEATS = ("parts", "deductions")
#: Placeholders in text: ``{field key}``, ``{count:table}``, ``{list:table.column}``, and in a
#: repeated block its item words (``{part}``, ``{indicator}`` …) and keys with ``*`` for the item.
REFERENCE = re.compile(r"\{([^{}]+)\}")
#: Text the unit must write, inside a sentence: ``[[财政局通知文号]]``.
UNIT_TEXT = re.compile(r"\[\[(.+?)\]\]")


@dataclass(frozen=True)
class Block:
    """One element of the outline (see the comment header of a report template).

    Attributes:
        kind: one of ``BLOCK_KINDS``.
        text: the sentence(s), with ``{…}`` references and ``[[…]]`` unit text.
        level: heading level (1–3).
        lead: bold words before a paragraph's text (机构设置：).
        align: ``center`` or empty.
        each: repeat the block per scoring part, per deduction, per filled row of a table or of an
            indicators block, or per instance of a sheet written once per item (``project``).
        part: only that 评分表 part's (``each: parts``/``deductions``), or that 一级指标's rows
            (``each: <indicators key>``/``deductions`` on an indicators block).
        empty: text written instead when ``each`` has nothing to repeat over.
        when: keys that must have values for the block to be written at all.
        table: for tables, a table's or a grid block's key, or ``scoring``.
        columns: for a table's or a grid's table, the column keys shown, in order.
        blocks: for ``blocks``, the blocks of the group.
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
    blocks: tuple[Block, ...] = ()
    path: str = ""


@dataclass(frozen=True)
class ReportTemplate:
    """A workbook template's report: outline to draft, and the words to find its figures by.

    Keys in ``aliases``, ``contexts`` and ``alt_bases`` may hold ``*`` for any one key segment
    (``project[*].funds.total.executed``: that field of every project; ``project[*].funds.*.rate``).

    Attributes:
        template: the spec id it belongs to.
        blocks: the outline, in order.
        aliases: field key → the other words reports use for it (the spec's label always counts).
        contexts: field key, or the key of a group of fields (a grid row such as
            ``project[*].funds.appropriation``) → words that, written before a figure, say it is
            this field's (年初预算 for the budget line 基本支出 against the spending figure 基本支出).
        grade_words: words that introduce a grade (自评等级为…, 自评优秀).
        counts: table key or repeat key → nouns counted ("主要支出项目…等 7 项").
        needs_context: aliases that name a field only after one of its context words (合计 is
            the budget total only in a paragraph about 年初预算).
        alt_bases: rate field key → other fields a report may wrongly divide by (执行率 on the
            年初预算数 instead of the 全年预算数), besides the spec's own ``alt_bases``; a ``[*]``
            in a base stands for the rate's own instance.
    """

    template: str
    blocks: tuple[Block, ...]
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    contexts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    grade_words: tuple[str, ...] = ()
    counts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    needs_context: tuple[str, ...] = ()
    alt_bases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source: Path | None = None


def key_pattern(pattern: str, *, group: bool = False) -> re.Pattern[str]:
    """A key with ``*`` (any one key segment) as a regular expression; ``group``: the key of a
    group of fields also matches the fields under it (``funds.total`` → ``funds.total.rate``)."""
    body = r"[^.]*".join(map(re.escape, pattern.split("*")))
    return re.compile(f"{body}(?:\\..+)?" if group else body)


def in_instance_of(pattern: str, key: str) -> str:
    """``pattern`` with its ``[*]`` standing for ``key``'s instance: ``project[*].funds.total.initial``
    beside ``project[2].funds.total.rate`` is ``project[2].funds.total.initial``."""
    instance = re.match(r"[^\[.]+\[\d+\]", key)
    if "[*]" not in pattern or instance is None:
        return pattern
    return pattern.replace(pattern.partition("[*]")[0] + "[*]", instance.group(0), 1)


@dataclass(frozen=True)
class Binding:
    """What a block's references stand for in one repetition of its ``each``.

    Attributes:
        star: what ``*`` stands for: the instance's number, a table's row number, an indicator
            row's key (``project[1].indicators.quantity[2]``, so ``{*.score}``), a part's or a
            评分表 indicator's key (``{subtotal.*}``).
        words: the item words (``{part}``, ``{indicator}``, ``{deducted}``, ``{number}`` …).
        instance: the instance of a sheet written once per item the block is inside of: its
            ``{project[*].…}`` keys are that instance's, in nested repetitions too.
    """

    star: str | None = None
    words: Mapping[str, str] = field(default_factory=dict)
    instance: Instance | None = None

    def key(self, reference: str) -> str:
        """The field key ``reference`` names in this repetition."""
        if self.instance is not None:
            own = f"{self.instance.repeat}[*]."
            if reference.startswith(own):
                reference = self.instance.prefix + reference[len(own) :]
        return reference.replace("*", self.star) if self.star is not None else reference


def alt_bases_of(template: ReportTemplate, keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The template's ``alt_bases`` for the rate fields among ``keys``, each base in the rate's
    own instance (``project[2].funds.total.rate`` → ``project[2].funds.total.initial``)."""
    found: dict[str, tuple[str, ...]] = {}
    for pattern, bases in template.alt_bases.items():
        regex = key_pattern(pattern)
        for key in keys:
            if regex.fullmatch(key):
                found[key] = (*found.get(key, ()), *(in_instance_of(b, key) for b in bases))
    return found


def each_kind(spec: Spec, each: str) -> str | None:
    """What ``each: <each>`` repeats over in ``spec``: ``parts``, ``deductions``, ``instances``,
    ``table`` or ``indicators``; None when the spec has nothing of that name."""
    if each in REPEATS:
        return each
    if each in repeats(spec):
        return "instances"
    if each in indicator_blocks(spec):
        return "indicators"
    if each in table_sheets(spec):
        return "table"
    return None


def deduction_source(spec: Spec) -> str:
    """Where ``each: deductions`` finds its indicators: the 评分表, else an indicators block."""
    return "scoring" if scoring_block(spec) is not None else "indicators"


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
    from xlcheck.narrative.outline_references import check_references

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
    check_references(template, spec)
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
        blocks=_blocks(_list(raw, "outline", path), "outline", path),
        aliases=_word_lists(raw.get("aliases", {}), "aliases", path),
        contexts=_word_lists(raw.get("contexts", {}), "contexts", path),
        grade_words=tuple(_words(raw.get("grade_words", []), "grade_words", path)),
        counts=_word_lists(raw.get("counts", {}), "counts", path),
        needs_context=tuple(_words(raw.get("needs_context", []), "needs_context", path)),
        alt_bases=_word_lists(raw.get("alt_bases", {}), "alt_bases", path),
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


def _blocks(items: list[Any], where: str, path: Path) -> tuple[Block, ...]:
    return tuple(_block(item, f"{where}[{i}]", path) for i, item in enumerate(items))


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
    when = tuple(_words([when] if isinstance(when, str) else when, f"{where}.when", path))
    body = item[kind]
    each = item.get("each")
    if each is not None and not isinstance(each, str):
        raise SpecError(path, f"{where}.each", "应为文本")
    if kind == "blocks":
        if not isinstance(body, list) or not body:
            raise SpecError(path, f"{where}.blocks", "应为非空的块列表")
        return Block(
            kind, each=each, when=when, blocks=_blocks(body, f"{where}.blocks", path), path=where
        )
    if kind == "table":
        return Block(
            kind,
            table=str(body),
            columns=tuple(_words(item.get("columns", []), f"{where}.columns", path))
            if "columns" in item
            else (),
            when=when,
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
        each=each,
        part=item.get("part"),
        empty=_joined(str(item.get("empty", ""))),
        when=when,
        path=where,
    )


#: Spaces between two Chinese characters: what YAML's folded lines (>-) leave where a long
#: sentence was wrapped. Chinese has no spaces between words; spaces beside figures stay.
_FOLDED_SPACE = re.compile(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")


def _joined(text: str) -> str:
    return _FOLDED_SPACE.sub("", text.strip())
